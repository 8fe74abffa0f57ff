import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock, type PipedriveClock } from '../pipedrive.clock.js';
import type { PipedriveTokenSet } from '../tokens/pipedrive-token.types.js';
import { ApiRoute } from './api/api.route.js';
import { CompanyData } from './api/company-data.js';
import { CustomFields } from './api/custom-fields.js';
import { RateLimiter } from './api/rate-limiter.js';
import { CompanyBudgets, type PipedriveEmulatorBudgetHeaders } from './api/company-budgets.js';
import { ResourceRoutes } from './api/resource.routes.js';
import { seedCompany } from './api/seeder.js';
import { Directory } from './directory.js';
import { PipedriveEmulatorError } from './emulator.errors.js';
import {
  EMULATOR_DEFAULTS,
  type PipedriveEmulatorApp,
  type PipedriveEmulatorLatency,
  type PipedriveEmulatorOptions,
  type PipedriveEmulatorRateLimit,
} from './emulator.options.js';
import { createEmulatorServer, type Exchange } from './emulator.server.js';
import type * as T from './emulator.types.js';
import { FaultPlan } from './fault-plan.js';
import { AuthorizeRoute } from './oauth/authorize.route.js';
import { connect, type PipedriveEmulatorAppServer } from './oauth/connect.js';
import { Grants } from './oauth/grants.js';
import { RevokeRoute, uninstall } from './oauth/revoke.route.js';
import { TokenRoute } from './oauth/token.route.js';
import { RequestLog } from './request-log.js';
import { RESOURCES } from './api/resources.js';
import { WebhookDeliveries } from './api/webhook-deliveries.js';
import { WebhookRegistry, WebhookRoutes } from './api/webhooks.routes.js';
import type * as W from './api/webhook.types.js';
import { PipedriveEmulatorExtensions } from './extensions/extension-host.js';

/**
 * An in-process Pipedrive: OAuth authorize/token/revoke and the v1/v2 API, strict like the real one,
 * with switches to make it slow, fail or throttle. For tests, benchmarks and the sandbox app.
 * Configure it with the start options and the methods below; `reset()` returns it to its start options.
 */
export class PipedriveEmulator {
  /** Pipedrive's side of app extensions: signed extension tokens, the host page, JSON-panel calls. */
  readonly extensions: PipedriveEmulatorExtensions;

  private readonly clockSource: PipedriveClock;
  private readonly log: RequestLog;
  private readonly plan: FaultPlan;
  private readonly directory = new Directory();
  private readonly data = new CompanyData();
  private readonly fields: CustomFields;
  private readonly grants: Grants;
  private readonly limiter: RateLimiter;
  private readonly budgets: CompanyBudgets;
  private readonly authorize: AuthorizeRoute;
  private readonly server: Server;
  private readonly apiDomains = new Map<number, string>();
  private baseUrl = '';
  private readonly hooks = new WebhookRegistry();
  private readonly deliveries: WebhookDeliveries;
  private readonly resources: ResourceRoutes;

