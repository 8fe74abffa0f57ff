import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiRoute } from './api/api.route.js';
import { ApiRouter } from './api/api.router.js';
import { CompanyBudgets, type PipedriveEmulatorBudgetHeaders } from './api/company-budgets.js';
import { AuthorizeRoute } from './oauth/authorize.route.js';
import { DataStore } from './api/data.store.js';
import { Delayer } from './delayer.js';
import { Directory } from './oauth/directory.js';
import { PipedriveEmulatorError } from './emulator.errors.js';
import type { PipedriveEmulatorClient, PipedriveEmulatorOptions, PipedriveEmulatorRateLimit } from './emulator.options.js';
import { createEmulatorServer } from './emulator.server.js';
import type * as T from './emulator.types.js';
import { FaultPlan } from './fault-plan.js';
import type { Exchange } from './http-exchange.js';
import { RateLimiter } from './api/rate-limiter.js';
import { RequestLog } from './request-log.js';
import { ResourceRoutes } from './api/resource.routes.js';
import type { Item } from './api/resource-table.js';
import { RevokeRoute } from './oauth/revoke.route.js';
import { seedCompany } from './api/seeder.js';
import { tokenAnswer, TokenRoute } from './oauth/token.route.js';
import { TokenStore } from './oauth/token.store.js';
import { uninstall } from './oauth/uninstall.js';

/**
 * An in-process Pipedrive: OAuth authorize/token/revoke and the v1/v2 API, strict like the real one,
 * with switches to make it slow, fail or throttle. For tests, benchmarks and the sandbox app.
 */
export class PipedriveEmulator {
  /** Latencies in ms; set the fields directly. */
  readonly faults: T.PipedriveEmulatorFaults;
  /** Exact counters, updated in place (keep a reference if you like). */
  readonly counts: T.PipedriveEmulatorCounts;
  /** The newest requests, oldest first; never holds token values. */
  readonly requests: T.RecordedRequest[];

  private readonly now: () => number;
  private readonly log: RequestLog;
  private readonly plan = new FaultPlan();
  private readonly directory = new Directory();
  private readonly data = new DataStore();
  private readonly delayer = new Delayer();
  private readonly tokens: TokenStore;
  private readonly limiter: RateLimiter;
  private readonly budgets: CompanyBudgets;
  private readonly authorize: AuthorizeRoute;
  private readonly server: Server;
  private baseUrl = '';

  private constructor(private readonly options: PipedriveEmulatorOptions) {
    this.now = options.now ?? Date.now;
    this.log = new RequestLog(options.maxRecordedRequests ?? 10_000);
    this.faults = this.plan.latency;
    this.counts = this.log.counts;
    this.requests = this.log.requests;
    const lifetimes = {
      accessSeconds: options.accessTokenTtlSeconds ?? 3599,
      codeSeconds: options.codeTtlSeconds ?? 300,
      refreshSeconds: options.refreshTokenTtlSeconds ?? 5_184_000,
    };
    this.tokens = new TokenStore(lifetimes, this.now);
    this.limiter = new RateLimiter(checkedRateLimit(options.rateLimit ?? { limit: 80, windowMs: 2000 }));
    this.budgets = new CompanyBudgets(options.dailyBudget, options.budgetHeaders ?? 'reset');
    for (const client of options.clients ?? []) this.registerClient(client);
    this.authorize = new AuthorizeRoute(this.tokens, this.directory);
    const common = { tokens: this.tokens, faults: this.plan, log: this.log, delayer: this.delayer };
    const token = new TokenRoute({ ...common, apiDomain: (companyId) => this.apiDomain(companyId) });
    const revoke = new RevokeRoute(common);
    const router = new ApiRouter(new ResourceRoutes(this.data, this.now), this.directory);
    const api = new ApiRoute({ ...common, limiter: this.limiter, router, budgets: this.budgets, now: this.now });
    const routes = {
      authorize: (ex: Exchange) => this.authorize.handle(ex),
      token: (ex: Exchange) => token.handle(ex),
      revoke: (ex: Exchange) => revoke.handle(ex),
      api: (ex: Exchange) => api.handle(ex),
    };
    this.server = createEmulatorServer(routes, this.log, this.now);
  }

  /** Starts listening (127.0.0.1, a free port unless told otherwise). */
  static async start(options: PipedriveEmulatorOptions = {}): Promise<PipedriveEmulator> {
    const emulator = new PipedriveEmulator(options);
    await emulator.listen();
    return emulator;
  }

  /** `http://127.0.0.1:PORT`: the OAuth base URL and every company's default `api_domain`. */
  get url(): string {
    return this.baseUrl;
  }

