import { STATUS_CODES } from 'node:http';
import { request } from 'undici';
import type { PipedriveEmulatorApp } from '../emulator.options.js';
import type { Exchange, Reply } from '../emulator.server.js';
import type { FaultPlan } from '../fault-plan.js';
import type { RequestLog } from '../request-log.js';
import type { Grants, Owner } from './grants.js';
import { authenticateApp, invalidRequest, isReply, oauthError, parseForm } from './oauth-protocol.js';

export interface RevokeRouteDeps {
  grants: Grants;
  faults: FaultPlan;
  log: RequestLog;
}

const REVOKED: Reply = { status: 200, body: undefined, headers: { 'cache-control': 'no-store' } };

/** `POST /oauth/revoke` (RFC 7009): Basic auth, form `token` and optional `token_type_hint`. */
export class RevokeRoute {
  constructor(private readonly deps: RevokeRouteDeps) {}

  async handle(ex: Exchange): Promise<void> {
    const { faults, log } = this.deps;
    log.counts.revoke++;
    const fault = faults.revoke.take();
    const form = parseForm(ex, await ex.readBody());
    const answer = fault === undefined ? this.decide(ex, form) : fault;
    faults.delay('revokeMs', () => {
      if (answer === 'reset') return ex.reset();
      if (typeof answer === 'number') {
        return ex.json(answer, oauthError(answer, 'server_error', STATUS_CODES[answer] ?? 'Error').body);
      }
      ex.reply(answer);
    });
  }

  private decide(ex: Exchange, form: URLSearchParams | undefined): Reply {
    const app = authenticateApp(ex, form, this.deps.grants);
    if (isReply(app)) return app;
    const token = form!.get('token');
    if (!token) return invalidRequest('missing parameter token');
    const owner = this.deps.grants.ownerOf(token);
    // RFC 7009: unknown tokens are answered 200 too, so a retry after success is harmless.
    if (owner && owner.clientId !== app.clientId) return invalidRequest('token was not issued to this client');
    if (owner) this.deps.grants.revoke(token);
    return REVOKED;
  }
}

/**
 * What Pipedrive does when a user uninstalls the app (the same as revoking its refresh token): the
 * user's tokens die, then a DELETE with JSON `{client_id, company_id, user_id, timestamp}` and the
 * app's Basic credentials goes to the callback URL. Resolves to the app's status code (Pipedrive
 * itself does not read the answer).
 */
export async function uninstall(grants: Grants, app: Required<PipedriveEmulatorApp>, owner: Owner, now: number): Promise<number> {
  for (const refreshToken of grants.refreshTokensOf(owner)) grants.revoke(refreshToken);
  const { clientId, companyId, userId } = owner;
  const body = { client_id: clientId, company_id: companyId, user_id: userId, timestamp: new Date(now).toISOString() };
  const basic = Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64');
  const res = await request(app.redirectUri, {
    method: 'DELETE',
    headers: { 'content-type': 'application/json', authorization: `Basic ${basic}` },
    body: JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}