  private constructor(private readonly options: PipedriveEmulatorOptions) {
    this.clockSource = options.clock ?? systemClock;
    this.log = new RequestLog(options.maxRecordedRequests ?? EMULATOR_DEFAULTS.maxRecordedRequests);
    this.plan = new FaultPlan(this.clockSource, options.latency);
    const lifetimes = {
      accessSeconds: options.accessTokenTtlSeconds ?? EMULATOR_DEFAULTS.accessTokenTtlSeconds,
      codeSeconds: options.codeTtlSeconds ?? EMULATOR_DEFAULTS.codeTtlSeconds,
      refreshSeconds: options.refreshTokenTtlSeconds ?? EMULATOR_DEFAULTS.refreshTokenTtlSeconds,
    };
    this.grants = new Grants(lifetimes, this.clockSource);
    this.limiter = new RateLimiter(checkedRateLimit(options.rateLimit ?? EMULATOR_DEFAULTS.rateLimit));
    this.budgets = new CompanyBudgets(options.dailyBudget, options.budgetHeaders ?? EMULATOR_DEFAULTS.budgetHeaders);
    for (const app of options.apps ?? []) this.registerApp(app);
    this.extensions = new PipedriveEmulatorExtensions(this.grants, this.clockSource, () => this.baseUrl);
    this.authorize = new AuthorizeRoute(this.grants, this.directory);
    const common = { grants: this.grants, faults: this.plan, log: this.log };
    const token = new TokenRoute({ ...common, apiDomain: (companyId) => this.apiDomain(companyId) });
    const revoke = new RevokeRoute(common);
    this.deliveries = new WebhookDeliveries({
      registry: this.hooks,
      clock: this.clockSource,
      timeScale: checkedTimeScale(options.webhooks?.timeScale ?? EMULATOR_DEFAULTS.webhookTimeScale),
      hostOf: (companyId) => `${this.directory.company(companyId).domain}.pipedrive.com`,
      maxRecordedAttempts: options.webhooks?.maxRecordedAttempts ?? EMULATOR_DEFAULTS.maxRecordedWebhookAttempts,
    });
    this.grants.onUninstall = (owner) => this.hooks.removeOwnedBy(owner);
    this.fields = new CustomFields(() => this.clockSource.now());
    const resources = new ResourceRoutes(this.data, this.clockSource, (change) => this.deliveries.publish(change), this.fields);
    this.resources = resources;
    const webhooks = new WebhookRoutes({
      registry: this.hooks,
      now: () => this.clockSource.now(),
      isPipedriveUrl: (url) => this.isPipedriveUrl(url),
    });
    const api = new ApiRoute({
      ...common,
      limiter: this.limiter,
      resources,
      directory: this.directory,
      clock: this.clockSource,
      webhooks,
      budgets: this.budgets,
      fields: this.fields,
    });
    const routes = {
      authorize: (ex: Exchange) => this.authorize.handle(ex),
      token: (ex: Exchange) => token.handle(ex),
      revoke: (ex: Exchange) => revoke.handle(ex),
      api: (ex: Exchange) => api.handle(ex),
      extensions: (ex: Exchange) => this.extensions.handle(ex),
    };
    this.server = createEmulatorServer(routes, this.log, this.clockSource);
  }

  /** Starts listening (127.0.0.1, a free port unless told otherwise). */
  static async start(options: PipedriveEmulatorOptions = {}): Promise<PipedriveEmulator> {
    const emulator = new PipedriveEmulator(options);
    await emulator.listen();
    return emulator;
  }

  /** `http://127.0.0.1:PORT`: the OAuth base URL (the module's `oauthBaseUrl`) and every company's default `api_domain`. */
  get url(): string {
    return this.baseUrl;
  }

  /** The clock deciding expiries, rate windows and latencies (the `clock` option). */
  get clock(): PipedriveClock {
    return this.clockSource;
  }

