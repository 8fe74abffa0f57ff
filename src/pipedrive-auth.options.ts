import { z } from 'zod';
import { PipedriveConfigurationError } from './errors/pipedrive.errors.js';
import type { PipedriveRedis } from './client/burst-limiter.js';

/** Options of {@link PipedriveAuthModule}; see README for the matching environment variables. */
export interface PipedriveAuthModuleOptions {
  /** OAuth client id of the app in Pipedrive's Developer Hub. */
  clientId: string;
  /** OAuth client secret of the app; also authenticates Pipedrive's uninstall call. */
  clientSecret: string;
  /** The callback URL registered for the app (Pipedrive allows exactly one). */
  redirectUri: string;
  /**
   * Base URL of Pipedrive's OAuth server.
   * @default PIPEDRIVE_OPTION_DEFAULTS.oauthBaseUrl
   */
  oauthBaseUrl?: string;
  /** Key that encrypts tokens at rest: 32 random bytes, base64-encoded (`openssl rand -base64 32`). */
  encryptionKey: string;
  /**
   * Earlier encryption keys, kept only to decrypt tokens written before a key rotation.
   * @default PIPEDRIVE_OPTION_DEFAULTS.previousEncryptionKeys (none)
   */
  previousEncryptionKeys?: string[];
  /**
   * Refresh an access token this many seconds before it expires.
   * @default PIPEDRIVE_OPTION_DEFAULTS.refreshMarginSeconds
   */
  refreshMarginSeconds?: number;
  /**
   * Reject callbacks without a valid `state`. Set to false only if your Marketplace listing
   * sends installs without `state` (Pipedrive enables `state` per app).
   * @default PIPEDRIVE_OPTION_DEFAULTS.requireState
   */
  requireState?: boolean;
  /**
   * How long an authorization `state` stays valid, in seconds (at most 600).
   * @default PIPEDRIVE_OPTION_DEFAULTS.stateTtlSeconds
   */
  stateTtlSeconds?: number;
  /** Secret that signs the session cookie; at least 32 characters. */
  sessionSecret: string;
  /**
   * Name of the session cookie naming the user's connection.
   * @default PIPEDRIVE_OPTION_DEFAULTS.sessionCookieName
   */
  sessionCookieName?: string;
  /**
   * How long an instance trusts what it last read of a session's connection (revoked or not, which
   * authorization issued the cookie), in seconds: the longest another instance keeps honouring a session
   * after a disconnect, uninstall or re-authorization. 0 reads the connection on every request.
   * @default PIPEDRIVE_OPTION_DEFAULTS.sessionRecheckSeconds
   */
  sessionRecheckSeconds?: number;
  /**
   * Origins (`https://app.example.com`) allowed to send state-changing requests to routes behind the
   * session (PipedriveSessionGuard) or PipedriveSameOriginGuard; others get 403 `cross_site_request`.
   * @default the origin of redirectUri
   */
  allowedOrigins?: string[];
  /**
   * Origins besides `https://*.pipedrive.com` that the token endpoint may name as a connection's
   * `api_domain` (where its bearer token is sent). The origin of a non-Pipedrive `oauthBaseUrl` (the
   * emulator, a test double) is trusted too. Any other api_domain fails the flow and nothing is stored.
   * @default PIPEDRIVE_OPTION_DEFAULTS.allowedApiDomains (none)
   */
  allowedApiDomains?: string[];
  /**
   * Lifetime of the session cookie, in seconds.
   * @default PIPEDRIVE_OPTION_DEFAULTS.sessionMaxAgeSeconds (30 days)
   */
  sessionMaxAgeSeconds?: number;
  /**
   * Mark cookies `Secure`.
   * @default true when redirectUri is https
   */
  secureCookies?: boolean;
  /**
   * Where to send the browser after a successful connection; unset answers with JSON.
   * @default undefined
   */
  successRedirect?: string;
  /**
   * Where to send a browser (a client whose `Accept` prefers text/html) after a successful connection;
   * other clients keep the JSON answer. `successRedirect`, when set, applies to every client instead.
   * @default undefined
   */
  browserSuccessRedirect?: string;
  /**
   * Where to send the browser after a failed connection (`?error=<code>` is appended); unset answers with JSON.
   * @default undefined
   */
  failureRedirect?: string;
  /**
   * How long one instance may hold the refresh lease of a connection before another may take over, in seconds.
   * @default PIPEDRIVE_OPTION_DEFAULTS.refreshLeaseSeconds
   */
  refreshLeaseSeconds?: number;
  /**
   * Timeout of calls to the token and revoke endpoints, in milliseconds.
   * @default PIPEDRIVE_OPTION_DEFAULTS.tokenRequestTimeoutMs
   */
  tokenRequestTimeoutMs?: number;
  /**
   * How many decrypted access tokens to keep in memory, so valid tokens need no database read.
   * @default PIPEDRIVE_OPTION_DEFAULTS.tokenCacheSize
   */
  tokenCacheSize?: number;
  /**
   * Refresh due connections in the background, a bounded batch at a time; unset: tokens are refreshed
   * only when asked for. Each instance may run it: the refresh lease keeps a connection to one refresh.
   * @default undefined (off)
   */
  refreshSweep?: PipedriveRefreshSweepOptions;
  /** Behaviour of {@link PipedriveClient}. */
  client?: PipedriveClientOptions;
  /**
   * Prometheus metrics (prom-client, an optional peer) in the registry you pass: API calls, 429s,
   * retries, waits, token refreshes and cache hits, webhook inbox.
   * @default undefined (no metrics)
   */
  metrics?: PipedriveMetricsOptions;
}

