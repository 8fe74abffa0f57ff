import { z } from 'zod';
import { PipedriveConfigurationError } from '../errors/pipedrive.errors.js';
import { parseEventPattern } from './webhook-event-pattern.js';

/** Options of {@link PipedriveWebhooksModule}. Every default lives in {@link WEBHOOK_DEFAULTS}. */
export interface PipedriveWebhooksModuleOptions {
  /**
   * v2 events each connection is subscribed to, as `action.object`: `create.deal`, `change.person`,
   * `*.deal`, `*.*`. One Pipedrive webhook is created per entry (Pipedrive allows 40 per user).
   * @default [] (no webhooks are registered; deliveries to existing ones are still received)
   */
  events?: string[];
  /**
   * The public URL Pipedrive posts deliveries to: this app's origin plus `receiverPath`. Must be
   * reachable from the internet and must not redirect. Required when `events` is not empty.
   * @default undefined
   */
  subscriptionUrl?: string;
  /**
   * Path of the receiver route this module mounts (absolute: the app's global prefix does not apply),
   * or `false` to mount none.
   * @default '/webhooks/pipedrive'
   */
  receiverPath?: string | false;
  /**
   * Largest delivery body accepted, in bytes; larger ones get 413 and are not stored.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * Handling attempts of one event before it is dead-lettered (a throwing handler is retried).
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Wait before the first retry of a failed event, in milliseconds; multiplied by `backoffFactor` for each next one.
   * @default 1000
   */
  backoffMs?: number;
  /**
   * Growth of the wait between two retries.
   * @default 4
   */
  backoffFactor?: number;
  /**
   * Longest wait between two retries, in milliseconds.
   * @default 3600000 (1 hour)
   */
  maxBackoffMs?: number;
  /**
   * How long an instance owns an event it claimed, in milliseconds. Another instance takes the event
   * over once this passes without the claim being renewed (the owner crashed); renewed while the handler runs.
   * @default 60000
   */
  leaseMs?: number;
  /**
   * Longest an event's handlers may run in one attempt, in milliseconds. Past it the attempt counts as
   * failed (retried with back-off, then dead-lettered), `event.signal` aborts, and the instance's slot and
   * claim are freed; a handler that ignores the signal keeps running, so the next attempt may overlap it.
   * @default 30000
   */
  handlerTimeoutMs?: number;
  /**
   * How long an instance reuses a webhook's credentials it read for a delivery, in milliseconds: the
   * longest another instance keeps accepting a connection's deliveries after its uninstall or disconnect
   * (the instance that handled it stops at once). 0 reads the webhook row for every delivery.
   * @default 5000
   */
  credentialsCacheMs?: number;
  /**
   * Events handled at the same time by one instance.
   * @default 16
   */
  concurrency?: number;
  /**
   * How often an instance looks for events other instances received or whose retry is due, in milliseconds.
   * Events this instance receives are started at once.
   * @default 1000
   */
  pollIntervalMs?: number;
  /**
   * Re-create missing webhooks of every connection this often, in seconds; unset: only on connect and
   * when `PipedriveWebhooksService.reconcile()` is called.
   * @default undefined (off)
   */
  reconcileIntervalSeconds?: number;
}

/** The single source of the module's defaults (README and tests read them from here). */
export const WEBHOOK_DEFAULTS = {
  events: [] as string[],
  receiverPath: '/webhooks/pipedrive',
  maxBodyBytes: 1_048_576,
  maxAttempts: 5,
  backoffMs: 1_000,
  backoffFactor: 4,
  maxBackoffMs: 3_600_000,
  leaseMs: 60_000,
  handlerTimeoutMs: 30_000,
  credentialsCacheMs: 5_000,
  concurrency: 16,
  pollIntervalMs: 1_000,
} as const;

/** Pipedrive's limit of app webhooks per user. */
export const MAX_WEBHOOKS_PER_USER = 40;

/** The webhook options after validation, defaults filled in (injected with `@InjectPipedriveWebhooksOptions()`). */
export interface ResolvedPipedriveWebhooksOptions extends Required<
  Omit<PipedriveWebhooksModuleOptions, 'subscriptionUrl' | 'reconcileIntervalSeconds'>
> {
  subscriptionUrl?: string;
  reconcileIntervalSeconds?: number;
}

const D = WEBHOOK_DEFAULTS;
const eventPattern = z.string().refine((value) => parseEventPattern(value) !== undefined);

