import { STATUS_CODES } from 'node:http';
import { authenticateClient, isAnswer, parseForm } from './client-auth.js';
import type { Delayer } from '../delayer.js';
import type { FaultPlan } from '../fault-plan.js';
import type { Exchange } from '../http-exchange.js';
import { invalidRequest, oauthError, type OAuthAnswer } from './oauth-answers.js';
import type { RequestLog } from '../request-log.js';
import type { TokenStore } from './token.store.js';

export interface RevokeRouteDeps {
  tokens: TokenStore;
  faults: FaultPlan;
  log: RequestLog;
  delayer: Delayer;
}

const REVOKED: OAuthAnswer = { status: 200, body: '', headers: { 'cache-control': 'no-store' } };

/** `POST /oauth/revoke` (RFC 7009): Basic auth, form `token` and optional `token_type_hint`. */
export class RevokeRoute {
  constructor(private readonly deps: RevokeRouteDeps) {}

  async handle(ex: Exchange): Promise<void> {
    const { faults, log, delayer } = this.deps;
    log.counts.revoke++;
    const fault = faults.revoke.take();
    const form = parseForm(ex, await ex.readBody());
    const answer = fault === undefined ? this.decide(ex, form) : fault;
    delayer.run(faults.latency.revokeLatencyMs, () => {
      if (answer === 'reset') return ex.reset();
      if (typeof answer === 'number') {
        return ex.json(answer, oauthError(answer, 'server_error', STATUS_CODES[answer] ?? 'Error').body);
      }
      if (answer === REVOKED) return ex.send(200, '', { ...REVOKED.headers });
      ex.json(answer.status, answer.body, { ...answer.headers });
    });
  }

  private decide(ex: Exchange, form: URLSearchParams | undefined): OAuthAnswer {
    const client = authenticateClient(ex, form, this.deps.tokens);
    if (isAnswer(client)) return client;
    const token = form!.get('token');
    if (!token) return invalidRequest('missing parameter token');
    const owner = this.deps.tokens.ownerOf(token);
    // RFC 7009: unknown tokens are answered 200 too, so a retry after success is harmless.
    if (owner && owner.clientId !== client.clientId) return invalidRequest('token was not issued to this client');
    if (owner) this.deps.tokens.revoke(token);
    return REVOKED;
  }
}