/** Options of the API client (`options.client`). */
export interface PipedriveClientOptions {
  /**
   * Per-request timeout in milliseconds.
   * @default PIPEDRIVE_OPTION_DEFAULTS.client.timeoutMs
   */
  timeoutMs?: number;
  /**
   * Retries of idempotent requests after a 5xx or a network error.
   * @default PIPEDRIVE_OPTION_DEFAULTS.client.maxRetries
   */
  maxRetries?: number;
  /**
   * Waits after a 429 before the call fails with PipedriveRateLimitError.
   * @default PIPEDRIVE_OPTION_DEFAULTS.client.maxRateLimitRetries
   */
  maxRateLimitRetries?: number;
  /**
   * Keep-alive connections per api_domain.
   * @default PIPEDRIVE_OPTION_DEFAULTS.client.connectionsPerOrigin
   */
  connectionsPerOrigin?: number;
  /**
   * A Redis client (ioredis v5, an optional peer) shared by every instance of the app: each token's
   * burst window and each company's budget state are then kept there, exactly, instead of being
   * inferred from Pipedrive's headers. If Redis stops answering, calls fall back to the headers.
   * @default undefined (headers only)
   */
  redis?: PipedriveRedis;
  /**
   * Prefix of every Redis key the library writes (`{prefix}burst:...`, `{prefix}budget:...`).
   * @default PIPEDRIVE_OPTION_DEFAULTS.client.redisKeyPrefix
   */
  redisKeyPrefix?: string;
  /**
   * The company's daily token budget as your Pipedrive plan grants it (30,000 x plan multiplier x
   * seats), for the ledger's warnings; Pipedrive's own 429 stops calls whatever this says.
   * @default undefined (no warnings)
   */
  dailyBudget?: number;
  /**
   * Fractions of `dailyBudget` at which a warning is logged, once per company and day each.
   * @default PIPEDRIVE_OPTION_DEFAULTS.client.budgetWarningFractions
   */
  budgetWarningFractions?: number[];
  /**
   * How long a company's custom-field definitions are used before they are fetched again, in seconds;
   * a name, hash or option the cached copy does not know fetches them sooner.
   * @default PIPEDRIVE_OPTION_DEFAULTS.client.customFieldsTtlSeconds
   */
  customFieldsTtlSeconds?: number;
}