const optionsSchema = z
  .strictObject({
    events: z
      .array(eventPattern)
      .max(MAX_WEBHOOKS_PER_USER)
      .default([...D.events]),
    subscriptionUrl: z.url({ protocol: /^https?$/ }).optional(),
    receiverPath: z.union([z.string().regex(/^\/[^?#\s]*$/), z.literal(false)]).default(D.receiverPath),
    maxBodyBytes: z
      .int()
      .min(1_024)
      .max(64 * 1_048_576)
      .default(D.maxBodyBytes),
    maxAttempts: z.int().min(1).max(100).default(D.maxAttempts),
    backoffMs: z.int().min(0).max(86_400_000).default(D.backoffMs),
    backoffFactor: z.number().min(1).max(100).default(D.backoffFactor),
    maxBackoffMs: z
      .int()
      .min(0)
      .max(7 * 86_400_000)
      .default(D.maxBackoffMs),
    leaseMs: z.int().min(1_000).max(3_600_000).default(D.leaseMs),
    handlerTimeoutMs: z.int().min(100).max(86_400_000).default(D.handlerTimeoutMs),
    credentialsCacheMs: z.int().min(0).max(300_000).default(D.credentialsCacheMs),
    concurrency: z.int().min(1).max(1_000).default(D.concurrency),
    pollIntervalMs: z.int().min(10).max(600_000).default(D.pollIntervalMs),
    reconcileIntervalSeconds: z
      .int()
      .min(60)
      .max(7 * 86_400)
      .optional(),
  })
  .refine((o) => o.events.length === 0 || o.subscriptionUrl !== undefined, { path: ['subscriptionUrl'] });

const HINTS: Record<string, string> = {
  events: `must be a list of at most ${MAX_WEBHOOKS_PER_USER} v2 events "action.object": action create, change, delete or *; object activity, deal, lead, note, organization, person, product, user or * (e.g. "*.deal")`,
  subscriptionUrl: 'must be the public http(s) URL of the receiver (your origin + receiverPath); it is required when events are set',
  receiverPath: `must be a path starting with "/" (default ${D.receiverPath}) or false`,
  maxBodyBytes: `must be a whole number of bytes from 1024 to 67108864 (default ${D.maxBodyBytes})`,
  maxAttempts: `must be a whole number from 1 to 100 (default ${D.maxAttempts})`,
  backoffMs: `must be a whole number of milliseconds from 0 to 86400000 (default ${D.backoffMs})`,
  backoffFactor: `must be a number from 1 to 100 (default ${D.backoffFactor})`,
  maxBackoffMs: `must be a whole number of milliseconds from 0 to 604800000 (default ${D.maxBackoffMs})`,
  leaseMs: `must be a whole number of milliseconds from 1000 to 3600000 (default ${D.leaseMs})`,
  handlerTimeoutMs: `must be a whole number of milliseconds from 100 to 86400000 (default ${D.handlerTimeoutMs})`,
  credentialsCacheMs: `must be a whole number of milliseconds from 0 to 300000 (default ${D.credentialsCacheMs}); 0 reads the webhook for every delivery`,
  concurrency: `must be a whole number from 1 to 1000 (default ${D.concurrency})`,
  pollIntervalMs: `must be a whole number of milliseconds from 10 to 600000 (default ${D.pollIntervalMs})`,
  reconcileIntervalSeconds: 'must be a whole number of seconds from 60 to 604800, or unset to turn it off',
};

/**
 * Validates the options of `PipedriveWebhooksModule.forRoot()`/`forRootAsync()` and fills the defaults.
 * @throws PipedriveConfigurationError naming each wrong option and what to set.
 */
export function resolveWebhooksOptions(options: PipedriveWebhooksModuleOptions | undefined): ResolvedPipedriveWebhooksOptions {
  const parsed = optionsSchema.safeParse(options ?? {}, { reportInput: true });
  if (!parsed.success) {
    const problems = [...new Set(parsed.error.issues.flatMap(describeIssue))];
    throw new PipedriveConfigurationError(`Invalid PipedriveWebhooksModule options: ${problems.join('; ')}.`);
  }
  const resolved = parsed.data;
  // The same event twice would create two webhooks delivering every event twice.
  return { ...resolved, events: [...new Set(resolved.events.map((e) => e.trim()))] };
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `unknown option "${key}": remove it or check its spelling`);
  const name = issue.path.filter((part) => typeof part === 'string').join('.');
  return [`option "${name}" ${HINTS[name] ?? 'is invalid'}`];
}
