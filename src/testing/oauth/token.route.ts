import { STATUS_CODES } from 'node:http';
import type { PipedriveEmulatorApp } from '../emulator.options.js';
import type { Exchange, Reply } from '../emulator.server.js';
import type { PipedriveEmulatorTokenFault } from '../emulator.types.js';
import type { FaultPlan, TokenGrantType } from '../fault-plan.js';
import type { RequestLog } from '../request-log.js';
import type { Grants, IssuedTokens, Owner } from './grants.js';
import { authenticateApp, invalidGrant, invalidRequest, isReply, oauthError, parseForm } from './oauth-protocol.js';

export interface TokenRouteDeps {
  grants: Grants;
  faults: FaultPlan;
  log: RequestLog;
  /** `api_domain` for the company at the moment of answering. */
  apiDomain: (companyId: number) => string;
}

/** `POST /oauth/token`: code exchange and refresh, strict about form body and HTTP Basic. */
export class TokenRoute {
  constructor(private readonly deps: TokenRouteDeps) {}

  async handle(ex: Exchange): Promise<void> {
    const { faults, log } = this.deps;
    const form = parseForm(ex, await ex.readBody());
    const grant = grantType(form?.get('grant_type'));
    // Counted on receipt, so concurrent refreshes are visible even while latency holds their answers.
    if (grant === 'authorization_code') log.counts.authorizationCode++;
    if (grant === 'refresh_token') log.counts.refreshToken++;
    const fault = faults.takeToken(grant);
    const answer = fault === undefined ? this.decide(ex, form, grant) : faultReply(fault, grant);
    if (typeof answer !== 'object' || answer.status !== 200) log.counts.tokenErrors++;
    faults.delay('tokenMs', () => send(ex, answer));
  }

  /** Decides, and changes state, at receipt; latency only delays the answer. */
  private decide(ex: Exchange, form: URLSearchParams | undefined, grant: TokenGrantType | undefined): Reply {
    const app = authenticateApp(ex, form, this.deps.grants);
    if (isReply(app)) return app;
    const type = form!.get('grant_type');
    if (!type) return invalidRequest('missing parameter grant_type');
    if (grant === 'authorization_code') return this.exchangeCode(form!, app);
    if (grant === 'refresh_token') return this.refresh(form!, app);
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${type.slice(0, 40)}`);
  }

  private exchangeCode(form: URLSearchParams, app: Required<PipedriveEmulatorApp>): Reply {
    const code = form.get('code');
    const redirectUri = form.get('redirect_uri');
    if (!code) return invalidRequest('missing parameter code');
    if (!redirectUri) return invalidRequest('missing parameter redirect_uri');
    const grant = this.deps.grants.takeCode(code);
    if (!grant || grant.clientId !== app.clientId) return invalidGrant('authorization code is invalid');
    if (grant.redirectUri !== redirectUri) return invalidGrant('redirect_uri does not match the one used to authorize');
    return this.tokensReply(grant, this.deps.grants.issue(grant));
  }

  private refresh(form: URLSearchParams, app: Required<PipedriveEmulatorApp>): Reply {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return invalidRequest('missing parameter refresh_token');
    const issued = this.deps.grants.refreshFor(refreshToken, app.clientId);
    const owner = issued && this.deps.grants.ownerOf(issued.refreshToken);
    return owner ? this.tokensReply(owner, issued) : invalidGrant('refresh token is invalid');
  }

  private tokensReply(owner: Owner, issued: IssuedTokens): Reply {
    const headers = { 'cache-control': 'no-store', pragma: 'no-cache' };
    return { status: 200, body: tokenJson(issued, this.deps.apiDomain(owner.companyId)), headers };
  }
}

/** Exactly the JSON Pipedrive's `POST /oauth/token` answers with. */
function tokenJson(issued: IssuedTokens, apiDomain: string): Record<string, string | number> {
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
function faultReply(fault: PipedriveEmulatorTokenFault, grant: TokenGrantType | undefined): Reply | 'reset' | 'garbage' {
  if (fault === 'reset' || fault === 'garbage') return fault;
  if (fault === 'invalid_grant') {
    return invalidGrant(grant === 'authorization_code' ? 'authorization code is invalid' : 'refresh token is invalid');
  }
  const error = fault === 401 ? 'invalid_client' : fault >= 500 ? 'server_error' : 'invalid_request';
  return oauthError(fault, error, STATUS_CODES[fault] ?? 'Error');
}

function send(ex: Exchange, answer: Reply | 'reset' | 'garbage'): void {
  if (answer === 'reset') return ex.reset();
  // A proxy error page with a JSON content type: the client must survive a body that does not parse.
  if (answer === 'garbage') {
    return ex.send(200, '<html><body>502 Bad Gateway</body></html>', { 'content-type': 'application/json' });
  }
  ex.reply(answer);
}