/** Client options after validation: defaults filled, Redis and the budget still optional. */
export type ResolvedPipedriveClientOptions = Required<Omit<PipedriveClientOptions, 'redis' | 'dailyBudget'>> &
  Pick<PipedriveClientOptions, 'redis' | 'dailyBudget'>;

/**
 * What the library needs of a prom-client `Registry`, written out so that apps without prom-client (an
 * optional peer) compile the library's declarations; a prom-client `Registry` fits it.
 */
export interface PipedriveMetricsRegistry {
  /** Adds a metric (prom-client does this when a metric names the registry in `registers`). */
  registerMetric(metric: unknown): void;
  /** The metric of that name, if registered. */
  getSingleMetric(name: string): unknown;
}

/** Options of the optional Prometheus metrics (`metrics` in the module options). */
export interface PipedriveMetricsOptions {
  /** The app's prom-client `Registry` (prom-client is an optional peer); the library registers its metrics there. */
  registry: PipedriveMetricsRegistry;
  /**
   * Prefix of every metric name.
   * @default PIPEDRIVE_OPTION_DEFAULTS.metrics.prefix
   */
  prefix?: string;
}

/** Options of the background refresh sweep (`options.refreshSweep`). */
export interface PipedriveRefreshSweepOptions {
  /** Seconds between two sweeps of one instance (a sweep still running when the next is due is not overlapped). */
  intervalSeconds: number;
  /**
   * At most this many connections refreshed per sweep, those expiring first (connections in use, then
   * as many idle ones whose token is `keepAliveDays` old).
   * @default PIPEDRIVE_OPTION_DEFAULTS.refreshSweep.batchSize
   */
  batchSize?: number;
  /**
   * A connection whose token has not been refreshed for this many days is refreshed once by the sweep,
   * even if nobody uses it: Pipedrive kills a refresh token left unused for 60 days. Below 60. Other
   * expired tokens are refreshed by the sweep only if some instance handed them out since they were issued.
   * @default PIPEDRIVE_OPTION_DEFAULTS.refreshSweep.keepAliveDays
   */
  keepAliveDays?: number;
}

/** Options after validation, with every default filled in. */
export interface ResolvedPipedriveOptions extends Required<
  Omit<PipedriveAuthModuleOptions, 'successRedirect' | 'browserSuccessRedirect' | 'failureRedirect' | 'client' | 'refreshSweep' | 'metrics'>
> {
  successRedirect?: string;
  browserSuccessRedirect?: string;
  failureRedirect?: string;
  client: ResolvedPipedriveClientOptions;
  /** Unset when the sweep is off. */
  refreshSweep?: Required<PipedriveRefreshSweepOptions>;
  /** Unset when metrics are off. */
  metrics?: Required<PipedriveMetricsOptions>;
}

/**
 * The default of every option, written once: the schema applies them, the validation hints quote them,
 * and the `@default`s of {@link PipedriveAuthModuleOptions} name them.
 */
export const PIPEDRIVE_OPTION_DEFAULTS = {
  oauthBaseUrl: 'https://oauth.pipedrive.com',
  previousEncryptionKeys: [] as string[],
  refreshMarginSeconds: 300,
  requireState: true,
  stateTtlSeconds: 600,
  sessionCookieName: 'pipedrive_session',
  sessionMaxAgeSeconds: 2_592_000,
  sessionRecheckSeconds: 30,
  allowedApiDomains: [] as string[],
  refreshLeaseSeconds: 30,
  tokenRequestTimeoutMs: 10_000,
  tokenCacheSize: 10_000,
  client: {
    timeoutMs: 30_000,
    maxRetries: 2,
    maxRateLimitRetries: 3,
    connectionsPerOrigin: 64,
    redisKeyPrefix: 'pipedrive:',
    budgetWarningFractions: [0.8, 0.95] as number[],
    customFieldsTtlSeconds: 300,
  },
  refreshSweep: { batchSize: 100, keepAliveDays: 30 },
  metrics: { prefix: 'pipedrive_' },
} as const;

