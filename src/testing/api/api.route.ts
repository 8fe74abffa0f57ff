import type { OutgoingHttpHeaders } from 'node:http';
import type { PipedriveClock } from '../../pipedrive.clock.js';
import type { Directory } from '../directory.js';
import type { Exchange, Reply } from '../emulator.server.js';
import type { ApiFault, FaultPlan } from '../fault-plan.js';
import type { AccessGrant, Grants } from '../oauth/grants.js';
import type { RequestLog } from '../request-log.js';
import type { CompanyBudgets } from './company-budgets.js';
import { apiError, ok, overLimit, statusReply, unauthorized, unknownRoute } from './envelope.js';
import { FIELD_ROUTES, type CustomFields } from './custom-fields.js';
import type { RateLimiter, RateVerdict } from './rate-limiter.js';
import type { ResourceRoutes } from './resource.routes.js';
import { RESOURCES_BY_PATH, RETIRED_V1 } from './resources.js';
import { usersMe } from './users-me.js';
import type { WebhookRoutes } from './webhooks.routes.js';

export interface ApiRouteDeps {
  grants: Grants;
  limiter: RateLimiter;
  faults: FaultPlan;
  log: RequestLog;
  resources: ResourceRoutes;
  directory: Directory;
  clock: PipedriveClock;
  webhooks: WebhookRoutes;
  budgets: CompanyBudgets;
  fields: CustomFields;
}

/** Everything under `/api/`: count, authenticate, forced faults, rate window, then the resource. */
export class ApiRoute {
  constructor(private readonly deps: ApiRouteDeps) {}

  async handle(ex: Exchange): Promise<void> {
    const { log, faults, limiter, clock } = this.deps;
    log.counts.api++;
    const grant = this.authenticate(ex.req.headers.authorization);
    const fault = faults.api.take();
    if (fault) return this.fail(ex, fault, grant);
    if (!grant) return this.reply(ex, unauthorized(), rateHeaders(limiter.idle()));
    const { budgets } = this.deps;
    const spent = budgets.refusal(grant.companyId, clock.now());
    if (spent) {
      log.counts.rateLimited++;
      const headers = 'retry-after' in spent ? { ...rateHeaders(limiter.admit(grant, clock.now(), false)), ...spent } : spent;
      return this.reply(ex, apiError(429, 'Daily API token budget exceeded', 'ERR_DAILY_BUDGET'), headers);
    }
    const verdict = limiter.admit(grant, clock.now());
    const headers = rateHeaders(verdict);
    if (!verdict.allowed) {
      log.counts.rateLimited++;
      return this.reply(ex, overLimit(), headers);
    }
    budgets.charge(grant.companyId, ex.req.method!, ex.path, clock.now());
    const body = hasBody(ex.req.method) ? await readJson(ex) : NO_BODY;
    if (isReply(body)) return this.reply(ex, body, headers);
    this.reply(ex, this.route(ex.req.method!, ex.path, ex.query, body.value, grant), headers);
  }

  /** Maps `/api/{version}/{resource}[/{id}]` to the handler; the caller is already authenticated. */
  private route(method: string, path: string, query: URLSearchParams, body: unknown, owner: AccessGrant): Reply {
    // path is `/api/v2/deals/12`: segments are ['', 'api', 'v2', 'deals', '12'].
    const [, , version, name, id, ...rest] = path.split('/');
    if (rest.length > 0 || !name) return unknownRoute();
    if (version === 'v1' && name === 'users' && id === 'me') {
      if (method !== 'GET') return apiError(405, 'Method not allowed');
      const { directory } = this.deps;
      return ok(usersMe(directory.user(owner.companyId, owner.userId), directory.company(owner.companyId)));
    }
    if (version === 'v1' && name === 'webhooks') return this.deps.webhooks.handle(method, id || undefined, body, owner);
    const fields = FIELD_ROUTES.get(`${version}/${name}`);
    if (fields && id === undefined) return this.deps.fields.route(method, fields, query, owner.companyId);
    const def = RESOURCES_BY_PATH.get(`${version}/${name}`);
    if (def) return this.deps.resources.handle(method, def, id || undefined, query, body, owner);
    if (version === 'v1' && (RETIRED_V1.has(name) || FIELD_ROUTES.has(`v2/${name}`))) {
      return apiError(410, `This endpoint is no longer supported; use /api/v2/${name}`, 'ERR_GONE');
    }
    return unknownRoute();
  }

  private authenticate(header: string | undefined): AccessGrant | undefined {
    if (!header || header.length < 8 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
    return this.deps.grants.findAccess(header.slice(7).trim());
  }

  private fail(ex: Exchange, fault: ApiFault, grant: AccessGrant | undefined): void {
    const { faults, limiter, log, clock } = this.deps;
    if (fault.kind === 'reset') return faults.delay('apiMs', () => ex.reset());
    if (fault.kind === 'rate_limit') {
      log.counts.rateLimited++;
      const { resetSeconds = 2, retryAfterSeconds, headers = true } = fault.options;
      const verdict = { allowed: false, limit: limiter.config.limit, remaining: 0, resetSeconds };
      const forced: OutgoingHttpHeaders = headers ? rateHeaders(verdict) : {};
      if (retryAfterSeconds !== undefined) forced['retry-after'] = String(retryAfterSeconds);
      return this.reply(ex, overLimit(), forced);
    }
    const current = grant ? limiter.admit(grant, clock.now(), false) : limiter.idle();
    const headers = { ...rateHeaders(current), ...fault.options.headers };
    const { body } = fault.options;
    if (typeof body !== 'string') {
      return this.reply(ex, { status: fault.status, body: body ?? statusReply(fault.status).body }, headers);
    }
    headers['content-type'] ??= 'text/html; charset=utf-8';
    faults.delay('apiMs', () => ex.send(fault.status, body, headers));
  }

  private reply(ex: Exchange, reply: Reply, headers: OutgoingHttpHeaders): void {
    this.deps.faults.delay('apiMs', () => ex.reply(reply, headers));
  }
}

function rateHeaders(verdict: RateVerdict): OutgoingHttpHeaders {
  return {
    'x-ratelimit-limit': verdict.limit,
    'x-ratelimit-remaining': verdict.remaining,
    'x-ratelimit-reset': verdict.resetSeconds,
  };
}

function isReply(value: Reply | { value: unknown }): value is Reply {
  return 'status' in value;
}

const NO_BODY = { value: undefined };

function hasBody(method: string | undefined): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

/** JSON bodies only, as Pipedrive's API takes them. */
async function readJson(ex: Exchange): Promise<Reply | { value: unknown }> {
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