  /** Stops the server, dropping keep-alive connections and answers still held by latency. */
  async close(): Promise<void> {
    this.delayer.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  registerClient(client: PipedriveEmulatorClient): void {
    if (!URL.canParse(client.redirectUri)) {
      throw new PipedriveEmulatorError(`redirectUri of client ${client.clientId} is not an absolute URL.`);
    }
    this.tokens.registerClient(client);
  }

  /** Who approves the next `/oauth/authorize`: company 1, user 1 until `setAuthorizeUser`. */
  get authorizeUser(): Readonly<T.PipedriveEmulatorUser> {
    return this.authorize.user;
  }

  setAuthorizeUser(user: T.PipedriveEmulatorUser): void {
    this.directory.upsert(user);
    this.authorize.user = { ...user };
  }

  setAuthorizeDecision(decision: T.PipedriveEmulatorDecision): void {
    this.authorize.decision = decision;
  }

  /** `api_domain` in later token answers for this company; the emulator serves the API on any host. */
  setApiDomain(companyId: number, url: string): void {
    this.directory.company(companyId).apiDomain = url.replace(/\/+$/, '');
  }

  /** Issues tokens without the browser dance; not counted as a code exchange. */
  grant(grant: T.PipedriveEmulatorGrant): T.PipedriveEmulatorTokenAnswer {
    this.knownClient(grant.clientId);
    this.directory.user(grant.companyId, grant.userId);
    const { clientId, companyId, userId } = grant;
    return tokenAnswer(this.tokens.issue({ clientId, companyId, userId }, grant.expiresInSeconds), this.apiDomain(companyId));
  }

  /**
   * The user uninstalls the app inside Pipedrive: their tokens die and the app's callback URL gets
   * the DELETE uninstall request. Resolves to the status the app answered.
   */
  uninstall(owner: { clientId: string; companyId: number; userId: number }): Promise<number> {
    return uninstall(this.tokens, this.knownClient(owner.clientId), owner, this.now());
  }

  /** Adds deterministic items to a company (same calls, same data); returns the new ids. */
  seed(companyId: number, counts: T.PipedriveEmulatorSeed): T.PipedriveEmulatorSeedResult {
    return seedCompany(this.data, companyId, counts);
  }

  /** A copy of a company's items of one resource, in id order, as the API would return them. */
  records(companyId: number, resource: T.PipedriveEmulatorResource): Item[] {
    return this.data.table(companyId, resource).all();
  }

  /** The next `count` token-endpoint answers fail this way (optionally only for one grant type). */
  failNextToken(count: number, fault: T.PipedriveEmulatorTokenFault, options: T.PipedriveEmulatorTokenFaultOptions = {}): void {
    this.plan.token.arm(count, fault, options.grant);
  }

  /** The next `count` API answers fail with this status (JSON error unless `body` says otherwise) or a reset. */
  failNextApi(count: number, fault: T.PipedriveEmulatorApiFault, options?: T.PipedriveEmulatorApiFaultOptions): void {
    this.plan.armApi(count, fault, options);
  }

  /** The next `count` revoke answers fail with this status or a reset. */
  failNextRevoke(count: number, fault: T.PipedriveEmulatorApiFault): void {
    this.plan.revoke.arm(count, fault);
  }

  /** The next `count` API requests get 429, whatever their window says. */
  rateLimitNextApi(count: number, options: T.PipedriveEmulatorForcedRateLimit = {}): void {
    this.plan.armRateLimit(count, options);
  }

  setRateLimit(rateLimit: PipedriveEmulatorRateLimit): void {
    this.limiter.config = checkedRateLimit(rateLimit);
  }

  /** Every company's daily token budget from now on (undefined: unlimited); what was spent today stays. */
  setDailyBudget(tokens: number | undefined): void {
    this.budgets.budget = tokens;
  }

  /** How a spent budget is told: a far `x-ratelimit-reset`, or `Retry-After`. */
  setBudgetHeaders(style: PipedriveEmulatorBudgetHeaders): void {
    this.budgets.headers = style;
  }

  /** Tokens the company spent today (emulator clock, UTC day) by Pipedrive's cost table. */
  budgetSpent(companyId: number): number {
    return this.budgets.spentToday(companyId, this.now());
  }

  /** Every access token issued so far answers 401 from now on; refresh tokens still work. */
  invalidateAccessTokens(companyId?: number): void {
    this.tokens.invalidateAccessTokens(companyId);
  }

  /** Refreshing with any refresh token issued so far gives 400 invalid_grant; live access tokens keep working. */
  revokeRefreshTokens(companyId?: number): void {
    this.tokens.revokeRefreshTokens(companyId);
  }

  /**
   * Issue a new refresh token on every refresh and retire the one used, as some OAuth providers do.
   * Pipedrive does not (its refresh token stays the same); this proves a client would not lose a rotated one.
   */
  setRefreshTokenRotation(on: boolean): void {
    this.tokens.rotateRefreshTokens = on;
  }

  /** Zeroes the counters and empties the request log; armed faults stay armed. */
  resetCounts(): void {
    this.log.reset();
  }

  private knownClient(clientId: string): Required<PipedriveEmulatorClient> {
    const client = this.tokens.client(clientId);
    if (!client) throw new PipedriveEmulatorError(`Unknown clientId ${clientId}: pass it in options.clients or call registerClient() first.`);
    return client;
  }

  private apiDomain(companyId: number): string {
    return this.directory.company(companyId).apiDomain ?? this.baseUrl;
  }

  private async listen(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = this.options.publicUrl?.replace(/\/+$/, '') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
}

function checkedRateLimit(rateLimit: PipedriveEmulatorRateLimit): PipedriveEmulatorRateLimit {
  const { limit, windowMs } = rateLimit;
  if (!Number.isInteger(limit) || limit < 1 || !(windowMs > 0)) {
    throw new PipedriveEmulatorError('rateLimit needs an integer limit >= 1 and windowMs > 0.');
  }
  return { limit, windowMs };
}