const D = PIPEDRIVE_OPTION_DEFAULTS;

/**
 * What to set, per option path. Issues are reported with these texts only: zod's own messages may quote
 * the input, and the input may be a secret. Filled by {@link hinted} as the schema is built, so a hint sits
 * beside its rule and quotes the same numbers.
 */
const HINTS = new Map<string, string>();

function hinted<T extends z.ZodType>(path: string, schema: T, hint: string): T {
  HINTS.set(path, hint);
  return schema;
}

/** A whole number from `min` to `max`; its hint quotes the range (and the default, when given one). */
function whole(path: string, min: number, max: number, unit: string) {
  const what = unit ? `a whole number of ${unit}` : 'a whole number';
  return hinted(path, z.int().min(min).max(max), `must be ${what} from ${min} to ${max}`);
}

function wholeOr(path: string, min: number, max: number, unit: string, fallback: number) {
  const schema = whole(path, min, max, unit).default(fallback);
  HINTS.set(path, `${HINTS.get(path)} (default ${fallback})`);
  return schema;
}

const httpUrl = () => z.url({ protocol: /^https?$/ });
/**
 * An absolute http(s) URL, or a path on this site ("/done"). Never anything a browser could read as
 * another host: "//host", "/\\host" (browsers treat "\\" as "/"), or control characters and spaces
 * (browsers drop tabs and newlines, so "/\t/host" is "//host").
 */
const redirectTarget = (path: string) =>
  hinted(
    path,
    z
      .string()
      // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
      .regex(/^[^\x00-\x20\x7f\\]+$/)
      .pipe(z.union([httpUrl(), z.string().regex(/^\/(?![/])/)])),
    'must be an absolute http(s) URL or a path starting with a single "/", without backslashes, spaces or control characters',
  );
/** A bare origin: scheme, host and port only. */
const origin = z.url({ protocol: /^https?$/ }).refine((value) => new URL(value).origin === value);
const base64Key = z.string().refine((value) => Buffer.from(value.trim(), 'base64').length === 32);
/** RFC 6265 cookie-name characters. */
const cookieName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);

const clientSchema = hinted(
  'client',
  z.strictObject({
    timeoutMs: wholeOr('client.timeoutMs', 100, 600_000, 'milliseconds', D.client.timeoutMs),
    maxRetries: wholeOr('client.maxRetries', 0, 10, '', D.client.maxRetries),
    maxRateLimitRetries: wholeOr('client.maxRateLimitRetries', 0, 10, '', D.client.maxRateLimitRetries),
    connectionsPerOrigin: wholeOr('client.connectionsPerOrigin', 1, 1024, '', D.client.connectionsPerOrigin),
    redis: hinted(
      'client.redis',
      z.custom<PipedriveRedis>((value) => typeof (value as PipedriveRedis | null)?.evalsha === 'function').optional(),
      'must be an ioredis client (new Redis(url)), or unset to pace from the rate-limit headers alone',
    ),
    redisKeyPrefix: hinted(
      'client.redisKeyPrefix',
      z.string().min(1).max(100).default(D.client.redisKeyPrefix),
      `must be a non-empty string of at most 100 characters (default ${D.client.redisKeyPrefix})`,
    ),
    dailyBudget: hinted(
      'client.dailyBudget',
      z.int().min(1).optional(),
      'must be a whole number of API tokens per company and day, e.g. 30000, or unset',
    ),
    budgetWarningFractions: hinted(
      'client.budgetWarningFractions',
      z.array(z.number().gt(0).max(1)).default(() => [...D.client.budgetWarningFractions]),
      `must be a list of fractions above 0 and at most 1 (default [${D.client.budgetWarningFractions.join(', ')}])`,
    ),
    customFieldsTtlSeconds: wholeOr('client.customFieldsTtlSeconds', 0, 86_400, 'seconds', D.client.customFieldsTtlSeconds),
  }),
  'must be an object with timeoutMs, maxRetries, maxRateLimitRetries, connectionsPerOrigin, redis, redisKeyPrefix, dailyBudget, budgetWarningFractions and customFieldsTtlSeconds',
);

