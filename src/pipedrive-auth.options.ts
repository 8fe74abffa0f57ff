import { z } from 'zod';
import { PipedriveConfigurationError } from './errors/pipedrive.errors.js';
import type { PipedriveRedis } from './client/burst-limiter.js';
import type { PipedriveMetricsOptions } from './metrics/pipedrive-metrics.js';

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
   * @default 'https://oauth.pipedrive.com'
   */
  oauthBaseUrl?: string;
  /** Key that encrypts tokens at rest: 32 random bytes, base64-encoded (`openssl rand -base64 32`). */
  encryptionKey: string;
  /**
   * Earlier encryption keys, kept only to decrypt tokens written before a key rotation.
   * @default []
   */
  previousEncryptionKeys?: string[];
  /**
   * Refresh an access token this many seconds before it expires.
   * @default 300
   */
  refreshMarginSeconds?: number;
  /**
   * Reject callbacks without a valid `state`. Set to false only if your Marketplace listing
   * sends installs without `state` (Pipedrive enables `state` per app).
   * @default true
   */
  requireState?: boolean;
  /**
   * How long an authorization `state` stays valid, in seconds (at most 600).
   * @default 600
   */
  stateTtlSeconds?: number;
  /** Secret that signs the session cookie; at least 32 characters. */
  sessionSecret: string;
  /**
   * Name of the session cookie naming the user's connection.
   * @default 'pipedrive_session'
   */
  sessionCookieName?: string;
  /**
   * Lifetime of the session cookie, in seconds.
   * @default 2592000 (30 days)
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
   * @default 30
   */
  refreshLeaseSeconds?: number;
  /**
   * Timeout of calls to the token and revoke endpoints, in milliseconds.
   * @default 10000
   */
  tokenRequestTimeoutMs?: number;
  /**
   * How many decrypted access tokens to keep in memory, so valid tokens need no database read.
   * @default 10000
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

export interface PipedriveClientOptions {
  /**
   * Per-request timeout in milliseconds.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries of idempotent requests after a 5xx or a network error.
   * @default 2
   */
  maxRetries?: number;
  /**
   * Waits after a 429 before the call fails with PipedriveRateLimitError.
   * @default 3
   */
  maxRateLimitRetries?: number;
  /**
   * Keep-alive connections per api_domain.
   * @default 64
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
   * @default 'pipedrive:'
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
   * @default [0.8, 0.95]
   */
  budgetWarningFractions?: number[];
  /**
   * How long a company's custom-field definitions are used before they are fetched again, in seconds;
   * a name, hash or option the cached copy does not know fetches them sooner.
   * @default 300
   */
  customFieldsTtlSeconds?: number;
}

/** Client options after validation: defaults filled, Redis and the budget still optional. */
export type ResolvedPipedriveClientOptions = Required<Omit<PipedriveClientOptions, 'redis' | 'dailyBudget'>> &
  Pick<PipedriveClientOptions, 'redis' | 'dailyBudget'>;

export interface PipedriveRefreshSweepOptions {
  /** Seconds between two sweeps of one instance (a sweep still running when the next is due is not overlapped). */
  intervalSeconds: number;
  /**
   * At most this many connections refreshed per sweep, those expiring first.
   * @default 100
   */
  batchSize?: number;
}

/** Options after validation, with every default filled in. */
export interface ResolvedPipedriveOptions
  extends Required<
    Omit<PipedriveAuthModuleOptions, 'successRedirect' | 'browserSuccessRedirect' | 'failureRedirect' | 'client' | 'refreshSweep' | 'metrics'>
  > {
  successRedirect?: string;
  browserSuccessRedirect?: string;
  failureRedirect?: string;
  client: ResolvedPipedriveClientOptions;
  /** Unset when the sweep is off. */
  refreshSweep?: Required<PipedriveRefreshSweepOptions>;
  /** Unset when metrics are off. */
  metrics?: PipedriveMetricsOptions;
}

