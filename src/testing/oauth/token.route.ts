import { STATUS_CODES } from 'node:http';
import { authenticateClient, isAnswer, parseForm } from './client-auth.js';
import type { Delayer } from '../delayer.js';
import type { PipedriveEmulatorClient } from '../emulator.options.js';
import type { PipedriveEmulatorTokenAnswer, PipedriveEmulatorTokenFault } from '../emulator.types.js';
import type { FaultPlan, TokenGrantType } from '../fault-plan.js';
import type { Exchange } from '../http-exchange.js';
import { invalidGrant, invalidRequest, oauthError, type OAuthAnswer } from './oauth-answers.js';
import type { RequestLog } from '../request-log.js';
import type { IssuedTokens, Owner, TokenStore } from './token.store.js';

export interface TokenRouteDeps {
  tokens: TokenStore;
  faults: FaultPlan;
  log: RequestLog;
  delayer: Delayer;
  /** `api_domain` for the company at the moment of answering. */
  apiDomain: (companyId: number) => string;
}

/** `POST /oauth/token`: code exchange and refresh, strict about form body and HTTP Basic. */
export class TokenRoute {
  constructor(private readonly deps: TokenRouteDeps) {}

  async handle(ex: Exchange): Promise<void> {
    const { faults, log, delayer } = this.deps;
    const form = parseForm(ex, await ex.readBody());
    const grant = grantType(form?.get('grant_type'));
    // Counted on receipt, so concurrent refreshes are visible even while latency holds their answers.
    if (grant === 'authorization_code') log.counts.authorizationCode++;
    if (grant === 'refresh_token') log.counts.refreshToken++;
    const fault = faults.takeToken(grant);
    const answer = fault === undefined ? this.decide(ex, form, grant) : faultAnswer(fault, grant);
    if (typeof answer !== 'object' || answer.status !== 200) log.counts.tokenErrors++;
    delayer.run(faults.latency.tokenLatencyMs, () => send(ex, answer));
  }

  /** Decides, and changes state, at receipt; latency only delays the answer. */
  private decide(ex: Exchange, form: URLSearchParams | undefined, grant: TokenGrantType | undefined): OAuthAnswer {
    const client = authenticateClient(ex, form, this.deps.tokens);
    if (isAnswer(client)) return client;
    const type = form!.get('grant_type');
    if (!type) return invalidRequest('missing parameter grant_type');
    if (grant === 'authorization_code') return this.exchangeCode(form!, client);
    if (grant === 'refresh_token') return this.refresh(form!, client);
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${type.slice(0, 40)}`);
  }

  private exchangeCode(form: URLSearchParams, client: Required<PipedriveEmulatorClient>): OAuthAnswer {
    const code = form.get('code');
    const redirectUri = form.get('redirect_uri');
    if (!code) return invalidRequest('missing parameter code');
    if (!redirectUri) return invalidRequest('missing parameter redirect_uri');
    const grant = this.deps.tokens.takeCode(code);
    if (!grant || grant.clientId !== client.clientId) return invalidGrant('authorization code is invalid');
    if (grant.redirectUri !== redirectUri) return invalidGrant('redirect_uri does not match the one used to authorize');
    return this.tokensAnswer(grant, this.deps.tokens.issue(grant));
  }

  private refresh(form: URLSearchParams, client: Required<PipedriveEmulatorClient>): OAuthAnswer {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return invalidRequest('missing parameter refresh_token');
    const issued = this.deps.tokens.refreshFor(refreshToken, client.clientId);
    const owner = issued && this.deps.tokens.ownerOf(issued.refreshToken);
    return owner ? this.tokensAnswer(owner, issued) : invalidGrant('refresh token is invalid');
  }

  private tokensAnswer(owner: Owner, issued: IssuedTokens): OAuthAnswer {
    const headers = { 'cache-control': 'no-store', pragma: 'no-cache' };
    return { status: 200, body: tokenAnswer(issued, this.deps.apiDomain(owner.companyId)), headers };
  }
}

export function tokenAnswer(issued: IssuedTokens, apiDomain: string): PipedriveEmulatorTokenAnswer {
  return {
    access_token: issued.accessToken,
    token_type: 'Bearer',
    refresh_token: issued.refreshToken,
    scope: issued.scope,
    expires_in: issued.expiresIn,
    api_domain: apiDomain,
  };
}

function grantType(value: string | null | undefined): TokenGrantType | undefined {
  return value === 'authorization_code' || value === 'refresh_token' ? value : undefined;
}

/** An armed fault as an answer; a failing server changes no state (the code stays usable). */
function faultAnswer(fault: PipedriveEmulatorTokenFault, grant: TokenGrantType | undefined): OAuthAnswer | 'reset' | 'garbage' {
  if (fault === 'reset' || fault === 'garbage') return fault;
  if (fault === 'invalid_grant') {
    return invalidGrant(grant === 'authorization_code' ? 'authorization code is invalid' : 'refresh token is invalid');
  }
  const error = fault === 401 ? 'invalid_client' : fault >= 500 ? 'server_error' : 'invalid_request';
  return oauthError(fault, error, STATUS_CODES[fault] ?? 'Error');
}

function send(ex: Exchange, answer: OAuthAnswer | 'reset' | 'garbage'): void {
  if (answer === 'reset') return ex.reset();
  // A proxy error page with a JSON content type: the client must survive a body that does not parse.
  if (answer === 'garbage') {
    return ex.send(200, '<html><body>502 Bad Gateway</body></html>', { 'content-type': 'application/json' });
  }
  ex.json(answer.status, answer.body, { ...answer.headers });
}
