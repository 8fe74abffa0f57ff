import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { PipedriveConnectionEntity } from './pipedrive-connection.entity.js';
import { storageCall } from './storage-call.js';

export type ConnectionPatch = QueryDeepPartialEntity<PipedriveConnectionEntity>;

/** Conditions of a compare-and-set update; all given ones must hold. */
export interface UpdateGuard {
  version?: number;
  leaseOwner?: string;
  /** The lease must be free or expired at this time (epoch ms). */
  leaseFreeAt?: number;
}

/**
 * Database access of the token store. Every write that races another instance is one conditional
 * UPDATE whose affected-row count says who won; no transactions, so it behaves the same on
 * PostgreSQL and on a SQLite file shared by processes. Database failures surface as PipedriveStorageError.
 * One provider, shared by TokenService and the refresh sweeper.
 */
@Injectable()
export class ConnectionStore {
  constructor(@InjectRepository(PipedriveConnectionEntity) private readonly repo: Repository<PipedriveConnectionEntity>) {}

  findById(id: string): Promise<PipedriveConnectionEntity | null> {
    return storageCall('read a connection', () => this.repo.findOneBy({ id }));
  }

  findByUser(companyId: number, userId: number): Promise<PipedriveConnectionEntity | null> {
    return storageCall('read a connection', () => this.repo.findOneBy({ companyId, userId }));
  }

  /** What decides whether a session cookie is still good: the row's status and session epoch. */
  async findSessionState(id: string): Promise<Pick<PipedriveConnectionEntity, 'status' | 'sessionEpoch'> | null> {
    return storageCall('read a connection', () => this.repo.findOne({ select: { status: true, sessionEpoch: true }, where: { id } }));
  }

  /** Starts a new session epoch: every session cookie signed with an earlier one stops matching. */
  async setSessionEpoch(id: string, epoch: string): Promise<void> {
    await storageCall('update a connection', () => this.repo.update({ id }, { sessionEpoch: epoch }));
  }

  /**
   * Inserts a row for a new (company, user) unless one exists (a concurrent first authorization may
   * have won: `ON CONFLICT DO NOTHING` / `INSERT OR IGNORE`). Returns the stored row and whether it is ours.
   */
  async insertOrGet(
    row: Omit<PipedriveConnectionEntity, 'id' | 'sessionEpoch' | 'lastUsedAt'>,
  ): Promise<{ row: PipedriveConnectionEntity; created: boolean }> {
    const entity = this.repo.create({ ...row, id: randomUUID(), sessionEpoch: null, lastUsedAt: null });
    await storageCall('insert a connection', () => this.repo.createQueryBuilder().insert().values(entity).orIgnore().execute());
    const stored = await this.findByUser(row.companyId, row.userId);
    if (!stored) throw new Error(`Pipedrive connection of company ${row.companyId} user ${row.userId} vanished while saving.`);
    return { row: stored, created: stored.id === entity.id };
  }

  /**
   * Records that the connection's current token was handed out at `now`, unless a use of it is
   * already recorded (by this instance or another): at most one effective write per token.
   */
  async recordUse(id: string, now: number): Promise<void> {
    const query = this.repo
      .createQueryBuilder()
      .update()
      .set({ lastUsedAt: now })
      .where('id = :id', { id })
      .andWhere('(last_used_at IS NULL OR last_used_at < token_issued_at)');
    await storageCall('update a connection', () => query.execute());
  }

  /**
   * At most `limit` active connections in use whose token is due at `now`, expiring first. In use: its
   * current token was handed out (lastUsedAt at or after tokenIssuedAt). Due is refreshAt()'s rule,
   * `marginMs` before expiry but not before half the lifetime (multiplied out:
   * expires - (expires - issued) / 2 <= now), or already expired; rows backing off or leased are left out.
   */
  findDue(now: number, marginMs: number, limit: number): Promise<PipedriveConnectionEntity[]> {
    const query = this.sweepable(now)
      .andWhere('c.lastUsedAt >= c.tokenIssuedAt')
      .andWhere('c.expiresAt <= :horizon', { horizon: now + marginMs })
      .andWhere('(c.expiresAt <= :now OR c.expiresAt + c.tokenIssuedAt <= :twiceNow)', { twiceNow: 2 * now })
      .orderBy('c.expiresAt', 'ASC')
      .limit(limit);
    return storageCall('find due connections', () => query.getMany());
  }

  /**
   * At most `limit` active connections whose token was last obtained at or before `issuedBefore`
   * (epoch ms), oldest first: the ones whose refresh token Pipedrive would drop if left alone.
   * Rows backing off or leased are left out.
   */
  findIdle(now: number, issuedBefore: number, limit: number): Promise<PipedriveConnectionEntity[]> {
    const query = this.sweepable(now)
      .andWhere('c.tokenIssuedAt <= :issuedBefore', { issuedBefore })
      .orderBy('c.tokenIssuedAt', 'ASC')
      .limit(limit);
    return storageCall('find idle connections', () => query.getMany());
  }

  /** Active rows that neither back off nor are leased at `now`: what a sweep may refresh. */
  private sweepable(now: number) {
    return this.repo
      .createQueryBuilder('c')
      .where('c.status = :active', { active: 'active' })
      .andWhere('(c.refreshBackoffUntil IS NULL OR c.refreshBackoffUntil <= :now)', { now })
      .andWhere('(c.leaseUntil IS NULL OR c.leaseUntil < :now)');
  }

  /** Up to `limit` rows still holding tokens, by id after `afterId`: a stable walk while rows change. */
  pageWithTokens(afterId: string, limit: number): Promise<PipedriveConnectionEntity[]> {
    const query = this.repo
      .createQueryBuilder('c')
      .where('c.id > :afterId', { afterId })
      .andWhere('(c.accessToken IS NOT NULL OR c.refreshToken IS NOT NULL)')
      .orderBy('c.id', 'ASC')
      .limit(limit);
    return storageCall('read connections', () => query.getMany());
  }

  /** Applies `patch` if every guard holds; true when this call changed the row. */
  update(id: string, guard: UpdateGuard, patch: ConnectionPatch): Promise<boolean> {
    const query = this.repo.createQueryBuilder().update().set(patch).where('id = :id', { id });
    if (guard.version !== undefined) query.andWhere('version = :version', { version: guard.version });
    if (guard.leaseOwner !== undefined) query.andWhere('lease_owner = :leaseOwner', { leaseOwner: guard.leaseOwner });
    if (guard.leaseFreeAt !== undefined) {
      query.andWhere('(lease_until IS NULL OR lease_until < :leaseFreeAt)', { leaseFreeAt: guard.leaseFreeAt });
    }
    // 0 rows affected means a guard did not hold (another instance won): an answer, not a failure.
    return storageCall('update a connection', async () => (await query.execute()).affected === 1);
  }
}
