import { z } from 'zod';
import { isProductionEnv, PIPEDRIVE_SANDBOX_SECRETS } from '../../pipedrive-auth.options.js';

/** The reference app's configuration, read once from the environment at start-up. */
export interface AppConfig {
  port: number;
  production: boolean;
  /** Start the built-in Pipedrive emulator and point the module at it. */
  sandbox: boolean;
  database: DatabaseConfig;
  pipedrive: {
    clientId: string;
    clientSecret: string;
    redirectUri: string;
    oauthBaseUrl: string;
    encryptionKey: string;
    previousEncryptionKeys: string[];
    refreshMarginSeconds: number;
    requireState: boolean;
    sessionSecret: string;
    /** Origins the token endpoint may name as api_domain besides Pipedrive's (PIPEDRIVE_ALLOWED_API_DOMAINS). */
    allowedApiDomains: string[];
    /** Origins allowed to send state-changing requests; unset: the redirect URI's (PIPEDRIVE_ALLOWED_ORIGINS). */
    allowedOrigins?: string[];
    /** Unset: no background refresh. */
    refreshSweep?: { intervalSeconds: number };
  };
  /** Serve Prometheus metrics at `GET /metrics` (METRICS=true). */
  metrics: boolean;
  /** Pipedrive webhooks v2 each connection is subscribed to. */
  webhooks: {
    /** `action.object` names; empty: no webhooks are registered. */
    events: string[];
    /** The public URL of this app's receiver. */
    subscriptionUrl: string;
  };
  /** App extensions; `jwtSecret` unset means the client secret (as Pipedrive signs without one). */
  extensions: { jwtSecret?: string };
}

export type DatabaseConfig = { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };

export type Env = Record<string, string | undefined>;

/** Thrown at start-up; the message names the variables to set. */
export class AppConfigError extends Error {
  override name = 'AppConfigError';
}

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  NODE_ENV: z.string().optional(),
  PIPEDRIVE_SANDBOX: flag.optional(),
  PIPEDRIVE_CLIENT_ID: z.string().min(1).optional(),
  PIPEDRIVE_CLIENT_SECRET: z.string().min(1).optional(),
  PIPEDRIVE_REDIRECT_URI: z.url().optional(),
  PIPEDRIVE_OAUTH_URL: z.url().default('https://oauth.pipedrive.com'),
  PIPEDRIVE_ENCRYPTION_KEY: z.string().min(1).optional(),
  PIPEDRIVE_PREVIOUS_ENCRYPTION_KEYS: z.string().default(''),
  PIPEDRIVE_REFRESH_MARGIN_SECONDS: z.coerce.number().int().min(0).default(300),
  PIPEDRIVE_REQUIRE_STATE: flag.default(true),
  PIPEDRIVE_REFRESH_SWEEP_SECONDS: z.coerce.number().int().min(1).max(86_400).optional(),
  PIPEDRIVE_WEBHOOK_EVENTS: z.string().optional(),
  PIPEDRIVE_WEBHOOK_URL: z.url().optional(),
  DATABASE_URL: z.string().default('sqlite:data/pipedrive.sqlite'),
  SESSION_SECRET: z.string().min(1).optional(),
  PIPEDRIVE_ALLOWED_API_DOMAINS: z.string().default(''),
  PIPEDRIVE_ALLOWED_ORIGINS: z.string().default(''),
  PIPEDRIVE_EXTENSIONS_JWT_SECRET: z.string().min(1).optional(),
  METRICS: flag.default(false),
});

type ParsedEnv = z.infer<typeof envSchema>;

const REQUIRED_OUTSIDE_SANDBOX = [
  'PIPEDRIVE_CLIENT_ID',
  'PIPEDRIVE_CLIENT_SECRET',
  'PIPEDRIVE_REDIRECT_URI',
  'PIPEDRIVE_ENCRYPTION_KEY',
  'SESSION_SECRET',
] as const;

/**
 * Well-known sandbox-only secrets: the emulator's tokens are worthless and die with the process, and
 * fixed values keep the sandbox database readable across restarts. The library refuses them against Pipedrive.
 */
const { encryptionKey: SANDBOX_ENCRYPTION_KEY, sessionSecret: SANDBOX_SESSION_SECRET } = PIPEDRIVE_SANDBOX_SECRETS;
/** What the sandbox subscribes to when PIPEDRIVE_WEBHOOK_EVENTS is unset: `POST /pipedrive/deals` then shows an event. */
const SANDBOX_WEBHOOK_EVENTS = ['*.deal'];
/** Where the receiver is mounted (the module's default path). */
export const WEBHOOK_RECEIVER_PATH = '/webhooks/pipedrive';

