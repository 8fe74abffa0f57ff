import { createRequire } from 'node:module';
import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { PipedriveMetricsOptions, PipedriveMetricsRegistry, ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PIPEDRIVE_EVENTS, PipedriveEvents } from '../tokens/pipedrive-events.js';

export type { PipedriveMetricsOptions, PipedriveMetricsRegistry };

/** Why a retry was sent. */
export type PipedriveRetryReason = 'rate_limit' | 'server_error' | 'network' | 'unauthorized';

/** What a wait of the client was for: its own burst pacing, a 429's back-off, or a retry's back-off. */
export type PipedriveWaitReason = 'pacing' | 'rate_limit' | 'retry';

/**
 * What the webhooks module reports: the inbox depth is read at each scrape, the lag (receipt to the
 * end of handling) is observed once per handled event.
 */
export interface PipedriveWebhookMetrics {
  /** Sets the function that counts events waiting in the inbox; called at each scrape. */
  webhookInboxDepth(read: () => number | Promise<number>): void;
  /** One event left the inbox `lagSeconds` after it was received, `handled` or `failed` (dead-lettered). */
  webhookHandled(lagSeconds: number, outcome: 'handled' | 'failed'): void;
}

/** Label values whose cardinality stays bounded: API paths become templates, ids never reach a label. */
const ID_SEGMENT = /^(?:\d+|[0-9a-f]{40}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * `/api/v2/deals/12/products` -> `/api/v2/deals/:id/products`. Any segment after the version that
 * looks like an id (a number, a field hash, a UUID) or carries a digit or an `@` becomes `:id`, so
 * neither a record id nor an e-mail address can become a label value.
 */
export function pathTemplate(apiPath: string): string {
  const segments = apiPath.split('/');
  for (let i = 3; i < segments.length; i++) {
    const segment = segments[i]!;
    if (ID_SEGMENT.test(segment) || /[\d@%]/.test(segment) || segment.length > 40) segments[i] = ':id';
  }
  return segments.join('/');
}

/** The metrics themselves, created in the app's registry when metrics are on. */
class PrometheusMetrics {
  readonly apiRequests: Counter<'method' | 'path' | 'status'>;
  readonly apiDuration: Histogram<'method' | 'path'>;
  readonly rateLimited: Counter<'kind'>;
  readonly retries: Counter<'reason'>;
  readonly waitSeconds: Counter<'reason'>;
  readonly refreshes: Counter<'reason'>;
  readonly refreshFailures: Counter<'reason'>;
  readonly tokenCache: Counter<'result'>;
  readonly inboxDepth: Gauge;
  readonly webhookLag: Histogram<'outcome'>;
  inboxReader: (() => number | Promise<number>) | undefined;

  constructor({ registry, prefix }: Required<PipedriveMetricsOptions>) {
    // Loaded only when metrics are on: prom-client is an optional peer.
    const prom = createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
    // The option is typed structurally (see PipedriveMetricsRegistry); at run time it is the app's prom-client Registry.
    const registers = [registry as unknown as import('prom-client').Registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      new prom.Counter<L>({ name: prefix + name, help, labelNames, registers });
    this.apiRequests = counter('api_requests_total', 'Pipedrive API calls answered, by method, path template and status (0: no answer).', [
      'method',
      'path',
      'status',
    ]);
    this.apiDuration = new prom.Histogram({
      name: `${prefix}api_request_duration_seconds`,
      help: 'Time of one Pipedrive API exchange (one attempt), by method and path template.',
      labelNames: ['method', 'path'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rateLimited = counter(
      'api_rate_limited_total',
      'Pipedrive 429 answers, by kind: burst (2 s window) or budget (daily token budget).',
      ['kind'],
    );
    this.retries = counter('api_retries_total', 'Pipedrive API calls sent again, by reason.', ['reason']);
    this.waitSeconds = counter(
      'api_wait_seconds_total',
      'Seconds calls spent waiting before being sent: pacing, 429 back-off, retry back-off.',
      ['reason'],
    );
    this.refreshes = counter('token_refreshes_total', 'Access tokens refreshed, by reason (expired, refresh_ahead, rejected).', ['reason']);
    this.refreshFailures = counter(
      'token_refresh_failures_total',
      'Failed token refreshes, by reason (invalid_grant, token_endpoint, network, other).',
      ['reason'],
    );
    this.tokenCache = counter('token_cache_requests_total', 'Access-token look-ups, by result: hit (served from memory) or miss.', [
      'result',
    ]);
    const self = this;
    this.inboxDepth = new prom.Gauge({
      name: `${prefix}webhook_inbox_depth`,
      help: 'Webhook events stored and not yet handled.',
      registers,
      async collect() {
        if (self.inboxReader) this.set(await self.inboxReader());
      },
    });
    this.webhookLag = new prom.Histogram({
      name: `${prefix}webhook_handling_lag_seconds`,
      help: 'Time from receiving a webhook event to the end of its handling, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
      registers,
    });
  }
}

/**
 * The library's Prometheus metrics, registered in the registry the app passes as `metrics.registry`.
 * Without that option every method does nothing. Labels never carry a token, a person's id or a raw
 * path: paths are templates (`/api/v2/deals/:id`). Inject it to report webhook inbox figures.
 */
@Injectable()
export class PipedriveMetrics implements PipedriveWebhookMetrics {
  private readonly prom: PrometheusMetrics | undefined;

  constructor(@InjectPipedriveOptions() options: ResolvedPipedriveOptions, events: PipedriveEvents) {
    this.prom = options.metrics && new PrometheusMetrics(options.metrics);
    if (!this.prom) return;
    // Refresh outcomes are already events; only failures that emit none are reported by the refresher.
    events.on((event) => {
      if (event.type === PIPEDRIVE_EVENTS.refreshed) this.tokenRefreshed(event.reason ?? 'unknown');
      else if (event.type === PIPEDRIVE_EVENTS.reauthorizationRequired) this.tokenRefreshFailed('invalid_grant');
    });
  }

  /** Whether metrics are being recorded. */
  get enabled(): boolean {
    return this.prom !== undefined;
  }

  /** One answered attempt (`status` 0: no answer: timeout or network failure). */
  apiCall(method: string, apiPath: string, status: number, seconds: number): void {
    if (!this.prom) return;
    const path = pathTemplate(apiPath);
    this.prom.apiRequests.inc({ method, path, status: String(status) });
    this.prom.apiDuration.observe({ method, path }, seconds);
  }

  /** Counts a 429, by kind (burst window or daily budget). */
  rateLimited(kind: 'burst' | 'budget'): void {
    this.prom?.rateLimited.inc({ kind });
  }

  /** Counts a retry, by reason. */
  retry(reason: PipedriveRetryReason): void {
    this.prom?.retries.inc({ reason });
  }

  /** Adds time spent waiting (pacing, back-off), by reason. */
  waited(reason: PipedriveWaitReason, seconds: number): void {
    if (seconds > 0) this.prom?.waitSeconds.inc({ reason }, seconds);
  }

  /** Counts a token cache lookup, hit or miss. */
  tokenCache(hit: boolean): void {
    this.prom?.tokenCache.inc({ result: hit ? 'hit' : 'miss' });
  }

  /** Counts a token refresh, by reason. */
  tokenRefreshed(reason: string): void {
    this.prom?.refreshes.inc({ reason });
  }

  /** Counts a failed token refresh, by reason. */
  tokenRefreshFailed(reason: 'invalid_grant' | 'token_endpoint' | 'network' | 'other'): void {
    this.prom?.refreshFailures.inc({ reason });
  }

  webhookInboxDepth(read: () => number | Promise<number>): void {
    if (this.prom) this.prom.inboxReader = read;
  }

  webhookHandled(lagSeconds: number, outcome: 'handled' | 'failed'): void {
    this.prom?.webhookLag.observe({ outcome }, Math.max(0, lagSeconds));
  }
}
