import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './column-transformers.js';

/** `pending` until every handler succeeded (`done`) or the attempts ran out (`dead`: the dead letters). */
export type PipedriveWebhookEventStatus = 'pending' | 'done' | 'dead';

/**
 * The webhook inbox: one row per delivered event, written before the receiver answers. The key
 * (connection, `meta.id`) makes Pipedrive's retries and duplicate deliveries one row. Times are epoch ms.
 */
@Entity({ name: 'pipedrive_webhook_events' })
@Index('IDX_pipedrive_webhook_events_due', ['status', 'nextAttemptAt'])
@Index('IDX_pipedrive_webhook_events_entity', ['connectionId', 'entity', 'entityId', 'status'])
export class PipedriveWebhookEventEntity {
  /** `meta.id`. */
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 100 })
  eventId!: string;

  @PrimaryColumn({ name: 'connection_id', type: 'varchar', length: 36 })
  connectionId!: string;

  /** Our webhook row whose credentials the delivery carried. */
  @Column({ name: 'webhook_id', type: 'varchar', length: 36 })
  webhookId!: string;

  @Column({ name: 'company_id', type: 'bigint', transformer: bigintNumber })
  companyId!: number;

  @Column({ type: 'varchar', length: 16 })
  action!: string;

  @Column({ type: 'varchar', length: 16 })
  entity!: string;

  @Column({ name: 'entity_id', type: 'varchar', length: 64 })
  entityId!: string;

  /** `meta.timestamp`: events of one record are handled in this order, then by `receivedAt`. */
  @Column({ name: 'event_time', type: 'bigint', transformer: bigintNumber })
  eventTime!: number;

  @Column({ name: 'received_at', type: 'bigint', transformer: bigintNumber })
  receivedAt!: number;

  /** The delivery's JSON body as received. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: PipedriveWebhookEventStatus;

  /** Handling attempts started so far. */
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /** Not handled before this time: the retry back-off. */
  @Column({ name: 'next_attempt_at', type: 'bigint', transformer: bigintNumber })
  nextAttemptAt!: number;

  @Column({ name: 'lease_owner', type: 'varchar', length: 64, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', type: 'bigint', nullable: true, transformer: bigintNumber })
  leaseUntil!: number | null;

  /** Handlers that already succeeded (`Class.method`, comma-separated): a retry runs only the others. */
  @Column({ name: 'completed_handlers', type: 'text', default: '' })
  completedHandlers!: string;

  /** The last handler failure: error name and message. */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'handled_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  handledAt!: number | null;
}
