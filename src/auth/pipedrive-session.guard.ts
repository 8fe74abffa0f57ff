import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { PipedriveConnectionNotFoundError, PipedriveReauthorizationRequiredError } from '../errors/pipedrive.errors.js';
import { TokenService } from '../tokens/token.service.js';
import { PipedriveSession } from './pipedrive-session.js';

/** Where the guard leaves the verified connection id for {@link PipedriveConnectionId}. */
export const PIPEDRIVE_CONNECTION_ID = Symbol('PIPEDRIVE_CONNECTION_ID');

export type RequestWithConnection = IncomingMessage & { [PIPEDRIVE_CONNECTION_ID]?: string };

/**
 * Lets a request through only with a valid session cookie (set by the OAuth callback) whose connection
 * is still connected, and exposes its connection id to `@PipedriveConnectionId()`. Otherwise it answers
 * on its own, no exception filter needed: 401 `session_required` | `invalid_session` (no, tampered or
 * expired cookie), 401 `reauthorization_required` (disconnected, uninstalled or refused by Pipedrive),
 * 401 `connection_not_found`, or 503 `storage_unavailable` when the database cannot be read.
 */
@Injectable()
export class PipedriveSessionGuard implements CanActivate {
  constructor(
    private readonly session: PipedriveSession,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithConnection>();
    const connectionId = this.session.connectionIdOf(request);
    if (connectionId === undefined) {
      throw this.session.hasCookie(request)
        ? PipedriveAuthException.of(401, 'invalid_session', 'The Pipedrive session is invalid or expired; connect again.')
        : PipedriveAuthException.of(401, 'session_required', 'No Pipedrive session; connect at /auth/pipedrive first.');
    }
    try {
      await this.assertConnected(connectionId);
    } catch (error) {
      throw PipedriveAuthException.from(error);
    }
    request[PIPEDRIVE_CONNECTION_ID] = connectionId;
    return true;
  }

  /** The cookie outlives a disconnect or uninstall; the stored connection says whether it may still be used. */
  private async assertConnected(connectionId: string): Promise<void> {
    const connection = await this.tokens.findConnection(connectionId);
    if (!connection) throw new PipedriveConnectionNotFoundError(`connection ${connectionId}`);
    if (connection.status === 'revoked') throw new PipedriveReauthorizationRequiredError(connectionId, 'revoked');
    if (connection.status === 'reauthorization_required') {
      throw new PipedriveReauthorizationRequiredError(connectionId, 'invalid_grant');
    }
  }
}
