import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { TokenService } from '../tokens/token.service.js';
import { assertSameOrigin } from './pipedrive-same-origin.guard.js';
import { PipedriveSession, type PipedriveSessionFailure } from './pipedrive-session.js';

/** Where the guard leaves the verified connection id for {@link PipedriveConnectionId}. */
export const PIPEDRIVE_CONNECTION_ID = Symbol('PIPEDRIVE_CONNECTION_ID');

export type RequestWithConnection = IncomingMessage & { [PIPEDRIVE_CONNECTION_ID]?: string };

/**
 * Lets a request through only with a valid session cookie (set by the OAuth callback) whose connection
 * can still be used, and exposes its connection id to `@PipedriveConnectionId()`. Otherwise it answers on
 * its own, no exception filter needed: 403 `cross_site_request` (a state-changing request from another
 * site, see PipedriveSameOriginGuard), 401 `session_required` | `invalid_session` (no, tampered or expired
 * cookie), 401 `session_ended` (the user authorized again since the cookie was issued), 401
 * `reauthorization_required` (disconnected, uninstalled or refused by Pipedrive), 401 `connection_not_found`
 * (the last three clear the cookie), 503 `storage_unavailable` (database down) or 502 `token_refresh_failed`.
 * "Can still be used" is what TokenService.getAccessToken says: a token held in memory needs no database
 * read (and keeps working while the database is down); otherwise the stored connection is read, and
 * refreshed if due, as the handler's first call through PipedriveClient would.
 */
@Injectable()
export class PipedriveSessionGuard implements CanActivate {
  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    private readonly session: PipedriveSession,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithConnection>();
    assertSameOrigin(request, this.options.allowedOrigins);
    let connectionId: string;
    try {
      const check = await this.session.check(request);
      if (!check.ok) {
        // A cookie that can never work again goes; a tampered one may not even be ours to clear.
        if (check.reason !== 'missing' && check.reason !== 'invalid') {
          this.session.end(context.switchToHttp().getResponse<ServerResponse>());
        }
        throw refusal(check.reason);
      }
      connectionId = check.connectionId;
      await this.tokens.getAccessToken(connectionId);
    } catch (error) {
      throw PipedriveAuthException.from(error);
    }
    request[PIPEDRIVE_CONNECTION_ID] = connectionId;
    return true;
  }
}

function refusal(reason: PipedriveSessionFailure): PipedriveAuthException {
  switch (reason) {
    case 'missing':
      return PipedriveAuthException.of(401, 'session_required', 'No Pipedrive session; connect at /auth/pipedrive first.');
    case 'invalid':
      return PipedriveAuthException.of(401, 'invalid_session', 'The Pipedrive session is invalid or expired; connect again.');
    case 'not_found':
      return PipedriveAuthException.of(401, 'connection_not_found', 'No Pipedrive connection for this session; connect again.');
    case 'revoked':
      return PipedriveAuthException.of(
        401,
        'reauthorization_required',
        'This Pipedrive connection was disconnected or uninstalled; connect again.',
      );
    case 'ended':
      return PipedriveAuthException.of(
        401,
        'session_ended',
        'This Pipedrive session has ended (disconnected or connected again); connect again.',
      );
  }
}