const metricsSchema = hinted(
  'metrics',
  z.strictObject({
    registry: hinted(
      'metrics.registry',
      z.custom<PipedriveMetricsOptions['registry']>(
        (value) => typeof (value as { registerMetric?: unknown } | null)?.registerMetric === 'function',
      ),
      'must be a prom-client Registry (new Registry() from prom-client)',
    ),
    prefix: hinted(
      'metrics.prefix',
      z
        .string()
        .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
        .default(D.metrics.prefix),
      `must be a Prometheus metric-name prefix: letters, digits, _ and :, not starting with a digit (default ${D.metrics.prefix})`,
    ),
  }),
  'must be an object { registry, prefix? }, or unset to record no metrics',
);

const refreshSweepSchema = hinted(
  'refreshSweep',
  z.strictObject({
    intervalSeconds: hinted(
      'refreshSweep.intervalSeconds',
      z.int().min(1).max(86_400),
      'must be a whole number of seconds from 1 to 86400 between two sweeps, e.g. 60',
    ),
    batchSize: wholeOr('refreshSweep.batchSize', 1, 10_000, 'connections per sweep', D.refreshSweep.batchSize),
    // Pipedrive's refresh tokens die after 60 unused days; 59 leaves a day for the sweep to get there.
    keepAliveDays: wholeOr(
      'refreshSweep.keepAliveDays',
      1,
      59,
      'days without a refresh (Pipedrive drops a refresh token after 60)',
      D.refreshSweep.keepAliveDays,
    ),
  }),
  'must be an object { intervalSeconds, batchSize?, keepAliveDays? }, or unset to turn the background refresh off',
);

const optionsSchema = z.strictObject({
  clientId: hinted(
    'clientId',
    z.string().trim().min(1),
    'must be the OAuth client id of your app (Pipedrive Developer Hub > your app > OAuth & access scopes)',
  ),
  clientSecret: hinted(
    'clientSecret',
    z.string().min(1),
    'must be the OAuth client secret of your app (Pipedrive Developer Hub), a non-empty string',
  ),
  redirectUri: hinted(
    'redirectUri',
    httpUrl(),
    'must be the absolute http(s) callback URL registered for your app, e.g. https://example.com/auth/pipedrive/callback',
  ),
  oauthBaseUrl: hinted(
    'oauthBaseUrl',
    httpUrl().default(D.oauthBaseUrl),
    `must be an absolute http(s) URL; leave it unset for ${D.oauthBaseUrl}`,
  ),
  encryptionKey: hinted('encryptionKey', base64Key, 'must be 32 random bytes, base64-encoded; generate one with `openssl rand -base64 32`'),
  previousEncryptionKeys: hinted(
    'previousEncryptionKeys',
    z.array(base64Key).default(() => [...D.previousEncryptionKeys]),
    'must be a list of earlier encryptionKey values, each 32 bytes base64-encoded',
  ),
  refreshMarginSeconds: wholeOr('refreshMarginSeconds', 0, 3600, 'seconds', D.refreshMarginSeconds),
  requireState: hinted('requireState', z.boolean().default(D.requireState), `must be true or false (default ${D.requireState})`),
  stateTtlSeconds: wholeOr('stateTtlSeconds', 1, 600, 'seconds', D.stateTtlSeconds),
  sessionSecret: hinted(
    'sessionSecret',
    z.string().min(32),
    'must be a random string of at least 32 characters; generate one with `openssl rand -base64 48`',
  ),
  sessionCookieName: hinted(
    'sessionCookieName',
    cookieName.default(D.sessionCookieName),
    `must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~ only) (default ${D.sessionCookieName})`,
  ),
  sessionMaxAgeSeconds: wholeOr('sessionMaxAgeSeconds', 60, 34_560_000, 'seconds', D.sessionMaxAgeSeconds),
  secureCookies: hinted(
    'secureCookies',
    z.boolean().optional(),
    'must be true or false; leave it unset to follow the scheme of redirectUri',
  ),
  sessionRecheckSeconds: wholeOr('sessionRecheckSeconds', 0, 300, 'seconds', D.sessionRecheckSeconds),
  allowedOrigins: hinted(
    'allowedOrigins',
    z.array(origin).optional(),
    'must be a list of origins such as https://app.example.com (scheme, host and port only, no trailing slash)',
  ),
  allowedApiDomains: hinted(
    'allowedApiDomains',
    z.array(origin).default(() => [...D.allowedApiDomains]),
    'must be a list of origins such as https://api.example.com (scheme, host and port only, no trailing slash)',
  ),
  successRedirect: redirectTarget('successRedirect').optional(),
  browserSuccessRedirect: redirectTarget('browserSuccessRedirect').optional(),
  failureRedirect: redirectTarget('failureRedirect').optional(),
  refreshLeaseSeconds: wholeOr('refreshLeaseSeconds', 1, 300, 'seconds', D.refreshLeaseSeconds),
  tokenRequestTimeoutMs: wholeOr('tokenRequestTimeoutMs', 100, 120_000, 'milliseconds', D.tokenRequestTimeoutMs),
  tokenCacheSize: wholeOr('tokenCacheSize', 0, 10_000_000, '', D.tokenCacheSize),
  refreshSweep: refreshSweepSchema.optional(),
  client: clientSchema.prefault({}),
  metrics: metricsSchema.optional(),
});

