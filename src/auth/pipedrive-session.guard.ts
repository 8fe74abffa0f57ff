import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { PipedriveSession } from './pipedrive-session.js';

/** Where the guard leaves the verified connection id for {@link PipedriveConnectionId}. */
export const PIPEDRIVE_CONNECTION_ID = Symbol('PIPEDRIVE_CONNECTION_ID');

export type RequestWithConnection = IncomingMessage & { [PIPEDRIVE_CONNECTION_ID]?: string };

/**
 * Lets a request through only with a valid session cookie (set by the OAuth callback), and
 * exposes its connection id to `@PipedriveConnectionId()`. Otherwise 401
 * `{ error: 'session_required' | 'invalid_session' }`. The cookie is verified without a database
 * read; a connection revoked since then surfaces as 401 `reauthorization_required` on first use.
 */
@Injectable()
export class PipedriveSessionGuard implements CanActivate {
  constructor(private readonly session: PipedriveSession) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<RequestWithConnection>();
    const connectionId = this.session.connectionIdOf(request);
    if (connectionId === undefined) {
      throw this.session.hasCookie(request)
        ? PipedriveAuthException.of(401, 'invalid_session', 'The Pipedrive session is invalid or expired; connect again.')
        : PipedriveAuthException.of(401, 'session_required', 'No Pipedrive session; connect at /auth/pipedrive first.');
    }
    request[PIPEDRIVE_CONNECTION_ID] = connectionId;
    return true;
  }
}
