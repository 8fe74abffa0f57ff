import { Injectable } from '@nestjs/common';
import type { PipedriveWebhookEventStatus } from '../database/pipedrive-webhook-event.entity.js';
import { WebhookInboxStore } from '../database/webhook-inbox.store.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { PipedriveWebhookDispatcher } from './pipedrive-webhook.dispatcher.js';
import { type PipedriveConnectionWebhooks, PipedriveWebhookRegistrar, type PipedriveWebhookReport } from './pipedrive-webhook.registrar.js';

/** An inbox row as apps see it (dead letters, history). */
export interface PipedriveStoredWebhookEvent {
  id: string;
  connectionId: string;
  action: string;
  entity: string;
  entityId: string;
  status: PipedriveWebhookEventStatus;
  attempts: number;
  /** The last handler failure (error name and message). */
  lastError: string | null;
  receivedAt: Date;
  handledAt: Date | null;
}

/** What apps call: webhook status per connection, reconciliation, dead letters. */
@Injectable()
export class PipedriveWebhooksService {
  constructor(
    private readonly registrar: PipedriveWebhookRegistrar,
    private readonly inbox: WebhookInboxStore,
    private readonly dispatcher: PipedriveWebhookDispatcher,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {}

  /** The connection's webhooks and whether they are in place (`admin_scope_missing` says why none are). */
  status(connectionId: string): Promise<PipedriveConnectionWebhooks> {
    return this.registrar.status(connectionId);
  }

  /**
   * Compares a connection's webhooks with Pipedrive's list, re-creates missing ones (Pipedrive deletes a
   * webhook after three days of failed deliveries) and deletes stale ones; reports what it did. Without
   * an id: every active connection, one after another. Safe to schedule.
   */
  reconcile(connectionId: string): Promise<PipedriveWebhookReport>;
  reconcile(): Promise<PipedriveWebhookReport[]>;
  reconcile(connectionId?: string): Promise<PipedriveWebhookReport | PipedriveWebhookReport[]> {
    return connectionId === undefined ? this.registrar.reconcileAll() : this.registrar.register(connectionId);
  }

  /** Events whose handlers failed `maxAttempts` times, newest first. */
  async deadLetters(filter: { connectionId?: string; limit?: number } = {}): Promise<PipedriveStoredWebhookEvent[]> {
    return (await this.inbox.list({ ...filter, status: 'dead' })).map(toStored);
  }

  /** Inbox rows, newest first, optionally by status and connection. */
  async events(
    filter: { status?: PipedriveWebhookEventStatus; connectionId?: string; limit?: number } = {},
  ): Promise<PipedriveStoredWebhookEvent[]> {
    return (await this.inbox.list(filter)).map(toStored);
  }

  /**
   * Puts dead-lettered events back in line with fresh attempts: one (`{ eventId }`), a connection's, or all.
   * Handlers that already succeeded for an event are not called again. Returns how many.
   */
  async rerun(filter: { eventId?: string; connectionId?: string } = {}): Promise<number> {
    const count = await this.inbox.rerun(this.clock.now(), filter);
    if (count > 0) this.dispatcher.wake();
    return count;
  }
}

function toStored(row: Awaited<ReturnType<WebhookInboxStore['list']>>[number]): PipedriveStoredWebhookEvent {
  return {
    id: row.eventId,
    connectionId: row.connectionId,
    action: row.action,
    entity: row.entity,
    entityId: row.entityId,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    receivedAt: new Date(row.receivedAt),
    handledAt: row.handledAt === null ? null : new Date(row.handledAt),
  };
}