/** Equal types, not merely assignable ones: an option added, dropped or retyped on one side only fails. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Flat<T> = { [K in keyof T]: T[K] extends object ? (T[K] extends unknown[] ? T[K] : Flat<T[K]>) : T[K] } & {};
type ResolvedBySchema = Flat<
  Omit<z.output<typeof optionsSchema>, 'secureCookies' | 'allowedOrigins'> & { secureCookies: boolean; allowedOrigins: string[] }
>;
/** Fails `tsc` when the documented interfaces drift from the schema that validates them. */
const schemaMatchesInterfaces: [
  Equals<Flat<PipedriveAuthModuleOptions>, Flat<z.input<typeof optionsSchema>>>,
  Equals<Flat<ResolvedPipedriveOptions>, ResolvedBySchema>,
] = [true, true];
void schemaMatchesInterfaces;

/**
 * Validates the options given to `PipedriveAuthModule.forRoot()`/`forRootAsync()` and fills every default.
 * Runs once at start-up, so a wrong setting stops the app with a message naming the option.
 * @throws PipedriveConfigurationError naming each wrong option and what to set; never quoting a value.
 */
export function resolvePipedriveOptions(options: PipedriveAuthModuleOptions): ResolvedPipedriveOptions {
  if (options === null || typeof options !== 'object') {
    throw new PipedriveConfigurationError(
      'PipedriveAuthModule options are missing: pass { clientId, clientSecret, redirectUri, encryptionKey, sessionSecret } to forRoot(), or return them from the forRootAsync() factory.',
    );
  }
  // reportInput: describeIssue tells a missing option from a wrong one; issues never leave this function.
  const parsed = optionsSchema.safeParse(options, { reportInput: true });
  if (!parsed.success) {
    const problems = [...new Set(parsed.error.issues.flatMap(describeIssue))];
    throw new PipedriveConfigurationError(`Invalid PipedriveAuthModule options: ${problems.join('; ')}.`);
  }
  const { secureCookies, allowedOrigins, ...resolved } = parsed.data;
  const oauthBaseUrl = resolved.oauthBaseUrl.replace(/\/+$/, '');
  refuseUnsafeSettings({ ...resolved, oauthBaseUrl });
  return {
    ...resolved,
    oauthBaseUrl,
    secureCookies: secureCookies ?? new URL(resolved.redirectUri).protocol === 'https:',
    allowedOrigins: allowedOrigins ?? [new URL(resolved.redirectUri).origin],
  };
}