const seconds = (min: number, max: number) => z.int().min(min).max(max);
const httpUrl = z.url({ protocol: /^https?$/ });
/** An absolute http(s) URL, or a path on this site ("/done"); never "//host" (an open redirect). */
const redirectTarget = z.union([httpUrl, z.string().regex(/^\/(?!\/)/)]);
const base64Key = z.string().refine((value) => Buffer.from(value.trim(), 'base64').length === 32);
/** RFC 6265 cookie-name characters. */
const cookieName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);

const clientSchema = z.strictObject({
  timeoutMs: z.int().min(100).max(600_000).default(30_000),
  maxRetries: z.int().min(0).max(10).default(2),
  maxRateLimitRetries: z.int().min(0).max(10).default(3),
  connectionsPerOrigin: z.int().min(1).max(1024).default(64),
  redis: z.custom<PipedriveRedis>((value) => typeof (value as PipedriveRedis | null)?.evalsha === 'function').optional(),
  redisKeyPrefix: z.string().min(1).max(100).default('pipedrive:'),
  dailyBudget: z.int().min(1).optional(),
  budgetWarningFractions: z.array(z.number().gt(0).max(1)).default([0.8, 0.95]),
  customFieldsTtlSeconds: z.int().min(0).max(86_400).default(300),
});

const metricsSchema = z.strictObject({
  registry: z.custom<PipedriveMetricsOptions['registry']>(
    (value) => typeof (value as { registerMetric?: unknown } | null)?.registerMetric === 'function',
  ),
  prefix: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/).default('pipedrive_'),
});

export const DEFAULT_SWEEP_BATCH_SIZE = 100;

const refreshSweepSchema = z.strictObject({
  intervalSeconds: seconds(1, 86_400),
  batchSize: z.int().min(1).max(10_000).default(DEFAULT_SWEEP_BATCH_SIZE),
});

const optionsSchema = z.strictObject({
  clientId: z.string().trim().min(1),
  clientSecret: z.string().min(1),
  redirectUri: httpUrl,
  oauthBaseUrl: httpUrl.default('https://oauth.pipedrive.com'),
  encryptionKey: base64Key,
  previousEncryptionKeys: z.array(base64Key).default([]),
  refreshMarginSeconds: seconds(0, 3600).default(300),
  requireState: z.boolean().default(true),
  stateTtlSeconds: seconds(1, 600).default(600),
  sessionSecret: z.string().min(32),
  sessionCookieName: cookieName.default('pipedrive_session'),
  sessionMaxAgeSeconds: seconds(60, 34_560_000).default(2_592_000),
  secureCookies: z.boolean().optional(),
  successRedirect: redirectTarget.optional(),
  browserSuccessRedirect: redirectTarget.optional(),
  failureRedirect: redirectTarget.optional(),
  refreshLeaseSeconds: seconds(1, 300).default(30),
  tokenRequestTimeoutMs: z.int().min(100).max(120_000).default(10_000),
  tokenCacheSize: z.int().min(0).max(10_000_000).default(10_000),
  refreshSweep: refreshSweepSchema.optional(),
  client: clientSchema.prefault({}),
  metrics: metricsSchema.optional(),
});

/**
 * What to set, per option. Issues are reported with these texts only: zod's own messages may quote
 * the input, and the input may be a secret.
 */
