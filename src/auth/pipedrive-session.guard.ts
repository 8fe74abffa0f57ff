import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { TokenService } from '../tokens/token.service.js';
import { PipedriveSession } from './pipedrive-session.js';

/** Where the guard leaves the verified connection id for {@link PipedriveConnectionId}. */
export const PIPEDRIVE_CONNECTION_ID = Symbol('PIPEDRIVE_CONNECTION_ID');

export type RequestWithConnection = IncomingMessage & { [PIPEDRIVE_CONNECTION_ID]?: string };

/**
 * Lets a request through only with a valid session cookie (set by the OAuth callback) whose connection
 * can still be used, and exposes its connection id to `@PipedriveConnectionId()`. Otherwise it answers on
 * its own, no exception filter needed: 401 `session_required` | `invalid_session` (no, tampered or expired
 * cookie), 401 `reauthorization_required` (disconnected, uninstalled or refused by Pipedrive), 401
 * `connection_not_found`, 503 `storage_unavailable` (database down) or 502 `token_refresh_failed`.
 * "Can still be used" is what TokenService.getAccessToken says: a token held in memory needs no database
 * read (and keeps working while the database is down); otherwise the stored connection is read, and
 * refreshed if due, as the handler's first call through PipedriveClient would.
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
      // The cookie outlives a disconnect or uninstall: only the connection says whether it may still be used.
      await this.tokens.getAccessToken(connectionId);
    } catch (error) {
      throw PipedriveAuthException.from(error);
    }
    request[PIPEDRIVE_CONNECTION_ID] = connectionId;
    return true;
  }
}
