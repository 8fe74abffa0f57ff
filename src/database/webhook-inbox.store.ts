import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FindOptionsWhere, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { PipedriveWebhookEventEntity, type PipedriveWebhookEventStatus } from './pipedrive-webhook-event.entity.js';
import { storageCall } from './storage-call.js';

export type InboxRow = PipedriveWebhookEventEntity;
export type InboxKey = Pick<PipedriveWebhookEventEntity, 'eventId' | 'connectionId'>;

/**
 * An earlier event of the same record that is not finished: the row waits for it, so one record's
 * events are handled one at a time in `meta.timestamp` order, then arrival order.
 */
const EARLIER_PENDING = `NOT EXISTS (SELECT 1 FROM pipedrive_webhook_events p
  WHERE p.connection_id = e.connection_id AND p.entity = e.entity AND p.entity_id = e.entity_id AND p.status = 'pending'
  AND (p.event_time < e.event_time OR (p.event_time = e.event_time
    AND (p.received_at < e.received_at OR (p.received_at = e.received_at AND p.event_id < e.event_id)))))`;

/** TypeORM drivers of SQLite: one connection serves every statement, one at a time. */
const ONE_CONNECTION_DRIVERS = new Set([
  'sqlite',
  'better-sqlite3',
  'capacitor',
  'cordova',
  'expo',
  'sqljs',
  'nativescript',
  'react-native',
]);

/** Rows per statement: 18 columns x 50 stays under SQLite's oldest limit of 999 bound parameters. */
const BATCH = 50;
/** Statements of one kind in flight at once; the rest queue and go in the next, larger statement. */
const FLUSHERS = 4;

/**
 * Group commit: writes requested while earlier ones are in flight are sent together as one statement,
 * so a burst costs a few commits (each an fsync) instead of one per row. Each caller still resolves
 * only once its own row is committed. No timer: an idle store writes at once.
 */
class GroupCommit<T> {
  private readonly queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing = 0;

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  /** Writes are queued or in flight. */
  get busy(): boolean {
    return this.flushing > 0 || this.queue.length > 0;
  }

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.flushing < FLUSHERS) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing++;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      try {
        await this.write(batch.map((entry) => entry.item));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    // Before the callers' continuations run: the last of them already sees the store idle.
    this.flushing--;
  }
}

/**
 * Database access of the webhook inbox. Claims are conditional UPDATEs whose affected rows say which
 * instance won, as in ConnectionStore: no transactions, the same on PostgreSQL and a shared SQLite file.
 * Inserts and completions are group-committed.
 */
@Injectable()
export class WebhookInboxStore {
  private claims = 0;
  private readonly inserts = new GroupCommit<InboxRow>((rows) => {
    const { sql, parameters } = this.insertStatement(rows);
    return storageCall('store webhook events', async () => {
      await this.repo.query(sql, parameters);
    });
  });
  /** Columns of an inbox row as `INSERT` lists them, read from the entity's metadata on first use. */
  private insertColumns: { name: string; value: (row: InboxRow) => unknown }[] | undefined;
  private readonly completions = new GroupCommit<{ key: InboxKey; leaseOwner: string; now: number }>((done) =>
    storageCall('complete webhook events', async () => {
      const query = this.repo
        .createQueryBuilder()
        .update()
        .set({ status: 'done', handledAt: done[0]!.now, lastError: null, leaseOwner: null, leaseUntil: null });
      whereKeys(
        query,
        done.map((d) => ({ ...d.key, leaseOwner: d.leaseOwner })),
      );
      await query.execute();
    }),
  );

  private readonly oneConnection: boolean;

  constructor(@InjectRepository(PipedriveWebhookEventEntity) private readonly repo: Repository<PipedriveWebhookEventEntity>) {
    this.oneConnection = ONE_CONNECTION_DRIVERS.has(repo.manager.connection.options.type);
  }

  /**
   * Deliveries are being written on a database of one connection (SQLite), where any other statement,
   * such as a claim, holds them up and with them the receiver's answers.
   */
  get storing(): boolean {
    return this.oneConnection && this.inserts.busy;
  }

  /** Stores a delivery unless the same event of the same connection is stored already (a retry or duplicate). */
  insert(row: InboxRow): Promise<void> {
    return this.inserts.add(row);
  }

  /** Marks an event handled, if the lease `leaseOwner` (the row's claim) still holds it. */
  complete(key: InboxKey, leaseOwner: string, now: number): Promise<void> {
    return this.completions.add({ key, leaseOwner, now });
  }

  /**
   * Claims up to `limit` events that are due, not leased, and first in line for their record: each is
   * leased until `now + leaseMs` and its attempt counted, under a lease owner unique to this claim
   * (`owner` plus a sequence number; the returned rows carry it). Returns the rows this call won.
   */
  async claim(owner: string, now: number, leaseMs: number, limit: number): Promise<InboxRow[]> {
    const candidates = await storageCall('find due webhook events', () =>
      this.repo
        .createQueryBuilder('e')
        .where('e.status = :pending', { pending: 'pending' })
        .andWhere('e.next_attempt_at <= :now', { now })
        .andWhere('(e.lease_until IS NULL OR e.lease_until < :now)')
        .andWhere(EARLIER_PENDING)
        .orderBy('e.event_time', 'ASC')
        .addOrderBy('e.received_at', 'ASC')
        .limit(limit)
        .getMany(),
    );
    if (candidates.length === 0) return [];
    const token = `${owner}:${++this.claims}`;
    const update = this.repo
      .createQueryBuilder()
      .update()
      .set({ leaseOwner: token, leaseUntil: now + leaseMs, attempts: () => 'attempts + 1' })
      .where("status = 'pending'")
      .andWhere('next_attempt_at <= :now', { now })
      .andWhere('(lease_until IS NULL OR lease_until < :now)');
    whereKeys(update, candidates);
    const affected = await storageCall('claim webhook events', async () => (await update.execute()).affected ?? 0);
    if (affected === 0) return [];
    return storageCall('read claimed webhook events', () =>
      this.repo.find({ where: { leaseOwner: token }, order: { eventTime: 'ASC', receivedAt: 'ASC' } }),
    );
  }

