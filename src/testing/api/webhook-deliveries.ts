import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { Agent, request } from 'undici';
import type { PipedriveClock } from '../../pipedrive.clock.js';
import type { ResourceName } from './resource-definition.js';
import type { Item } from './resource-table.js';
import type { PipedriveEmulatorWebhookAttempt, PipedriveEmulatorWebhookCounts } from './webhook.types.js';
import type { Hook, WebhookRegistry } from './webhooks.routes.js';

/** Pipedrive's delivery rules, in one place. */
export const DELIVERY_RULES = {
  /** A delivery succeeds when answered 2xx within this. */
  timeoutMs: 10_000,
  /** Waits before attempts 2, 3 and 4. */
  retryDelaysMs: [3_000, 30_000, 150_000],
  /** First-try failures that ban a webhook. */
  banAfterFirstTryFailures: 10,
  banMs: 30 * 60_000,
  /** A webhook with no successful delivery for this long is deleted. */
  expireAfterMs: 3 * 86_400_000,
} as const;

/** v2 webhook entity per emulated resource; resources without one (pipelines, stages) fire nothing in v2. */
const ENTITIES: Partial<Record<ResourceName, string>> = {
  deals: 'deal',
  persons: 'person',
  organizations: 'organization',
  activities: 'activity',
  leads: 'lead',
  notes: 'note',
  products: 'product',
};

/** A record created, changed or deleted, through the API (`api`) or by a user in the web UI (`app`). */
export interface DataChange {
  companyId: number;
  userId: number;
  resource: ResourceName;
  action: 'create' | 'change' | 'delete';
  /** The record now; null after a delete. */
  current: Item | null;
  /** The whole record before; null on create. */
  before: Item | null;
  source: 'api' | 'app';
  /** Epoch ms. */
  at: number;
}

export interface WebhookDeliveriesDeps {
  registry: WebhookRegistry;
  clock: PipedriveClock;
  timeScale: number;
  /** `company.pipedrive.com` for `meta.host`. */
  hostOf: (companyId: number) => string;
  maxRecordedAttempts: number;
}

interface Delivery {
  hook: Hook;
  meta: Record<string, unknown>;
  data: Item | null;
  previous: Record<string, unknown> | null;
}

/**
 * Sends v2 webhook deliveries as Pipedrive does: a JSON POST with the webhook's Basic credentials,
 * success = 2xx within 10 s, retries at +3 s, +30 s, +150 s with the same `meta.id`, a 30-minute ban
 * (events lost) after ten first-try failures, deletion after three days without a success.
 */
export class WebhookDeliveries {
  readonly counts: PipedriveEmulatorWebhookCounts = zeroCounts();
  readonly attempts: PipedriveEmulatorWebhookAttempt[] = [];
  private inFlight = 0;
  private pending = 0;
  private waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  private readonly closing = new AbortController();
  private readonly agent = new Agent({ keepAliveTimeout: 1_000 });

  constructor(private readonly deps: WebhookDeliveriesDeps) {
    // Every waiting retry and POST in flight listens for close: thousands at once are normal here.
    setMaxListeners(0, this.closing.signal);
  }

  /** Hands one data change to every matching webhook of the company. */
  publish(change: DataChange): void {
    const entity = ENTITIES[change.resource];
    if (!entity || this.closing.signal.aborted) return;
    const previous = previousFields(change);
    if (previous === undefined) return; // an update that changed nothing fires nothing
    const record = (change.current ?? change.before)!;
    const { registry } = this.deps;
    const correlationId = randomUUID();
    for (const hook of registry.matching(change.companyId, change.action, entity)) {
      this.counts.deliveries++;
      if (this.banned(hook)) {
        this.counts.lost++;
        continue;
      }
      const meta = {
        action: change.action,
        entity,
        entity_id: String(record.id),
        company_id: String(change.companyId),
        user_id: String(change.userId),
        id: randomUUID(),
        correlation_id: correlationId,
        timestamp: new Date(change.at).toISOString(),
        type: 'application',
        version: '2.0',
        webhook_id: String(hook.id),
        webhook_owner_id: String(hook.ownerId),
        change_source: change.source,
        attempt: 1,
        is_bulk_edit: false,
        host: this.deps.hostOf(change.companyId),
        permitted_user_ids: permittedUsers(change, record, hook),
      };
      // Copies: later edits of the record must not change what a retry sends.
      void this.deliver({ hook, meta, data: structuredClone(change.current), previous: structuredClone(previous) });
    }
  }

  /** Resolves once no delivery is under way or waiting for a retry. */
  settled(): Promise<void> {
    return this.until(() => this.pending === 0);
  }

  /** Resolves once no POST is in flight; retries may still wait for their time (advance the clock). */
  idle(): Promise<void> {
    return this.until(() => this.inFlight === 0);
  }