  /** Stops the server, dropping keep-alive connections and answers still held by latency. */
  async close(): Promise<void> {
    this.plan.close();
    await this.deliveries.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  // ---- Apps, users and the OAuth flow -------------------------------------------------------

  /** Registers an OAuth app (or replaces the one with the same clientId), as in Developer Hub. */
  registerApp(app: PipedriveEmulatorApp): void {
    if (!URL.canParse(app.redirectUri)) {
      throw new PipedriveEmulatorError(`redirectUri of app ${app.clientId} is not an absolute URL.`);
    }
    this.grants.registerApp(app);
  }

  /** Who approves the next browser `/oauth/authorize`: company 1, user 1 until `setAuthorizeUser()`. */
  get authorizeUser(): Readonly<T.PipedriveEmulatorUser> {
    return { ...this.authorize.user };
  }

  /** Who approves the next browser `/oauth/authorize` (unknown companies and users are created). */
  setAuthorizeUser(user: T.PipedriveEmulatorUser): void {
    this.directory.upsert(user);
    this.authorize.user = { ...user };
  }

  /** Whether browser authorizations are approved or denied (`?error=user_denied`). `connect()` always approves. */
  setAuthorizeDecision(decision: T.PipedriveEmulatorDecision): void {
    this.authorize.decision = decision;
  }

  /** `api_domain` in later token answers for this company; the emulator serves the API on any host. */
  setApiDomain(companyId: number, url: string): void {
    this.apiDomains.set(companyId, url.replace(/\/+$/, ''));
  }

  /**
   * Connects a user to your app the way a browser does, in one call: `GET /auth/pipedrive` on the
   * app, the emulator's authorize redirect (approved by `companyId`/`userId`), and the callback with
   * the state cookie. Returns the session cookie for a `Cookie` header and the callback's body.
   * The callback is sent to the redirect URI's path on `app`'s own address, so the app may listen on
   * port 0 while its `redirectUri` names another port; the code exchange still checks `redirectUri`.
   * Parallel connects are fine: each flow is approved by its own user (matched by its `state`),
   * whatever `setAuthorizeUser()` says; for an app that sends no `state`, connect sets that switch instead.
   * @param app a listening Nest application (`INestApplication`) or the app's base URL.
   */
  connect(app: PipedriveEmulatorAppServer | string, options: T.PipedriveEmulatorConnectOptions): Promise<T.PipedriveEmulatorConnected> {
    const side = {
      url: this.baseUrl,
      approveState: (state: string, user: T.PipedriveEmulatorUser) => this.authorize.approveState(state, user),
      forgetState: (state: string) => this.authorize.forgetState(state),
      approveNext: (user: T.PipedriveEmulatorUser) => this.setAuthorizeUser(user),
    };
    return connect(side, app, options);
  }

  /** Issues tokens without the browser dance, in the library's own token-set shape; not counted as a code exchange. */
  grant(grant: T.PipedriveEmulatorGrant): PipedriveTokenSet {
    this.knownApp(grant.clientId);
    const { clientId, companyId, userId } = grant;
    this.directory.user(companyId, userId);
    const issued = this.grants.issue({ clientId, companyId, userId }, grant.expiresInSeconds);
    return {
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      tokenType: 'Bearer',
      expiresIn: issued.expiresIn,
      scopes: issued.scope.split(','),
      apiDomain: this.apiDomain(companyId),
    };
  }

  /**
   * The user uninstalls the app inside Pipedrive: their tokens and the app's webhooks for them are
   * deleted, and the app's callback URL gets the DELETE uninstall request. Resolves to the status
   * the app answered.
   */
  uninstall(owner: { clientId: string; companyId: number; userId: number }): Promise<number> {
    this.hooks.removeOwnedBy(owner);
    return uninstall(this.grants, this.knownApp(owner.clientId), owner, this.clockSource.now());
  }

  /** Every access token issued so far answers 401 from now on; refresh tokens still work. */
  invalidateAccessTokens(companyId?: number): void {
    this.grants.invalidateAccessTokens(companyId);
  }

  /** Refreshing with any refresh token issued so far gives 400 invalid_grant; live access tokens keep working. */
  revokeRefreshTokens(companyId?: number): void {
    this.grants.revokeRefreshTokens(companyId);
  }

  /**
   * Issue a new refresh token on every refresh and retire the one used, as some OAuth providers do.
   * Pipedrive does not (its refresh token stays the same); this proves a client would not lose a rotated one.
   */
  setRefreshTokenRotation(on: boolean): void {
    this.grants.rotateRefreshTokens = on;
  }

  // ---- Company data -------------------------------------------------------------------------

  /** Adds deterministic items to a company (same calls, same data); returns the new ids. */
  seed(companyId: number, counts: T.PipedriveEmulatorSeed): T.PipedriveEmulatorSeedResult {
    return seedCompany(this.data, companyId, counts);
  }

  /**
   * Adds a custom field to a company, as an admin does in Settings > Data fields: served by
   * `GET /api/v2/{entity}Fields` (deal fields also by the v1-only `/api/v1/leadFields`, as leads inherit
   * them), and its values stored under its 40-character key: in `custom_fields` of v2 records, as
   * top-level keys of v1 leads. Returns the key and the option ids.
   */
  addCustomField(
    companyId: number,
    entity: T.PipedriveEmulatorFieldEntity,
    field: T.PipedriveEmulatorCustomFieldInput,
  ): T.PipedriveEmulatorCustomField {
    return this.fields.add(companyId, entity, field);
  }

  /** Renames a custom field or relabels its options (ids stay), as an admin may at any time. */
  changeCustomField(
    companyId: number,
    entity: T.PipedriveEmulatorFieldEntity,
    key: string,
    change: { name?: string; optionLabels?: Record<number, string> },
  ): void {
    this.fields.update(companyId, entity, key, change);
  }

  /** A company's custom fields of one entity (copies). */
  customFields(companyId: number, entity: T.PipedriveEmulatorFieldEntity): T.PipedriveEmulatorCustomField[] {
    return this.fields.fields(companyId, entity);
  }

  /** A copy of a company's items of one resource, in id order, as the API would return them. */
  records(companyId: number, resource: T.PipedriveEmulatorResource): T.PipedriveEmulatorRecord[] {
    return this.data.table(companyId, resource).all();
  }

  // ---- What happened ------------------------------------------------------------------------

  /** Exact counters since start or the last `reset()`/`resetCounts()` (a snapshot). */
  get counts(): Readonly<T.PipedriveEmulatorCounts> {
    return { ...this.log.counts };
  }

  /** The newest requests, oldest first, as they stand now (a snapshot; never holds token values). */
  get requests(): readonly T.PipedriveEmulatorRequest[] {
    return this.log.requests.map((entry) => ({ ...entry, query: { ...entry.query } }));
  }

  /** Zeroes the counters (webhook ones too) and empties the request and webhook-attempt logs; armed faults and switches stay. */
  resetCounts(): void {
    this.log.reset();
    this.deliveries.reset();
  }

  // ---- App webhooks -------------------------------------------------------------------------

  /** Webhook delivery counters since start or the last `reset()`/`resetCounts()` (a snapshot). */
  get webhookCounts(): Readonly<W.PipedriveEmulatorWebhookCounts> {
    return { ...this.deliveries.counts };
  }

  /** The newest webhook delivery attempts (POSTs to subscription URLs), oldest first (a snapshot). */
  get webhookAttempts(): readonly W.PipedriveEmulatorWebhookAttempt[] {
    return this.deliveries.attempts.map((attempt) => ({ ...attempt }));
  }

  /**
   * App webhooks as registered through `POST /api/v1/webhooks` (copies, with ban state), optionally
   * of one company. Pipedrive deletes them on uninstall (or refresh-token revoke) and after three
   * days without a successful delivery.
   */
  webhooks(companyId?: number): W.PipedriveEmulatorWebhook[] {
    return this.hooks.snapshot(companyId);
  }

  /**
   * Pipedrive deletes a webhook on its own (as after three days without a successful delivery),
   * so an app's reconciliation can be tested without living through the three days. Pending
   * retries of it are dropped (counted as lost). Returns whether it existed.
   */
  removeWebhook(id: number): boolean {
    return this.hooks.remove(id);
  }

  /**
   * A user creates, changes or deletes a record in Pipedrive's web UI: the data changes as through
   * the API, and matching webhooks get deliveries with `change_source: "app"` (API writes send
   * `"api"`). Returns the record after the change (undefined after a delete); throws
   * `PipedriveEmulatorError` with the API's message for input the API would refuse.
   */
  changeInUi(change: W.PipedriveEmulatorUiChange): T.PipedriveEmulatorRecord | undefined {
    const def = RESOURCES[change.resource];
    if (!def) throw new PipedriveEmulatorError(`Unknown resource ${String(change.resource)}.`);
    this.directory.user(change.companyId, change.userId);
    const owner = { clientId: '', companyId: change.companyId, userId: change.userId };
    const method = change.action === 'create' ? 'POST' : change.action === 'change' ? def.updateMethod : 'DELETE';
    const id = change.action === 'create' ? undefined : String(change.id);
    const body = change.action === 'delete' ? undefined : change.fields;
    const reply = this.resources.handle(method, def, id, new URLSearchParams(), body, owner, 'app');
    const result = reply.body as { error?: string; data?: T.PipedriveEmulatorRecord };
    if (reply.status >= 400) throw new PipedriveEmulatorError(`changeInUi ${change.action} ${change.resource}: ${result.error}`);
    return change.action === 'delete' ? undefined : result.data;
  }

  /**
   * Resolves once every webhook delivery has ended: answered 2xx, given up after its last retry, or
   * lost to a ban or deletion. With a `ManualClock`, waiting retries need the clock advanced first;
   * use {@link webhooksIdle} between advances.
   */
  webhooksSettled(): Promise<void> {
    return this.deliveries.settled();
  }

  /** Resolves once no webhook POST is in flight (retries may still be waiting for their time). */
  webhooksIdle(): Promise<void> {
    return this.deliveries.idle();
  }

  // ---- Faults -------------------------------------------------------------------------------

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

  /** Delays answers by endpoint, on the emulator's clock; the fields given replace the current ones. */
  setLatency(latency: PipedriveEmulatorLatency): void {
    this.plan.setLatency(latency);
  }

  /** Changes the per-token rolling window from now on. */
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

  /** Tokens the company spent today (UTC day of the emulator's clock) by Pipedrive's cost table. */
  budgetSpent(companyId: number): number {
    return this.budgets.spentToday(companyId, this.clockSource.now());
  }

  /**
   * Back to the start options between tests: disarms faults, zeroes counters, empties the request
   * log, forgets rate windows and spent budgets, and resets latency, rate limit, daily budget, rotation, api domains and the authorize
   * user and decision, webhook counters and attempt log. Registered apps, issued tokens, company
   * data and webhooks stay.
   */
  reset(): void {
    this.plan.reset();
    this.log.reset();
    this.deliveries.reset();
    this.limiter.config = checkedRateLimit(this.options.rateLimit ?? EMULATOR_DEFAULTS.rateLimit);
    this.limiter.clear();
    this.budgets.budget = this.options.dailyBudget;
    this.budgets.headers = this.options.budgetHeaders ?? EMULATOR_DEFAULTS.budgetHeaders;
    this.budgets.reset();
    this.grants.rotateRefreshTokens = false;
    this.apiDomains.clear();
    this.authorize.reset();
  }

  private knownApp(clientId: string): Required<PipedriveEmulatorApp> {
    const app = this.grants.app(clientId);
    if (!app) throw new PipedriveEmulatorError(`Unknown clientId ${clientId}: pass the app in options.apps or call registerApp() first.`);
    return app;
  }

  /** Pipedrive refuses its own API as a subscription URL; so does the emulator, for itself too. */
  private isPipedriveUrl(url: URL): boolean {
    const host = url.hostname.toLowerCase();
    return host === 'pipedrive.com' || host.endsWith('.pipedrive.com') || url.origin === new URL(this.baseUrl).origin;
  }

  private apiDomain(companyId: number): string {
    return this.apiDomains.get(companyId) ?? this.baseUrl;
  }

  private async listen(): Promise<void> {
    const host = this.options.host ?? EMULATOR_DEFAULTS.host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? EMULATOR_DEFAULTS.port, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = this.options.publicUrl?.replace(/\/+$/, '') ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
}

function checkedTimeScale(scale: number): number {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new PipedriveEmulatorError('webhooks.timeScale must be a finite number > 0.');
  return scale;
}

function checkedRateLimit(rateLimit: PipedriveEmulatorRateLimit): PipedriveEmulatorRateLimit {
  const { limit, windowMs } = rateLimit;
  if (!Number.isInteger(limit) || limit < 1 || !(windowMs > 0)) {
    throw new PipedriveEmulatorError('rateLimit needs an integer limit >= 1 and windowMs > 0.');
  }
  return { limit, windowMs };
}
