import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OAuth2, type oauth2tokenCallback } from 'oauth';
import passport from 'passport';
import {
  AuthorizationError,
  InternalOAuthError,
  Strategy as OAuth2Strategy,
  type StrategyOptions,
  type VerifyFunction,
} from 'passport-oauth2';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveOAuthClient } from '../tokens/pipedrive-oauth.client.js';
import type { PipedriveTokenSet } from '../tokens/pipedrive-token.types.js';
import { PipedriveStateStore, type PipedriveStateFailure } from './pipedrive-state.store.js';

/**
 * passport-oauth2 fitted to Pipedrive: the one file that knows passport's ways. Everything here goes
 * through passport-oauth2's extension points: a subclass of its strategy, its options (`store`,
 * `skipUserProfile`) and its protected `_oauth2` client, set once at construction to a subclass of
 * node-oauth's OAuth2 whose code exchange is PipedriveOAuthClient.
 */

type PassportRequest = IncomingMessage & { query?: Record<string, unknown>; body?: unknown };

let instances = 0;

/**
 * node-oauth's client with the code exchange done by PipedriveOAuthClient: HTTP Basic client
 * authentication and a form body, as Pipedrive requires (node-oauth would put the client secret in the
 * body), typed errors, and the parsed token set handed to passport-oauth2 as the token answer.
 */
class PipedriveCodeExchange extends OAuth2 {
  constructor(
    options: ResolvedPipedriveOptions,
    private readonly tokenEndpoint: PipedriveOAuthClient,
  ) {
    super(options.clientId, options.clientSecret, '', authorizeUrl(options), tokenUrl(options));
  }

  // passport-oauth2 always passes (code, params, callback); redirect_uri comes from our options.
  override getOAuthAccessToken(code: string, _params: unknown, callback?: oauth2tokenCallback): void {
    const done = callback as unknown as (error: unknown, access?: string, refresh?: string, tokens?: PipedriveTokenSet) => void;
    this.tokenEndpoint.exchangeCode(code).then(
      (tokens) => done(null, tokens.accessToken, tokens.refreshToken, tokens),
      (error: unknown) => done(error),
    );
  }
}

interface PipedriveStrategyOptions extends StrategyOptions {
  /** Name under which passport knows this instance; unique per module instance. */
  name: string;
  codeExchange: OAuth2;
}

/** passport-oauth2's strategy with its name and code exchange given at construction. */
class PipedriveOAuth2Strategy extends OAuth2Strategy {
  constructor(options: PipedriveStrategyOptions, verify: VerifyFunction) {
    super(options, verify);
    this.name = options.name;
    this._oauth2 = options.codeExchange;
  }
}

/**
 * The Pipedrive strategy of one PipedriveAuthModule instance (`@nestjs/passport` wrapping
 * passport-oauth2). No `scope` (Pipedrive sets scopes per app); state through {@link PipedriveStateStore};
 * no user profile (identity needs `api_domain`, which passport's profile step never sees). Each instance
 * registers with passport under its own name, so several modules (or apps) in one process never serve
 * each other's requests.
 */
@Injectable()
export class PipedriveStrategy extends PassportStrategy(PipedriveOAuth2Strategy, undefined, 5) implements OnModuleDestroy {
  constructor(
    @InjectPipedriveOptions() options: ResolvedPipedriveOptions,
    stateStore: PipedriveStateStore,
    tokenEndpoint: PipedriveOAuthClient,
  ) {
    super({
      name: `pipedrive#${++instances}`,
      authorizationURL: authorizeUrl(options),
      tokenURL: tokenUrl(options),
      clientID: options.clientId,
      clientSecret: options.clientSecret,
      callbackURL: options.redirectUri,
      store: stateStore as unknown as StrategyOptions['store'],
      skipUserProfile: true,
      codeExchange: new PipedriveCodeExchange(options, tokenEndpoint),
    });
  }

