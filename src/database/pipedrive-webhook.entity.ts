import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './column-transformers.js';

/**
 * - `active`: registered at Pipedrive; its deliveries are accepted.
 * - `failed`: Pipedrive refused to create it (see `lastError`); reconciliation tries again.
 * - `revoked`: its connection was uninstalled or disconnected; deliveries are refused.
 */
export type PipedriveWebhookStatus = 'active' | 'failed' | 'revoked';

/**
 * One app webhook this library created for a connection. `id` is the webhook's HTTP Basic user name,
 * so a delivery names the row whose credentials it must match; the password is stored as sha256 only.
 */
@Entity({ name: 'pipedrive_webhooks' })
@Index('IDX_pipedrive_webhooks_connection', ['connectionId'])
export class PipedriveWebhookEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'connection_id', type: 'varchar', length: 36 })
  connectionId!: string;

  @Column({ name: 'company_id', type: 'bigint', transformer: bigintNumber })
  companyId!: number;

  @Column({ name: 'user_id', type: 'bigint', transformer: bigintNumber })
  userId!: number;

  @Column({ name: 'event_action', type: 'varchar', length: 16 })
  eventAction!: string;

  @Column({ name: 'event_object', type: 'varchar', length: 16 })
  eventObject!: string;

  @Column({ name: 'subscription_url', type: 'varchar', length: 2048 })
  subscriptionUrl!: string;

  /** Pipedrive's id of the webhook; null until Pipedrive created it. */
  @Column({ name: 'pipedrive_id', type: 'bigint', nullable: true, transformer: bigintNumber })
  pipedriveId!: number | null;

  /** sha256 of the HTTP Basic password, hex. */
  @Column({ name: 'password_hash', type: 'varchar', length: 64 })
  passwordHash!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: PipedriveWebhookStatus;

  /** Why Pipedrive refused it, without secrets. */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
