import type { PipedriveConnectionClient } from '../client/pipedrive-connection.client.js';
import type * as R from '../client/resource.types.js';
import type { PipedriveConnection } from '../tokens/pipedrive-token.types.js';
import type { PipedriveWebhookAction, PipedriveWebhookEventName, PipedriveWebhookObject } from './webhook-event-pattern.js';

/** A v2 product as webhooks carry it. */
export interface PipedriveWebhookProduct {
  id: number;
  name: string;
  code: string | null;
  unit: string | null;
  owner_id: number;
  prices: { currency: string; price: number }[];
  add_time: string;
  update_time: string;
  custom_fields: R.PipedriveCustomFields;
}

/** A user as webhooks carry it. */
export interface PipedriveWebhookUser {
  id: number;
  name: string;
  email: string;
  active_flag: boolean;
  is_admin: boolean;
}

/**
 * The `data` of a delivery per object: the record's current essential fields (custom fields under
 * `custom_fields`). Pipedrive adds fields over time, so every record also allows more.
 */
export interface PipedriveWebhookData {
  activity: R.PipedriveActivity;
  deal: R.PipedriveDeal;
  lead: R.PipedriveLead;
  note: R.PipedriveNote;
  organization: R.PipedriveOrganization;
  person: R.PipedrivePerson;
  product: PipedriveWebhookProduct;
  user: PipedriveWebhookUser;
}

/**
 * `meta` of a v2 delivery. The snake_case fields are as Pipedrive sends them (ids are strings);
 * the camelCase ones beside them are parsed.
 */
export interface PipedriveWebhookMeta {
  action: PipedriveWebhookAction;
  entity: PipedriveWebhookObject;
  /** The record's id as sent: a number in a string, or a UUID for leads. */
  entity_id: string;
  company_id: string;
  user_id?: string;
  /** Unique per event and reused by Pipedrive's retries: the inbox deduplicates on it. */
  id: string;
  correlation_id?: string;
  /** ISO-8601 (some accounts send unix seconds). */
  timestamp: string;
  type?: 'general' | 'application';
  version: '2.0';
  webhook_id?: string;
  webhook_owner_id?: string;
  /** `api`: written through the API (possibly by this app); `app`: by a user in Pipedrive. */
  change_source?: 'app' | 'api' | string;
  /** Pipedrive's delivery attempt, 1 to 4. */
  attempt?: number;
  is_bulk_edit?: boolean;
  host?: string;
  permitted_user_ids?: string[];
  merged_to_id?: string;
  merged_from_id?: string;
  /** `entity_id` as a number; null for UUIDs (leads). */
  entityId: number | null;
  companyId: number;
  userId: number | null;
  webhookId: number | null;
  /** `timestamp` in epoch milliseconds. */
  timestampMs: number;
  [extra: string]: unknown;
}

/** What a handler receives: the stored delivery, its connection and a client acting as it. */
export interface PipedriveWebhookEvent<O extends PipedriveWebhookObject = PipedriveWebhookObject> {
  /** `meta.id`. */
  id: string;
  action: PipedriveWebhookAction;
  entity: O;
  meta: PipedriveWebhookMeta & { entity: O };
  /** The record now; null on delete. */
  data: (PipedriveWebhookData[O] & Record<string, unknown>) | null;
  /** On change: only the fields that changed, as they were; on delete: the last state; null on create. */
  previous: (Partial<PipedriveWebhookData[O]> & Record<string, unknown>) | null;
  /** The connection whose webhook delivered it (decided by the delivery's credentials). */
  connection: PipedriveConnection;
  /** Calls Pipedrive as that connection, e.g. to fetch more: `event.client.deals.get(id)`. */
  client: PipedriveConnectionClient;
  /** Handling attempt: 1 the first time, more after a handler threw or timed out. */
  attempt: number;
  /**
   * Aborts when this attempt runs past `handlerTimeoutMs` (the attempt then counts as failed): pass it to
   * long work (`fetch(url, { signal })`) so a timed-out attempt stops instead of overlapping the retry.
   */
  signal: AbortSignal;
}

/** The object an event name subscribes to: `PipedriveWebhookEventFor<'change.deal'>` has deal data. */
export type PipedriveWebhookEventFor<N extends PipedriveWebhookEventName> = N extends `${string}.${infer O}`
  ? O extends PipedriveWebhookObject
    ? PipedriveWebhookEvent<O>
    : PipedriveWebhookEvent
  : PipedriveWebhookEvent;
