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

/**
 * Database access of the webhook inbox. Claims are conditional UPDATEs whose affected-row count says
 * which instance won, as in ConnectionStore: no transactions, the same on PostgreSQL and a shared SQLite file.
 */
@Injectable()
export class WebhookInboxStore {
  constructor(@InjectRepository(PipedriveWebhookEventEntity) private readonly repo: Repository<PipedriveWebhookEventEntity>) {}

  /** Stores a delivery unless the same event of the same connection is stored already (a retry or duplicate). */
  async insert(row: InboxRow): Promise<void> {
    await storageCall('store a webhook event', () => this.repo.createQueryBuilder().insert().values(row).orIgnore().execute());
  }

  /**
   * Claims up to `limit` events that are due, not leased, and first in line for their record: each is
   * leased to `owner` until `now + leaseMs` and its attempt counted. Returns the rows this call won.
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
    const won: InboxRow[] = [];
    for (const row of candidates) {
      const claimed = await this.updateWhere(row, { now }, { leaseOwner: owner, leaseUntil: now + leaseMs, attempts: () => 'attempts + 1' });
      if (claimed) won.push({ ...row, leaseOwner: owner, leaseUntil: now + leaseMs, attempts: row.attempts + 1 });
    }
    return won;
  }

  /** Extends the lease of an event this owner still holds; false when another instance took it over. */
  renew(key: InboxKey, owner: string, until: number): Promise<boolean> {
    return this.updateWhere(key, { owner }, { leaseUntil: until });
  }

  /** Applies the outcome of a handling attempt, if `owner` still holds the event. */
  settle(key: InboxKey, owner: string, patch: QueryDeepPartialEntity<InboxRow>): Promise<boolean> {
    return this.updateWhere(key, { owner }, { ...patch, leaseOwner: null, leaseUntil: null });
  }

  /** Gives back the leases an instance holds (it is shutting down), so others need not wait for them to expire. */
  async release(owner: string): Promise<void> {
    await storageCall('release webhook events', () =>
      this.repo.createQueryBuilder().update().set({ leaseOwner: null, leaseUntil: null }).where('lease_owner = :owner', { owner }).execute(),
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
    return storageCall('read webhook events', () =>
      this.repo.find({ where, order: { receivedAt: 'DESC' }, take: filter.limit ?? 100 }),
    );
  }

  private updateWhere(
    key: InboxKey,
    guard: { owner?: string; now?: number },
    patch: QueryDeepPartialEntity<InboxRow>,
  ): Promise<boolean> {
    const query = this.repo
      .createQueryBuilder()
      .update()
      .set(patch)
      .where('event_id = :eventId AND connection_id = :connectionId', { eventId: key.eventId, connectionId: key.connectionId });
    if (guard.owner !== undefined) query.andWhere('lease_owner = :owner', { owner: guard.owner });
    if (guard.now !== undefined) {
      query
        .andWhere("status = 'pending'")
        .andWhere('next_attempt_at <= :now', { now: guard.now })
        .andWhere('(lease_until IS NULL OR lease_until < :now)');
    }
    // 0 rows: another instance holds or finished it; an answer, not a failure.
    return storageCall('update a webhook event', async () => (await query.execute()).affected === 1);
  }
}
