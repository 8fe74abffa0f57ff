import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { PipedriveClient } from '../client/pipedrive.client.js';
import { type InboxRow, WebhookInboxStore } from '../database/webhook-inbox.store.js';
import { PipedriveWebhookHandlerTimeoutError } from '../errors/pipedrive-webhook.errors.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { PipedriveMetrics } from '../metrics/pipedrive-metrics.js';
import type { PipedriveConnection } from '../tokens/pipedrive-token.types.js';
import { TokenService } from '../tokens/token.service.js';
import type { PipedriveWebhookEvent } from './pipedrive-webhook.types.js';
import { InjectPipedriveWebhooksOptions } from './pipedrive-webhooks.constants.js';
import type { ResolvedPipedriveWebhooksOptions } from './pipedrive-webhooks.options.js';
import { parseDelivery } from './webhook-delivery.js';
import { WebhookHandlerRegistry } from './webhook-handler.registry.js';

/** What the per-record order is kept for: one connection's record. */
export type WebhookRecord = Pick<InboxRow, 'connectionId' | 'entity' | 'entityId'>;

/**
 * Longest a claim waits for the receiver's writes to finish (see `answersFirst`). Under a stream that
 * keeps them going, claims then go on as usual for as long again, and so on: a burst's answers come
 * first, and handling keeps at least half its pace. Measured (bench/webhook-receiver.bench.ts, SQLite,
 * quiet 2-core machine): the slowest answer in a burst of 5,000 went from 2.0 s to 1.6-1.9 s; the
 * handling lag under a flat-out stream from about 0.5 s to 1.3-1.8 s; at ordinary traffic unchanged (2 ms).
 */
const ANSWERS_FIRST_MAX_MS = 2_000;

const recordKey = (record: WebhookRecord) => `${record.connectionId}\u0000${record.entity}\u0000${record.entityId}`;

/**
 * Hands stored events to their handlers, after the receiver answered. Each instance claims due events
 * with a lease (a conditional UPDATE, so one instance wins each), renews the lease while handlers run,
 * and records the outcome: done, a retry time with growing back-off, or dead-lettered. A crashed
 * instance's claims are taken over when their lease runs out. Woken by its own receiver at once and
 * by a poll for events other instances received, retries that came due and leases that expired.
 */
