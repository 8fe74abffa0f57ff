import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import type { PipedriveConnection } from '../tokens/pipedrive-token.types.js';
import { TokenService } from '../tokens/token.service.js';
import { PipedriveIdentityFetcher } from './pipedrive-identity.js';
import { PipedriveStrategy } from './pipedrive-passport.adapter.js';
import { PipedriveSession } from './pipedrive-session.js';

/** Work to do once a user has connected, before the browser gets its answer; throwing fails the request. */
export type PipedriveAfterConnect = (connection: PipedriveConnection) => Promise<void> | void;

/**
 * Connecting a Pipedrive user, from the two routes of the OAuth flow. Used by PipedriveAuthController
 * and PipedriveAuthGuard; inject it to write those routes yourself (`controller: false`).
 * Failures are PipedriveAuthException (an HttpException: `{ statusCode, error, message }`, or a
 * redirect to `failureRedirect?error=<code>` where PipedriveExceptionFilter is installed).
 */
@Injectable()
export class PipedriveConnectService {
  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    private readonly strategy: PipedriveStrategy,
    private readonly identity: PipedriveIdentityFetcher,
    private readonly tokens: TokenService,
    private readonly session: PipedriveSession,
  ) {}

  /** The start route: 302 to Pipedrive's authorize page, with a fresh state bound to this browser by a cookie. */
  async start(request: Request, response: Response): Promise<void> {
    try {
      await this.strategy.redirectToPipedrive(request, response);
    } catch (error) {
      throw PipedriveAuthException.from(error, this.options.failureRedirect);
    }
  }

  /**
   * The callback route, in order: check the state and exchange the code (passport-oauth2), ask Pipedrive
   * who authorized, store the connection, run `afterConnect`, set the session cookie. Nothing is stored
   * unless the state, the exchange and the identity all passed; no session is set if `afterConnect` throws.
   */
  async complete(request: Request, response: Response, afterConnect?: PipedriveAfterConnect): Promise<PipedriveConnection> {
    let connection: PipedriveConnection;
    try {
      const tokens = await this.strategy.exchangeCode(request, response);
      const identity = await this.identity.fetch(tokens.apiDomain, tokens.accessToken);
      connection = await this.tokens.saveConnection(identity, tokens);
    } catch (error) {
      throw PipedriveAuthException.from(error, this.options.failureRedirect);
    }
    await afterConnect?.(connection);
    this.session.start(response, connection.id);
    return connection;
  }
}