  /** Extends the lease of an event its claim still holds; false when another instance took it over. */
  renew(key: InboxKey, leaseOwner: string, until: number): Promise<boolean> {
    return this.updateWhere(key, leaseOwner, { leaseUntil: until });
  }

  /** Applies the outcome of a failed handling attempt, if the claim `leaseOwner` still holds the event. */
  settle(key: InboxKey, leaseOwner: string, patch: QueryDeepPartialEntity<InboxRow>): Promise<boolean> {
    return this.updateWhere(key, leaseOwner, { ...patch, leaseOwner: null, leaseUntil: null });
  }

  /** Events stored and not yet handled (pending, retries included), for the inbox-depth metric. */
  pending(): Promise<number> {
    return storageCall('count webhook events', () => this.repo.count({ where: { status: 'pending' } }));
  }

  /** Gives back the leases an instance holds (it is shutting down), so others need not wait for them to expire. */
  async release(owner: string): Promise<void> {
    await storageCall('release webhook events', () =>
      this.repo
        .createQueryBuilder()
        .update()
        .set({ leaseOwner: null, leaseUntil: null })
        .where('lease_owner LIKE :prefix', { prefix: `${owner}:%` })
        .execute(),
    );
  }

  /** Puts dead-lettered events back in line with fresh attempts; how many. */
  async rerun(now: number, filter: { eventId?: string; connectionId?: string }): Promise<number> {
    const query = this.repo
      .createQueryBuilder()
      .update()
      .set({ status: 'pending', attempts: 0, nextAttemptAt: now, leaseOwner: null, leaseUntil: null })
      .where('status = :dead', { dead: 'dead' });
    if (filter.eventId !== undefined) query.andWhere('event_id = :eventId', { eventId: filter.eventId });
    if (filter.connectionId !== undefined) query.andWhere('connection_id = :connectionId', { connectionId: filter.connectionId });
    return storageCall('re-run webhook events', async () => (await query.execute()).affected ?? 0);
  }

  list(filter: { status?: PipedriveWebhookEventStatus; connectionId?: string; limit?: number }): Promise<InboxRow[]> {
    const where: FindOptionsWhere<InboxRow> = {};
    if (filter.status) where.status = filter.status;
    if (filter.connectionId) where.connectionId = filter.connectionId;
    return storageCall('read webhook events', () => this.repo.find({ where, order: { receivedAt: 'DESC' }, take: filter.limit ?? 100 }));
  }

  /**
   * One multi-row `INSERT ... ON CONFLICT DO NOTHING` (SQLite and PostgreSQL alike), written here rather
   * than through the query builder: in a burst the builder's per-parameter bookkeeping cost more CPU
   * than the rest of a delivery's handling together.
   */
  private insertStatement(rows: InboxRow[]): { sql: string; parameters: unknown[] } {
    const driver = this.repo.manager.connection.driver;
    const postgres = driver.options.type === 'postgres';
    const columns = (this.insertColumns ??= this.repo.metadata.columns.map((column) => ({
      name: driver.escape(column.databaseName),
      value: (row: InboxRow) => column.getEntityValue(row, true) as unknown,
    })));
    const parameters: unknown[] = [];
    const tuples = rows.map((row) => {
      const marks = columns.map((column) => {
        parameters.push(column.value(row));
        return postgres ? `$${parameters.length}` : '?';
      });
      return `(${marks.join(', ')})`;
    });
    const names = columns.map((column) => column.name).join(', ');
    return { sql: `INSERT INTO ${this.repo.metadata.tablePath} (${names}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, parameters };
  }

  private updateWhere(key: InboxKey, leaseOwner: string, patch: QueryDeepPartialEntity<InboxRow>): Promise<boolean> {
    const query = this.repo
      .createQueryBuilder()
      .update()
      .set(patch)
      .where('event_id = :eventId AND connection_id = :connectionId AND lease_owner = :leaseOwner', { ...key, leaseOwner });
    // 0 rows: another instance took it over (our lease expired); an answer, not a failure.
    return storageCall('update a webhook event', async () => (await query.execute()).affected === 1);
  }
}

/** Restricts an UPDATE to these rows (and, when given, to their lease owner). */
function whereKeys(
  query: { andWhere(sql: string, params?: Record<string, unknown>): unknown },
  keys: (InboxKey & { leaseOwner?: string | null })[],
): void {
  const params: Record<string, unknown> = {};
  const terms = keys.map((key, i) => {
    params[`e${i}`] = key.eventId;
    params[`c${i}`] = key.connectionId;
    if (key.leaseOwner === undefined || key.leaseOwner === null) return `(event_id = :e${i} AND connection_id = :c${i})`;
    params[`o${i}`] = key.leaseOwner;
    return `(event_id = :e${i} AND connection_id = :c${i} AND lease_owner = :o${i})`;
  });
  query.andWhere(`(${terms.join(' OR ')})`, params);
}