  /** passport-oauth2's verify step: the token answer (the parsed token set) is the outcome. */
  validate(_accessToken: string, _refreshToken: string, tokens: PipedriveTokenSet): PipedriveTokenSet {
    return tokens;
  }

  /**
   * Sends the browser to Pipedrive's authorize page with a fresh state bound to it. Resolves once
   * the redirect is sent. A request that carries Pipedrive's answer is refused (400 `invalid_request`):
   * passport would treat it as a callback, and only the callback route completes a flow.
   */
  redirectToPipedrive(request: PassportRequest, response: ServerResponse): Promise<void> {
    if (carriesAnswer(request)) {
      const message = "This route starts a Pipedrive connection; Pipedrive's answer (code or error) belongs at the callback URL.";
      return Promise.reject(PipedriveAuthException.of(400, 'invalid_request', message));
    }
    return new Promise((resolve, reject) => {
      const sent = () => resolve();
      response.once('finish', sent).once('close', sent);
      passport.authenticate(this.name, { session: false }, (error: unknown) => {
        response.off('finish', sent).off('close', sent);
        reject(error ?? new Error('passport-oauth2 answered a start request without redirecting'));
      })(request, response, reject);
    });
  }

  /**
   * At the callback: checks the state (PipedriveStateStore) and exchanges the code (PipedriveOAuthClient).
   * Rejects with PipedriveAuthException for a refused state (403 `invalid_state`), a denial (403
   * `user_denied`) or a callback without an answer (400 `invalid_request`); with the library error of
   * the token endpoint or database otherwise.
   */
  exchangeCode(request: PassportRequest, response: ServerResponse): Promise<PipedriveTokenSet> {
    if (!carriesAnswer(request)) {
      const message = 'The callback carries neither a code nor an error; start the connection again.';
      return Promise.reject(PipedriveAuthException.of(400, 'invalid_request', message));
    }
    return new Promise((resolve, reject) => {
      const outcome = (error: unknown, tokens: PipedriveTokenSet | false, info: unknown) =>
        tokens ? resolve(tokens) : reject(refusal(error, info));
      passport.authenticate(this.name, { session: false }, outcome)(request, response, reject);
    });
  }

  onModuleDestroy(): void {
    passport.unuse(this.name);
  }
}

/** Whether the request carries Pipedrive's answer (`code` or `error`): passport-oauth2 then takes it for a callback. */
export function carriesAnswer(request: PassportRequest): boolean {
  const { code, error } = { ...request.query, ...(request.body as object | undefined) } as Record<string, unknown>;
  return (code !== undefined && code !== '') || (error !== undefined && error !== '');
}

/** What passport-oauth2 reports for a callback that did not end in tokens, as the library's errors. */
export function refusal(error: unknown, info: unknown): unknown {
  if (error instanceof AuthorizationError) {
    // Pipedrive's own code (`user_denied`); only echoed when it is a plain identifier.
    const code = /^[a-z_]{1,64}$/.test(error.code) ? error.code : 'authorization_error';
    const denied = code === 'user_denied' || code === 'access_denied';
    const message = denied ? 'The user declined to connect Pipedrive.' : `Pipedrive refused the authorization (${code}).`;
    return PipedriveAuthException.of(denied ? 403 : 400, code, message);
  }
  // The token endpoint's own error (PipedriveTokenEndpointError) travels as the cause.
  if (error instanceof InternalOAuthError) return error.oauthError;
  if (error) return error;
  const failure = info as Partial<PipedriveStateFailure> | undefined;
  if (failure?.code === 'invalid_state') return PipedriveAuthException.of(403, 'invalid_state', failure.message!);
  // passport-oauth2 reports `?error=access_denied` as a plain failure.
  return PipedriveAuthException.of(403, 'access_denied', 'The user declined to connect Pipedrive.');
}

function authorizeUrl(options: ResolvedPipedriveOptions): string {
  return `${options.oauthBaseUrl}/oauth/authorize`;
}

function tokenUrl(options: ResolvedPipedriveOptions): string {
  return `${options.oauthBaseUrl}/oauth/token`;
}
