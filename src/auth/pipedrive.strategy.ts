import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy, type StrategyOptions } from 'passport-oauth2';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveOAuthClient } from '../tokens/pipedrive-oauth.client.js';
import type { PipedriveConnection, PipedriveTokenSet } from '../tokens/pipedrive-token.types.js';
import { TokenService } from '../tokens/token.service.js';
import { PipedriveIdentityFetcher } from './pipedrive-identity.js';
import { PipedriveStateStore } from './pipedrive-state.store.js';

/** Request property naming the strategy instance that must serve the request (set by PipedriveAuthGuard). */
export const PIPEDRIVE_STRATEGY = Symbol('PIPEDRIVE_STRATEGY');

type ActionFunctions = Pick<Strategy, 'success' | 'fail' | 'redirect' | 'pass' | 'error'>;
type ExchangeCallback = (error: unknown, accessToken?: string, refreshToken?: string, tokens?: PipedriveTokenSet) => void;

/**
 * passport-oauth2 configured for Pipedrive, registered as `'pipedrive'`. No `scope` (Pipedrive sets
 * scopes per app); state through `PipedriveStateStore`; the code exchange goes through
 * PipedriveOAuthClient (HTTP Basic + form body, typed errors) instead of node-oauth, which would put
 * the client secret in the body. The user is the stored {@link PipedriveConnection}.
 */
@Injectable()
export class PipedriveStrategy extends PassportStrategy(Strategy, 'pipedrive', 5) {
  constructor(
    @InjectPipedriveOptions() options: ResolvedPipedriveOptions,
    stateStore: PipedriveStateStore,
    private readonly oauthClient: PipedriveOAuthClient,
    private readonly identity: PipedriveIdentityFetcher,
    private readonly tokens: TokenService,
  ) {
    super({
      authorizationURL: `${options.oauthBaseUrl}/oauth/authorize`,
      tokenURL: `${options.oauthBaseUrl}/oauth/token`,
      clientID: options.clientId,
      clientSecret: options.clientSecret,
      callbackURL: options.redirectUri,
      store: stateStore as unknown as StrategyOptions['store'],
      // Identity needs api_domain from the token answer, which userProfile() never sees: see validate().
      skipUserProfile: true,
    });
    const exchange = (code: string, _params: unknown, callback: ExchangeCallback) => {
      this.oauthClient.exchangeCode(code).then(
        (tokenSet) => callback(null, tokenSet.accessToken, tokenSet.refreshToken, tokenSet),
        (error: unknown) => callback(error),
      );
    };
    this._oauth2.getOAuthAccessToken = exchange as typeof this._oauth2.getOAuthAccessToken;
  }

  /** Called by passport-oauth2 after the code exchange; `tokens` is the parsed token answer. */
  async validate(_accessToken: string, _refreshToken: string, tokens: PipedriveTokenSet): Promise<PipedriveConnection> {
    const identity = await this.identity.fetch(tokens.apiDomain, tokens.accessToken);
    return this.tokens.saveConnection(identity, tokens);
  }

  /**
   * passport keeps one strategy per name per process; when several apps or module instances
   * share a process, the guard names the instance that belongs to the request's module.
   */
  override authenticate(req: Request, options?: object): void {
    const owner = (req as Request & { [PIPEDRIVE_STRATEGY]?: PipedriveStrategy })[PIPEDRIVE_STRATEGY];
    if (owner && owner !== this && !Object.prototype.isPrototypeOf.call(owner, this)) {
      const { success, fail, redirect, pass, error } = this as ActionFunctions;
      const bound: PipedriveStrategy = Object.assign(Object.create(owner), { success, fail, redirect, pass, error });
      return bound.authenticate(req, options);
    }
    super.authenticate(req, options);
  }
}