export function loadAppConfig(env: Env): AppConfig {
  // `.env.example` lists every variable with an empty value: an empty value means unset, as in a shell.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AppConfigError(`Invalid environment: ${problems.join('; ')}. See .env.example.`);
  }
  const vars = parsed.data;
  // Fail closed: only an unset, `development` or `test` NODE_ENV may fall back to the sandbox.
  const production = isProductionEnv(vars.NODE_ENV);
  const sandbox = vars.PIPEDRIVE_SANDBOX ?? (!production && !vars.PIPEDRIVE_CLIENT_ID);
  if (sandbox && production) {
    throw new AppConfigError(
      `PIPEDRIVE_SANDBOX cannot be used with NODE_ENV=${vars.NODE_ENV} (only unset, development or test); set real Pipedrive credentials.`,
    );
  }
  if (!sandbox) {
    const missing = REQUIRED_OUTSIDE_SANDBOX.filter((name) => !vars[name]);
    if (missing.length > 0) {
      throw new AppConfigError(
        `Missing ${missing.join(', ')}: set them (see .env.example)` +
          (production
            ? ` (NODE_ENV=${vars.NODE_ENV} is neither development nor test, so the sandbox stays off).`
            : ', or set PIPEDRIVE_SANDBOX=true to use the built-in emulator.'),
      );
    }
  }
  return toAppConfig(vars, production, sandbox);
}

function toAppConfig(vars: ParsedEnv, production: boolean, sandbox: boolean): AppConfig {
  const port = vars.PORT;
  const redirectUri = vars.PIPEDRIVE_REDIRECT_URI ?? `http://localhost:${port}/auth/pipedrive/callback`;
  const events =
    vars.PIPEDRIVE_WEBHOOK_EVENTS === undefined
      ? sandbox
        ? SANDBOX_WEBHOOK_EVENTS
        : []
      : vars.PIPEDRIVE_WEBHOOK_EVENTS.split(',')
          .map((e) => e.trim())
          .filter(Boolean);
  return {
    port,
    production,
    sandbox,
    database: parseDatabaseUrl(vars.DATABASE_URL),
    pipedrive: {
      clientId: vars.PIPEDRIVE_CLIENT_ID ?? 'sandbox-client',
      clientSecret: vars.PIPEDRIVE_CLIENT_SECRET ?? 'sandbox-secret',
      redirectUri,
      oauthBaseUrl: vars.PIPEDRIVE_OAUTH_URL,
      encryptionKey: vars.PIPEDRIVE_ENCRYPTION_KEY ?? SANDBOX_ENCRYPTION_KEY,
      previousEncryptionKeys: vars.PIPEDRIVE_PREVIOUS_ENCRYPTION_KEYS.split(',').filter(Boolean),
      refreshMarginSeconds: vars.PIPEDRIVE_REFRESH_MARGIN_SECONDS,
      requireState: vars.PIPEDRIVE_REQUIRE_STATE,
      sessionSecret: vars.SESSION_SECRET ?? SANDBOX_SESSION_SECRET,
      // The origin of a non-Pipedrive PIPEDRIVE_OAUTH_URL (the sandbox, a test double) the library trusts itself.
      allowedApiDomains: originList('PIPEDRIVE_ALLOWED_API_DOMAINS', vars.PIPEDRIVE_ALLOWED_API_DOMAINS),
      ...(vars.PIPEDRIVE_ALLOWED_ORIGINS && { allowedOrigins: originList('PIPEDRIVE_ALLOWED_ORIGINS', vars.PIPEDRIVE_ALLOWED_ORIGINS) }),
      ...(vars.PIPEDRIVE_REFRESH_SWEEP_SECONDS && { refreshSweep: { intervalSeconds: vars.PIPEDRIVE_REFRESH_SWEEP_SECONDS } }),
    },
    webhooks: { events, subscriptionUrl: vars.PIPEDRIVE_WEBHOOK_URL ?? `${new URL(redirectUri).origin}${WEBHOOK_RECEIVER_PATH}` },
    extensions: { jwtSecret: vars.PIPEDRIVE_EXTENSIONS_JWT_SECRET },
    metrics: vars.METRICS,
  };
}

/** Comma-separated origins (`https://host[:port]`), each checked, so a typo names the variable at start-up. */
function originList(name: string, value: string): string[] {
  const origins = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
      throw new AppConfigError(`${name} must list origins such as https://api.example.com, comma-separated (no path, no trailing slash).`);
    }
  }
  return origins;
}

export function parseDatabaseUrl(url: string): DatabaseConfig {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path) return { type: 'sqlite', path };
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    return { type: 'postgres', url };
  }
  throw new AppConfigError('DATABASE_URL must be sqlite:PATH (e.g. sqlite:data/pipedrive.sqlite) or postgres://USER@HOST:PORT/DB.');
}