@Injectable()
export class PipedriveWebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PipedriveWebhooks');
  /** This instance's name; each claim's `lease_owner` is it plus a sequence number. */
  readonly owner = `${hostname().slice(0, 24)}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Set<Promise<void>>();
  /** Records (connection, entity, id) whose event this instance is handling now. */
  private readonly busyRecords = new Set<string>();
  private pumping: Promise<void> | undefined;
  private again = false;
  /** Since when claims have been waiting for the receiver's writes (epoch ms). */
  private yieldingSince: number | undefined;
  private started = false;
  private poll: NodeJS.Timeout | undefined;
  /** Connections read for the events of one claim, reused by the others of that claim. */
  private connections = new Map<string, Promise<PipedriveConnection | null>>();

  constructor(
    @InjectPipedriveWebhooksOptions() private readonly options: ResolvedPipedriveWebhooksOptions,
    private readonly inbox: WebhookInboxStore,
    private readonly handlers: WebhookHandlerRegistry,
    private readonly tokens: TokenService,
    private readonly pipedrive: PipedriveClient,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
    private readonly metrics: PipedriveMetrics,
  ) {}

  /** Starts handling, pending events from before a restart included. */
  onApplicationBootstrap(): void {
    this.started = true;
    this.metrics.webhookInboxDepth(() => this.inbox.pending());
    this.poll = setInterval(() => this.wake(), this.options.pollIntervalMs);
    this.poll.unref();
    this.wake();
  }

  /** Stops claiming, lets running handlers finish, and gives back leases not started. */
  async beforeApplicationShutdown(): Promise<void> {
    this.started = false;
    clearInterval(this.poll);
    while (this.pumping || this.active.size > 0) {
      await this.pumping;
      await Promise.allSettled([...this.active]);
    }
    await this.inbox.release(this.owner).catch(() => undefined);
  }

  /**
   * Looks for due events now. The receiver calls it after storing one, naming its record: when this
   * instance is handling an earlier event of that record, the stored one cannot be due before that
   * ends (which wakes it anyway), so no claim is made. In a burst on one record that spares a claim
   * per delivery, each a scan of the pending rows holding the database the receiver's inserts need.
   */
  wake(record?: WebhookRecord): void {
    if (!this.started || (record && this.busyRecords.has(recordKey(record)))) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => (this.pumping = undefined));
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        for (;;) {
          const free = this.options.concurrency - this.active.size;
          if (free <= 0 || !this.started || this.answersFirst()) break;
          const claimed = await this.inbox.claim(this.owner, this.clock.now(), this.options.leaseMs, free);
          this.connections = new Map();
          for (const row of claimed) this.track(this.run(row));
          if (claimed.length < free) break;
        }
      } while (this.again && this.started);
    } catch (error) {
      this.logger.error(`Could not claim webhook events: ${(error as Error)?.message ?? error}`);
    }
  }

  /**
   * Answers first: while the receiver is writing deliveries on a database of one connection (SQLite),
   * claims wait, since each claim's scan there delays the inserts that the answers wait for. The
   * receiver wakes the dispatcher after each insert; the wake after the last finds the writes done.
   * While writes go on, waiting and claiming alternate every ANSWERS_FIRST_MAX_MS. On PostgreSQL claims
   * take another connection of the pool and never wait. True when this pass should not claim.
   */
  private answersFirst(): boolean {
    if (!this.inbox.storing) {
      this.yieldingSince = undefined;
      return false;
    }
    const now = this.clock.now();
    this.yieldingSince ??= now;
    return (now - this.yieldingSince) % (2 * ANSWERS_FIRST_MAX_MS) < ANSWERS_FIRST_MAX_MS;
  }

  private track(work: Promise<void>): void {
    this.active.add(work);
    void work.finally(() => {
      this.active.delete(work);
      // A finished event may unblock the next one of its record, and frees a slot.
      this.wake();
    });
  }

  private async run(row: InboxRow): Promise<void> {
    const record = recordKey(row);
    this.busyRecords.add(record);
    const renew = setInterval(
      () => void this.inbox.renew(row, row.leaseOwner!, this.clock.now() + this.options.leaseMs).catch(() => undefined),
      Math.max(500, Math.floor(this.options.leaseMs / 3)),
    );
    renew.unref();
    try {
      await this.attempt(row);
    } catch (error) {
      // Storage trouble while recording the outcome: the lease expires and the event is tried again.
      this.logger.error(`Webhook event ${row.eventId}: outcome not recorded (${(error as Error)?.name ?? 'Error'}); it will be retried.`);
    } finally {
      clearInterval(renew);
      this.busyRecords.delete(record);
    }
  }

  private async attempt(row: InboxRow): Promise<void> {
    const done = new Set(row.completedHandlers ? row.completedHandlers.split(',') : []);
    const handlers = this.handlers.match(row.action, row.entity).filter((h) => !done.has(h.id));
    let failure: Error | undefined;
    if (handlers.length > 0) {
      const deadline = this.deadline(row);
      try {
        const event = await this.toEvent(row, deadline.signal);
        for (const handler of handlers) {
          if (deadline.signal.aborted) break;
          try {
            const call = handler.call(event);
            // A handler still running past the deadline settles later, unobserved.
            call.catch(() => undefined);
            await Promise.race([call, deadline.expired]);
            done.add(handler.id);
          } catch (error) {
            failure ??= error instanceof Error ? error : new Error(String(error));
          }
        }
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      } finally {
        deadline.cancel();
      }
    }
    const now = this.clock.now();
    const completedHandlers = [...done].join(',');
    if (!failure) {
      await this.inbox.complete(row, row.leaseOwner!, now);
      this.metrics.webhookHandled((now - row.receivedAt) / 1000, 'handled');
      return;
    }
    const lastError = `${failure.name}: ${failure.message}`.slice(0, 1_000);
    const where = `Webhook event ${row.eventId} (${row.action}.${row.entity} ${row.entityId}, connection ${row.connectionId})`;
    if (row.attempts >= this.options.maxAttempts) {
      await this.inbox.settle(row, row.leaseOwner!, { status: 'dead', completedHandlers, lastError });
      this.metrics.webhookHandled((now - row.receivedAt) / 1000, 'failed');
      this.logger.error(
        `${where} dead-lettered after ${row.attempts} attempts: ${failure.name}. Re-run it with PipedriveWebhooksService.rerun().`,
      );
      return;
    }
    const delay = Math.min(this.options.maxBackoffMs, this.options.backoffMs * this.options.backoffFactor ** (row.attempts - 1));
    await this.inbox.settle(row, row.leaseOwner!, { nextAttemptAt: now + delay, completedHandlers, lastError });
    this.logger.warn(`${where} failed attempt ${row.attempts} of ${this.options.maxAttempts} (${failure.name}); retrying in ${delay} ms.`);
  }

  /**
   * The attempt's `handlerTimeoutMs`, on the injected clock: `expired` rejects and `signal` aborts with a
   * PipedriveWebhookHandlerTimeoutError when it passes; `cancel` ends the wait once the handlers settled.
   */
  private deadline(row: InboxRow): { signal: AbortSignal; expired: Promise<never>; cancel: () => void } {
    const timeout = new AbortController();
    const finished = new AbortController();
    const expired = new Promise<never>((_, reject) =>
      timeout.signal.addEventListener('abort', () => reject(timeout.signal.reason as Error), { once: true }),
    );
    expired.catch(() => undefined);
    this.clock.sleep(this.options.handlerTimeoutMs, finished.signal, { ref: false }).then(
      () => timeout.abort(new PipedriveWebhookHandlerTimeoutError(row.eventId, this.options.handlerTimeoutMs)),
      () => undefined,
    );
    return { signal: timeout.signal, expired, cancel: () => finished.abort() };
  }

  private async toEvent(row: InboxRow, signal: AbortSignal): Promise<PipedriveWebhookEvent> {
    const delivery = parseDelivery(JSON.parse(row.payload));
    if (!delivery) throw new Error('The stored delivery is no longer a v2 delivery.');
    let lookup = this.connections.get(row.connectionId);
    if (!lookup) this.connections.set(row.connectionId, (lookup = this.tokens.findConnection(row.connectionId)));
    const connection = await lookup;
    if (!connection) throw new Error(`Connection ${row.connectionId} no longer exists.`);
    return {
      id: row.eventId,
      action: delivery.meta.action,
      entity: delivery.meta.entity,
      meta: delivery.meta,
      data: delivery.data,
      previous: delivery.previous,
      connection,
      client: this.pipedrive.forConnection(row.connectionId),
      attempt: row.attempts,
      signal,
    } as PipedriveWebhookEvent;
  }
}