const HINTS: Record<string, string> = {
  clientId: 'must be the OAuth client id of your app (Pipedrive Developer Hub > your app > OAuth & access scopes)',
  clientSecret: 'must be the OAuth client secret of your app (Pipedrive Developer Hub), a non-empty string',
  redirectUri: 'must be the absolute http(s) callback URL registered for your app, e.g. https://example.com/auth/pipedrive/callback',
  oauthBaseUrl: 'must be an absolute http(s) URL; leave it unset for https://oauth.pipedrive.com',
  encryptionKey: 'must be 32 random bytes, base64-encoded; generate one with `openssl rand -base64 32`',
  previousEncryptionKeys: 'must be a list of earlier encryptionKey values, each 32 bytes base64-encoded',
  refreshMarginSeconds: 'must be a whole number of seconds from 0 to 3600 (default 300)',
  requireState: 'must be true or false (default true)',
  stateTtlSeconds: 'must be a whole number of seconds from 1 to 600 (default 600)',
  sessionSecret: 'must be a random string of at least 32 characters; generate one with `openssl rand -base64 48`',
  sessionCookieName: 'must be a cookie name (letters, digits and !#$%&\'*+-.^_`|~ only); default pipedrive_session',
  sessionMaxAgeSeconds: 'must be a whole number of seconds from 60 to 34560000 (400 days); default 2592000',
  secureCookies: 'must be true or false; leave it unset to follow the scheme of redirectUri',
  successRedirect: 'must be an absolute http(s) URL or a path starting with a single "/"',
  browserSuccessRedirect: 'must be an absolute http(s) URL or a path starting with a single "/"',
  failureRedirect: 'must be an absolute http(s) URL or a path starting with a single "/"',
  refreshLeaseSeconds: 'must be a whole number of seconds from 1 to 300 (default 30)',
  tokenRequestTimeoutMs: 'must be a whole number of milliseconds from 100 to 120000 (default 10000)',
  tokenCacheSize: 'must be a whole number from 0 to 10000000 (default 10000)',
  refreshSweep: 'must be an object { intervalSeconds, batchSize? }, or unset to turn the background refresh off',
  'refreshSweep.intervalSeconds': 'must be a whole number of seconds from 1 to 86400 between two sweeps, e.g. 60',
  'refreshSweep.batchSize': 'must be a whole number of connections per sweep from 1 to 10000 (default 100)',
  client: 'must be an object with timeoutMs, maxRetries, maxRateLimitRetries, connectionsPerOrigin, redis, redisKeyPrefix, dailyBudget, budgetWarningFractions and customFieldsTtlSeconds',
  'client.timeoutMs': 'must be a whole number of milliseconds from 100 to 600000 (default 30000)',
  'client.maxRetries': 'must be a whole number from 0 to 10 (default 2)',
  'client.maxRateLimitRetries': 'must be a whole number from 0 to 10 (default 3)',
  'client.connectionsPerOrigin': 'must be a whole number from 1 to 1024 (default 64)',
  'client.redis': 'must be an ioredis client (new Redis(url)), or unset to pace from the rate-limit headers alone',
  'client.redisKeyPrefix': 'must be a non-empty string of at most 100 characters (default pipedrive:)',
  'client.dailyBudget': 'must be a whole number of API tokens per company and day, e.g. 30000, or unset',
  'client.budgetWarningFractions': 'must be a list of fractions above 0 and at most 1 (default [0.8, 0.95])',
  'client.customFieldsTtlSeconds': 'must be a whole number of seconds from 0 to 86400 (default 300)',
  metrics: 'must be an object { registry, prefix? }, or unset to record no metrics',
  'metrics.registry': 'must be a prom-client Registry (new Registry() from prom-client)',
  'metrics.prefix': 'must be a Prometheus metric-name prefix: letters, digits, _ and :, not starting with a digit (default pipedrive_)',
};

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
  const { secureCookies, ...resolved } = parsed.data;
  return {
    ...resolved,
    oauthBaseUrl: resolved.oauthBaseUrl.replace(/\/+$/, ''),
    secureCookies: secureCookies ?? new URL(resolved.redirectUri).protocol === 'https:',
  };
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    return issue.keys.map((key) => `unknown option "${prefix}${key}": remove it or check its spelling`);
  }
  // Array items (previousEncryptionKeys[1]) share their list's hint.
  const name = issue.path.filter((part) => typeof part === 'string').join('.');
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const hint = HINTS[name] ?? 'is invalid';
  return [`option "${name}" ${missing ? 'is required and ' : ''}${hint}`];
}
