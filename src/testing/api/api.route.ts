import type { OutgoingHttpHeaders } from 'node:http';
import { apiError, overLimit, statusAnswer, unauthorized, type Answer } from './api-answers.js';
import type { ApiRouter } from './api.router.js';
import type { Delayer } from '../delayer.js';
import type { ApiFault, FaultPlan } from '../fault-plan.js';
import type { Exchange } from '../http-exchange.js';
import type { RateLimiter, RateVerdict } from './rate-limiter.js';
import type { RequestLog } from '../request-log.js';
import type { AccessGrant, TokenStore } from '../oauth/token.store.js';
import type { CompanyBudgets } from './company-budgets.js';

export interface ApiRouteDeps {
  tokens: TokenStore;
  limiter: RateLimiter;
  faults: FaultPlan;
  log: RequestLog;
  delayer: Delayer;
  router: ApiRouter;
  budgets: CompanyBudgets;
  now: () => number;
}

/** Everything under `/api/`: count, authenticate, forced faults, rate window, then the resource. */
export class ApiRoute {
  constructor(private readonly deps: ApiRouteDeps) {}

  async handle(ex: Exchange): Promise<void> {
    const { log, faults, limiter, now } = this.deps;
    log.counts.api++;
    const grant = this.authenticate(ex.req.headers.authorization);
    const fault = faults.api.take();
    if (fault) return this.fail(ex, fault, grant);
    if (!grant) return this.reply(ex, unauthorized(), rateHeaders(limiter.idle()));
    const { budgets } = this.deps;
    const spent = budgets.refusal(grant.companyId, now());
    if (spent) {
      log.counts.rateLimited++;
      const headers = 'retry-after' in spent ? { ...rateHeaders(limiter.admit(grant.window, now(), false)), ...spent } : spent;
      return this.reply(ex, apiError(429, 'Daily API token budget exceeded', 'ERR_DAILY_BUDGET'), headers);
    }
    const verdict = limiter.admit(grant.window, now());
    const headers = rateHeaders(verdict);
    if (!verdict.allowed) {
      log.counts.rateLimited++;
      return this.reply(ex, overLimit(), headers);
    }
    budgets.charge(grant.companyId, ex.req.method!, ex.path, now());
    const body = hasBody(ex.req.method) ? await readJson(ex) : NO_BODY;
    if (isAnswer(body)) return this.reply(ex, body, headers);
    this.reply(ex, this.deps.router.route(ex.req.method!, ex.path, ex.query, body.value, grant), headers);
  }

  private authenticate(header: string | undefined): AccessGrant | undefined {
    if (!header || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
    return this.deps.tokens.findAccess(header.slice(7).trim());
  }

  private fail(ex: Exchange, fault: ApiFault, grant: AccessGrant | undefined): void {
    const { delayer, faults, limiter, log, now } = this.deps;
    if (fault.kind === 'reset') return delayer.run(faults.latency.apiLatencyMs, () => ex.reset());
    if (fault.kind === 'rate_limit') {
      log.counts.rateLimited++;
      const { resetSeconds = 2, retryAfterSeconds, headers = true } = fault.options;
      const verdict = { allowed: false, limit: limiter.config.limit, remaining: 0, resetSeconds };
      const forced: OutgoingHttpHeaders = headers ? rateHeaders(verdict) : {};
      if (retryAfterSeconds !== undefined) forced['retry-after'] = String(retryAfterSeconds);
      return this.reply(ex, overLimit(), forced);
    }
    const current = grant ? limiter.admit(grant.window, now(), false) : limiter.idle();
    const headers = { ...rateHeaders(current), ...fault.options.headers };
    const { body } = fault.options;
    if (typeof body !== 'string') {
      return this.reply(ex, { status: fault.status, body: body ?? statusAnswer(fault.status).body }, headers);
    }
    headers['content-type'] ??= 'text/html; charset=utf-8';
    delayer.run(faults.latency.apiLatencyMs, () => ex.send(fault.status, body, headers));
  }

  private reply(ex: Exchange, answer: Answer, headers: OutgoingHttpHeaders): void {
    this.deps.delayer.run(this.deps.faults.latency.apiLatencyMs, () => ex.json(answer.status, answer.body, headers));
  }
}

function rateHeaders(verdict: RateVerdict): OutgoingHttpHeaders {
  return {
    'x-ratelimit-limit': verdict.limit,
    'x-ratelimit-remaining': verdict.remaining,
    'x-ratelimit-reset': verdict.resetSeconds,
  };
}

function isAnswer(value: Answer | { value: unknown }): value is Answer {
  return 'status' in value;
}

const NO_BODY = { value: undefined };

function hasBody(method: string | undefined): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

/** JSON bodies only, as Pipedrive's API takes them. */
async function readJson(ex: Exchange): Promise<Answer | { value: unknown }> {
  if (ex.mediaType !== 'application/json') return apiError(415, 'Unsupported Media Type: send the body as application/json');
  const text = await ex.readBody();
  if (text === undefined) return apiError(413, 'Request body too large');
  if (text.trim() === '') return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return apiError(400, 'Invalid JSON in request body');
  }
}
