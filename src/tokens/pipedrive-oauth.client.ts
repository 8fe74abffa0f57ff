import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import { isTrustedApiDomain, type ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveTokenEndpointError } from '../errors/pipedrive.errors.js';
import type { PipedriveTokenSet } from './pipedrive-token.types.js';
import { oauthErrorOf, parseTokenAnswer } from './token-response.parser.js';

type Grant = PipedriveTokenEndpointError['details']['grant'];
interface Answer {
  status: number;
  body: unknown;
}

/**
 * Pipedrive's token endpoint: code exchange, refresh, revoke. Form bodies and HTTP Basic client
 * authentication, as Pipedrive requires. Errors carry status and OAuth error code, never a token.
 */
@Injectable()
export class PipedriveOAuthClient implements OnModuleDestroy {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000 });
  private readonly basic: string;

  constructor(@InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions) {
    this.basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
  }

  /** Trades an authorization code for tokens (`redirect_uri` must match the authorize call). */
  async exchangeCode(code: string): Promise<PipedriveTokenSet> {
    const params = { grant_type: 'authorization_code', code, redirect_uri: this.options.redirectUri };
    return this.tokens('authorization_code', await this.post('/oauth/token', 'authorization_code', params));
  }

  /** Gets a new access token; Pipedrive returns the same refresh token with its window extended. */
  async refresh(refreshToken: string): Promise<PipedriveTokenSet> {
    const params = { grant_type: 'refresh_token', refresh_token: refreshToken };
    return this.tokens('refresh_token', await this.post('/oauth/token', 'refresh_token', params), refreshToken);
  }

  /** RFC 7009 revoke; revoking the refresh token uninstalls the app for that user. */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void> {
    const answer = await this.post('/oauth/revoke', 'revoke', { token, token_type_hint: hint });
    if (answer.status >= 300) throw failure('revoke', answer);
  }

  /** Closes the connection pool to the token endpoint. */
  async onModuleDestroy(): Promise<void> {
    if (!this.agent.closed && !this.agent.destroyed) await this.agent.close();
  }

  private tokens(grant: Grant, answer: Answer, previousRefreshToken?: string): PipedriveTokenSet {
    if (answer.status >= 300) throw failure(grant, answer);
    const parsed = parseTokenAnswer(answer.body, previousRefreshToken);
    if ('problem' in parsed) {
      throw new PipedriveTokenEndpointError(`Pipedrive's ${ENDPOINT[grant]} sent an ${parsed.problem}.`, {
        grant,
        status: answer.status,
        transient: true,
      });
    }
    // The bearer token goes wherever api_domain points: a hijacked or spoofed answer must not pick that place.
    if (!isTrustedApiDomain(parsed.tokens.apiDomain, this.options)) {
      throw new PipedriveTokenEndpointError(
        `Pipedrive's ${ENDPOINT[grant]} named an api_domain this app does not trust; nothing was stored. ` +
          'If that origin is yours, add it to the allowedApiDomains option.',
        { grant, status: answer.status, transient: false },
      );
    }
    return parsed.tokens;
  }

  private async post(path: string, grant: Grant, params: Record<string, string>): Promise<Answer> {
    const timeout = this.options.tokenRequestTimeoutMs;
    try {
      const { statusCode, body } = await request(new URL(path, this.options.oauthBaseUrl), {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          authorization: `Basic ${this.basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(timeout),
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = await body.text();
      return { status: statusCode, body: parseJson(text) };
    } catch (error) {
      throw networkFailure(grant, error);
    }
  }
}

/** Messages name the call in words: `refresh_token` in a message reads like a leaked field. */
const ENDPOINT: Record<Grant, string> = {
  authorization_code: 'token endpoint (code exchange)',
  refresh_token: 'token endpoint (refresh)',
  revoke: 'revoke endpoint',
};

const UNREADABLE = Symbol('unreadable');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return UNREADABLE;
  }
}

/** 5xx, 408, 429 and unreadable answers are worth retrying later; other 4xx are not. */
function failure(grant: Grant, { status, body }: Answer): PipedriveTokenEndpointError {
  const oauthError = oauthErrorOf(body);
  const transient = status >= 500 || status === 408 || status === 429 || (!oauthError && body === UNREADABLE);
  const what = oauthError ? `${status} ${oauthError}` : `HTTP ${status}`;
  return new PipedriveTokenEndpointError(`Pipedrive's ${ENDPOINT[grant]} answered ${what}.`, {
    grant,
    status,
    oauthError,
    transient,
  });
}

function networkFailure(grant: Grant, error: unknown): PipedriveTokenEndpointError {
  const e = error as { name?: string; code?: string };
  const timedOut = e?.name === 'TimeoutError' || /TIMEOUT/.test(e?.code ?? '');
  const what = timedOut ? 'timed out' : `failed (${e?.code ?? e?.name ?? 'network error'})`;
  // The cause is undici's own error: it names the socket problem and holds no request body.
  return new PipedriveTokenEndpointError(
    `Pipedrive's ${ENDPOINT[grant]} ${what}.`,
    { grant, transient: true },
    {
      cause: error,
    },
  );
}
