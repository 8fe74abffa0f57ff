import { z } from 'zod';
import { PipedriveConfigurationError } from '../errors/pipedrive.errors.js';

/** Options of {@link PipedriveExtensionsModule}. */
export interface PipedriveExtensionsModuleOptions {
  /**
   * The "JWT secret" set for the app's extensions in Developer Hub, which signs the `token` Pipedrive
   * gives extension pages, JSON panels and `get_signed_token`.
   * @default the `clientSecret` of PipedriveAuthModule (what Pipedrive signs with when no JWT secret is set)
   */
  jwtSecret?: string;
  /**
   * Origins allowed to frame extension pages besides `https://*.pipedrive.com`, e.g. the emulator's
   * origin in a sandbox. Each is a scheme and host (`http://127.0.0.1:4000`), `*.` wildcards allowed.
   * @default []
   */
  frameAncestors?: string[];
  /**
   * Leeway for the token's `exp` and `nbf`, in seconds, for clocks of Pipedrive and this server that differ a little.
   * @default 10
   */
  clockToleranceSeconds?: number;
  /**
   * Send `Content-Security-Policy: frame-ancestors 'none'` and `X-Frame-Options: DENY` on every other
   * route, so only routes marked `@PipedriveExtensionPage()` can be framed. Turn off if something else
   * (helmet, a proxy) already sets the framing policy.
   * @default true
   */
  denyFramingElsewhere?: boolean;
}

/** Options after validation, every default filled in; `jwtSecret` undefined means the client secret. */
export type ResolvedPipedriveExtensionsOptions = Required<Omit<PipedriveExtensionsModuleOptions, 'jwtSecret'>> & {
  jwtSecret?: string;
};

/** A CSP source for frame-ancestors: scheme://host[:port], host may start with `*.`. */
const origin = z.string().regex(/^https?:\/\/(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i);

const schema = z.strictObject({
  jwtSecret: z.string().min(1).optional(),
  frameAncestors: z.array(origin).default([]),
  clockToleranceSeconds: z.int().min(0).max(300).default(10),
  denyFramingElsewhere: z.boolean().default(true),
});

const HINTS: Record<string, string> = {
  jwtSecret:
    'must be the JWT secret of your app extensions (Developer Hub > your app > App extensions), a non-empty string; leave it unset to use the client secret',
  frameAncestors: 'must be a list of origins such as "http://127.0.0.1:4000" or "https://*.example.com" (no path, no quotes)',
  clockToleranceSeconds: 'must be a whole number of seconds from 0 to 300 (default 10)',
  denyFramingElsewhere: 'must be true or false (default true)',
};

/**
 * Validates `PipedriveExtensionsModule.forRoot()` options and fills the defaults.
 * @throws PipedriveConfigurationError naming each wrong option; never quoting a value (it may be a secret).
 */
export function resolveExtensionsOptions(options: PipedriveExtensionsModuleOptions | undefined): ResolvedPipedriveExtensionsOptions {
  const parsed = schema.safeParse(options ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys')
        return issue.keys.map((key) => `unknown option "${key}": remove it or check its spelling`).join('; ');
      const name = String(issue.path[0] ?? 'options');
      return `option "${name}" ${HINTS[name] ?? 'is invalid'}`;
    });
    throw new PipedriveConfigurationError(`Invalid PipedriveExtensionsModule options: ${[...new Set(problems)].join('; ')}.`);
  }
  return parsed.data;
}
