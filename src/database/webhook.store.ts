import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, type Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { PipedriveConnectionEntity } from './pipedrive-connection.entity.js';
import { PipedriveWebhookEntity } from './pipedrive-webhook.entity.js';
import { storageCall } from './storage-call.js';

/** Database access of the webhook registrations (one row per webhook created at Pipedrive). */
@Injectable()
export class WebhookStore {
  constructor(
    @InjectRepository(PipedriveWebhookEntity) private readonly repo: Repository<PipedriveWebhookEntity>,
    @InjectRepository(PipedriveConnectionEntity) private readonly connections: Repository<PipedriveConnectionEntity>,
  ) {}

  /**
   * What the receiver checks a delivery against: the webhook its Basic user name claims, unless its
   * connection is revoked. The connection row is revoked before the revoked event fires, so this holds
   * from the moment an uninstall or disconnect is written, before the webhook rows themselves follow.
   */
  findForDelivery(id: string): Promise<PipedriveWebhookEntity | null> {
    return storageCall('read a webhook', () =>
      this.repo
        .createQueryBuilder('w')
        .innerJoin(PipedriveConnectionEntity, 'c', 'c.id = w.connection_id')
        .where('w.id = :id', { id })
        .andWhere("c.status <> 'revoked'")
        .getOne(),
    );
  }

  listByConnection(connectionId: string): Promise<PipedriveWebhookEntity[]> {
    return storageCall('read webhooks', () => this.repo.find({ where: { connectionId }, order: { createdAt: 'ASC' } }));
  }

  async insert(row: PipedriveWebhookEntity): Promise<void> {
    await storageCall('insert a webhook', () => this.repo.insert(row));
  }

  async update(id: string, patch: QueryDeepPartialEntity<PipedriveWebhookEntity>): Promise<void> {
    await storageCall('update a webhook', () => this.repo.update({ id }, patch));
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length > 0) await storageCall('delete webhooks', () => this.repo.delete({ id: In(ids) }));
  }

  /** Refuses every delivery of the connection's webhooks from now on. */
  async revokeConnection(connectionId: string, now: number): Promise<void> {
    await storageCall('revoke webhooks', () =>
      this.repo.update({ connectionId, status: In(['active', 'failed']) }, { status: 'revoked', updatedAt: now }),
    );
  }

  /**
   * Takes the right to reconcile a connection's webhooks until `until`, or extends it when `owner` holds
   * it already: one conditional UPDATE, so of instances trying at once one wins. False: another
   * instance holds an unexpired lease (or the connection does not exist).
   */
  async leaseConnection(connectionId: string, owner: string, now: number, until: number): Promise<boolean> {
    const query = this.connections
      .createQueryBuilder()
      .update()
      .set({ webhooksLeaseOwner: owner, webhooksLeaseUntil: until })
      .where('id = :connectionId', { connectionId })
      .andWhere('(webhooks_lease_until IS NULL OR webhooks_lease_until < :now OR webhooks_lease_owner = :owner)', { now, owner });
    return storageCall('lease webhook reconciliation', async () => (await query.execute()).affected === 1);
  }

  /** Gives the reconciliation lease back, if `owner` still holds it. */
  async releaseConnection(connectionId: string, owner: string): Promise<void> {
    await storageCall('release webhook reconciliation', () =>
      this.connections.update({ id: connectionId, webhooksLeaseOwner: owner }, { webhooksLeaseOwner: null, webhooksLeaseUntil: null }),
    );
  }
}
