import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber, commaSeparated } from './column-transformers.js';
import type { PipedriveConnectionStatus } from '../tokens/pipedrive-token.types.js';

/**
 * One Pipedrive user's connection. Tokens are stored encrypted (see TokenCipher); times are epoch
 * milliseconds so the same migration fits SQLite and PostgreSQL. The lease and version columns
 * let several instances agree on who refreshes.
 */
@Entity({ name: 'pipedrive_connections' })
@Index('UQ_pipedrive_connections_company_user', ['companyId', 'userId'], { unique: true })
@Index('IDX_pipedrive_connections_status_expires_at', ['status', 'expiresAt'])
@Index('IDX_pipedrive_connections_status_token_issued_at', ['status', 'tokenIssuedAt'])
export class PipedriveConnectionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'company_id', type: 'bigint', transformer: bigintNumber })
  companyId!: number;

  @Column({ name: 'user_id', type: 'bigint', transformer: bigintNumber })
  userId!: number;

  @Column({ name: 'api_domain', type: 'varchar', length: 255 })
  apiDomain!: string;

  @Column({ type: 'text', transformer: commaSeparated })
  scopes!: string[];

  /** Ciphertext; null once the connection is revoked. */
  @Column({ name: 'access_token', type: 'text', nullable: true })
  accessToken!: string | null;

  /** Ciphertext; null once the connection is revoked. */
  @Column({ name: 'refresh_token', type: 'text', nullable: true })
  refreshToken!: string | null;

  /** When the access token was obtained; with expiresAt gives its lifetime. */
  @Column({ name: 'token_issued_at', type: 'bigint', transformer: bigintNumber })
  tokenIssuedAt!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;

  @Column({ type: 'varchar', length: 32 })
  status!: PipedriveConnectionStatus;

  /** Bumped by every token write: the compare-and-set guard against stale writers. */
  @Column({ type: 'integer', default: 0 })
  version!: number;

  @Column({ name: 'lease_owner', type: 'varchar', length: 64, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', type: 'bigint', nullable: true, transformer: bigintNumber })
  leaseUntil!: number | null;

  /** Consecutive failed refreshes that were not `invalid_grant`. */
  @Column({ name: 'refresh_failures', type: 'integer', default: 0 })
  refreshFailures!: number;

  @Column({ name: 'refresh_backoff_until', type: 'bigint', nullable: true, transformer: bigintNumber })
  refreshBackoffUntil!: number | null;

  /** Random value of the latest authorization, signed into its session cookies; older cookies no longer match. */
  @Column({ name: 'session_epoch', type: 'varchar', length: 43, nullable: true })
  sessionEpoch!: string | null;

  /** The first time a token was handed out after it was issued (epoch ms); older than tokenIssuedAt: idle since. */
  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  lastUsedAt!: number | null;

  /** The instance reconciling this connection's webhooks (PipedriveWebhookRegistrar), until `webhooksLeaseUntil`. */
  @Column({ name: 'webhooks_lease_owner', type: 'varchar', length: 64, nullable: true })
  webhooksLeaseOwner?: string | null;

  @Column({ name: 'webhooks_lease_until', type: 'bigint', nullable: true, transformer: bigintNumber })
  webhooksLeaseUntil?: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