  /** Waiting retries are dropped and POSTs in flight aborted. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.settled();
    await this.agent.destroy();
  }

  reset(): void {
    Object.assign(this.counts, zeroCounts());
    this.attempts.length = 0;
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const { hook } = delivery;
    const { clock } = this.deps;
    this.pending++;
    try {
      for (let attempt = 1; attempt <= DELIVERY_RULES.retryDelaysMs.length + 1; attempt++) {
        if (attempt > 1) await clock.sleep(this.scaled(DELIVERY_RULES.retryDelaysMs[attempt - 2]!), this.closing.signal);
        if (hook.removed || this.banned(hook)) {
          this.counts.lost++;
          return;
        }
        delivery.meta.attempt = attempt;
        const status = await this.post(delivery);
        if (this.closing.signal.aborted) return;
        if (status >= 200 && status < 300) {
          this.counts.succeeded++;
          hook.lastSuccessAt = clock.now();
          hook.failingSince = undefined;
          return;
        }
        this.failed(hook, attempt);
        if (hook.removed) return;
      }
      this.counts.exhausted++;
    } catch {
      // Only the emulator closing interrupts a wait; the delivery simply ends.
    } finally {
      this.pending--;
      this.wake();
    }
  }

  private failed(hook: Hook, attempt: number): void {
    const now = this.deps.clock.now();
    this.counts.failedAttempts++;
    hook.failingSince ??= now;
    if (attempt === 1) {
      this.counts.firstTryFailures++;
      if (++hook.banCounter >= DELIVERY_RULES.banAfterFirstTryFailures) {
        hook.banCounter = 0;
        hook.bannedUntil = now + this.scaled(DELIVERY_RULES.banMs);
        this.counts.bans++;
      }
    }
    if (now - hook.failingSince >= this.scaled(DELIVERY_RULES.expireAfterMs) && this.deps.registry.remove(hook.id)) {
      this.counts.expiredWebhooks++;
    }
  }

  /** One POST; resolves to the status, or 0 for a timeout or a connection error. */
  private async post(delivery: Delivery): Promise<number> {
    const { hook, meta } = delivery;
    const { clock } = this.deps;
    const at = clock.now();
    const aborter = new AbortController();
    const timer = new AbortController();
    const onClose = (): void => aborter.abort();
    this.closing.signal.addEventListener('abort', onClose, { once: true });
    clock.sleep(DELIVERY_RULES.timeoutMs, timer.signal).then(
      () => aborter.abort(),
      () => undefined,
    );
    this.inFlight++;
    this.counts.attempts++;
    let status: number;
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Pipedrive Webhooks' };
      if (hook.httpAuthUser !== null || hook.httpAuthPassword !== null) {
        headers.authorization = `Basic ${Buffer.from(`${hook.httpAuthUser ?? ''}:${hook.httpAuthPassword ?? ''}`).toString('base64')}`;
      }
      const body = JSON.stringify({ data: delivery.data, previous: delivery.previous, meta });
      const res = await request(hook.subscriptionUrl, { method: 'POST', headers, body, signal: aborter.signal, dispatcher: this.agent });
      status = res.statusCode;
      await res.body.dump().catch(() => undefined);
    } catch {
      status = 0;
    } finally {
      timer.abort();
      this.closing.signal.removeEventListener('abort', onClose);
      this.inFlight--;
      this.wake();
    }
    if (aborter.signal.aborted) status = 0;
    hook.lastDeliveryTime = at;
    hook.lastHttpStatus = status;
    this.record({
      webhookId: hook.id,
      eventId: meta.id as string,
      action: meta.action as PipedriveEmulatorWebhookAttempt['action'],
      entity: meta.entity as string,
      entityId: meta.entity_id as string,
      attempt: meta.attempt as number,
      status,
      at,
    });
    return status;
  }

  private record(attempt: PipedriveEmulatorWebhookAttempt): void {
    const max = this.deps.maxRecordedAttempts;
    if (max <= 0) return;
    if (this.attempts.push(attempt) > max * 2) this.attempts.splice(0, this.attempts.length - max);
  }

  private banned(hook: Hook): boolean {
    return hook.bannedUntil !== undefined && hook.bannedUntil > this.deps.clock.now();
  }

  private scaled(ms: number): number {
    return ms * this.deps.timeScale;
  }

  private until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  private wake(): void {
    // Checked on the next turn, so a delivery that continues synchronously is counted first.
    setImmediate(() => {
      const ready = this.waiters.filter((w) => w.done());
      this.waiters = this.waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve();
    });
  }
}

/**
 * `previous` as Pipedrive sends it: null on create, the last state on delete, and on change only
 * the fields that changed (their old values). Undefined when a change changed nothing.
 */
function previousFields(change: DataChange): Record<string, unknown> | null | undefined {
  if (change.action === 'create') return null;
  if (change.action === 'delete') return { ...change.before };
  const before = change.before!;
  const after = change.current!;
  const changed: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (key !== 'update_time' && !isDeepStrictEqual(before[key], after[key])) changed[key] = before[key] ?? null;
  }
  return Object.keys(changed).length === 0 ? undefined : changed;
}

/** Who may see the record: its owner, the acting user and the webhook's user (all records are shared here). */
function permittedUsers(change: DataChange, record: Item, hook: Hook): string[] {
  const owner = record.owner_id ?? record.user_id;
  const ids = new Set([change.userId, hook.userId, ...(Number.isInteger(owner) ? [owner as number] : [])]);
  return [...ids].sort((a, b) => a - b).map(String);
}

function zeroCounts(): PipedriveEmulatorWebhookCounts {
  return {
    deliveries: 0,
    attempts: 0,
    succeeded: 0,
    failedAttempts: 0,
    firstTryFailures: 0,
    exhausted: 0,
    bans: 0,
    lost: 0,
    expiredWebhooks: 0,
  };
}