/**
 * Secrets published with the reference app's sandbox (in its source, hence known to everyone): accepted
 * only while `oauthBaseUrl` is not Pipedrive's own, i.e. against the emulator or another test double.
 */
export const PIPEDRIVE_SANDBOX_SECRETS = {
  encryptionKey: Buffer.alloc(32, 's').toString('base64'),
  sessionSecret: 'sandbox-only-session-secret-not-for-production',
} as const;

/** Whether `url` is served by Pipedrive itself: `https://pipedrive.com` or `https://<sub>.pipedrive.com`, default port. */
export function isPipedriveOrigin(url: string): boolean {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  return (
    parsed !== undefined &&
    parsed.protocol === 'https:' &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    /^([a-z0-9-]+\.)*pipedrive\.com$/.test(parsed.hostname)
  );
}

/**
 * Whether the token endpoint may name `apiDomain` as a connection's API origin, where its bearer token
 * will be sent: Pipedrive's own origins, `allowedApiDomains`, and the origin of a non-Pipedrive `oauthBaseUrl`.
 */
export function isTrustedApiDomain(
  apiDomain: string,
  options: Pick<ResolvedPipedriveOptions, 'oauthBaseUrl' | 'allowedApiDomains'>,
): boolean {
  if (!URL.canParse(apiDomain)) return false;
  const url = new URL(apiDomain);
  // A path, query or credentials would change where requests go or what they carry.
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return false;
  if (isPipedriveOrigin(url.origin)) return true;
  if (options.allowedApiDomains.includes(url.origin)) return true;
  return !isPipedriveOrigin(options.oauthBaseUrl) && new URL(options.oauthBaseUrl).origin === url.origin;
}

/** Settings that parse but would fail open in production. */
function refuseUnsafeSettings(options: { oauthBaseUrl: string; encryptionKey: string; sessionSecret: string; redirectUri: string }): void {
  const problems: string[] = [];
  if (isPipedriveOrigin(options.oauthBaseUrl)) {
    if (options.encryptionKey.trim() === PIPEDRIVE_SANDBOX_SECRETS.encryptionKey) {
      problems.push('option "encryptionKey" is the published sandbox key; generate your own with `openssl rand -base64 32`');
    }
    if (options.sessionSecret === PIPEDRIVE_SANDBOX_SECRETS.sessionSecret) {
      problems.push('option "sessionSecret" is the published sandbox secret; generate your own with `openssl rand -base64 48`');
    }
  }
  const redirect = new URL(options.redirectUri);
  if (isProductionEnv(process.env.NODE_ENV) && redirect.protocol === 'http:' && !['localhost', '127.0.0.1'].includes(redirect.hostname)) {
    problems.push('option "redirectUri" must be https in production (http is accepted only for localhost and 127.0.0.1)');
  }
  if (problems.length > 0) throw new PipedriveConfigurationError(`Invalid PipedriveAuthModule options: ${problems.join('; ')}.`);
}

/**
 * Whether NODE_ENV names anything but development or test. Unknown spellings (`Production`, `prod`,
 * `staging`) count as production: a typo must not turn the production checks off.
 */
export function isProductionEnv(nodeEnv: string | undefined): boolean {
  return nodeEnv !== undefined && nodeEnv !== '' && !['development', 'test'].includes(nodeEnv);
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    return issue.keys.map((key) => `unknown option "${prefix}${key}": remove it or check its spelling`);
  }
  // Array items (previousEncryptionKeys[1]) share their list's hint.
  const name = issue.path.filter((part) => typeof part === 'string').join('.');
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const hint = HINTS.get(name) ?? 'is invalid';
  return [`option "${name}" ${missing ? 'is required and ' : ''}${hint}`];
}
