import type { PipedriveEmulatorResource } from '../emulator.types.js';

/** How the emulator runs app webhooks (`emulator options.webhooks`). */
export interface PipedriveEmulatorWebhookOptions {
  /**
   * Multiplies Pipedrive's delivery periods: the retry delays (+3 s, +30 s, +150 s), the 30-minute
   * ban and the 3-day deletion. `0.001` turns the +150 s retry into 150 ms. The 10 s answer timeout
   * is not scaled (a receiver on a busy machine must not fail by the scale alone); with a
   * `ManualClock` it passes when the clock is advanced.
   * @default 1
   */
  timeScale?: number;
  /** Newest delivery attempts kept in `emu.webhookAttempts`. @default 10000 */
  maxRecordedAttempts?: number;
}

/** Exact webhook counters, updated in place. */
export interface PipedriveEmulatorWebhookCounts {
  /** Events handed to a webhook (one per event and matching webhook, banned ones included). */
  deliveries: number;
  /** POSTs sent to subscription URLs, retries included. */
  attempts: number;
  /** Deliveries answered 2xx within 10 s on some attempt. */
  succeeded: number;
  /** Attempts not answered 2xx within 10 s (status, timeout or connection error). */
  failedAttempts: number;
  /** Deliveries whose first attempt failed: each adds to its webhook's ban counter. */
  firstTryFailures: number;
  /** Deliveries that failed all four attempts. */
  exhausted: number;
  /** Times a webhook was banned for reaching ten first-try failures. */
  bans: number;
  /** Events never sent or given up because their webhook was banned or removed meanwhile. */
  lost: number;
  /** Webhooks Pipedrive deleted after three days without a successful delivery. */
  expiredWebhooks: number;
}

/** One POST to a subscription URL as the emulator made it. */
export interface PipedriveEmulatorWebhookAttempt {
  webhookId: number;
  /** `meta.id` of the delivery (the same on every attempt). */
  eventId: string;
  action: 'create' | 'change' | 'delete';
  entity: string;
  entityId: string;
  /** `meta.attempt`, 1..4. */
  attempt: number;
  /** Answer status; 0 for a timeout or a connection error. */
  status: number;
  /** Send time, epoch ms on the emulator's clock. */
  at: number;
}

/** A webhook as the emulator holds it, with its delivery state (a copy). */
export interface PipedriveEmulatorWebhook {
  id: number;
  companyId: number;
  /** The user whose token created it. */
  ownerId: number;
  /** The user whose permissions decide what it sees. */
  userId: number;
  /** The OAuth app that created it (only that app lists and deletes it). */
  clientId: string;
  eventAction: string;
  eventObject: string;
  subscriptionUrl: string;
  /** The Basic user deliveries carry (the password is shown only by the API). */
  httpAuthUser: string | null;
  type: 'application';
  /** First-try failures since the last ban. */
  banCounter: number;
  /** Epoch ms until which events are dropped; undefined when not banned. */
  bannedUntil?: number;
  /** Epoch ms of the last 2xx delivery, or undefined. */
  lastSuccessAt?: number;
}

/**
 * A user changing a record in Pipedrive's web UI: the data changes as through the API and webhooks
 * fire with `change_source: "app"`. Fields are those the API accepts; unknown fields are ignored.
 */
export type PipedriveEmulatorUiChange =
  | { action: 'create'; companyId: number; userId: number; resource: PipedriveEmulatorResource; fields: Record<string, unknown> }
  | {
      action: 'change';
      companyId: number;
      userId: number;
      resource: PipedriveEmulatorResource;
      id: number | string;
      fields: Record<string, unknown>;
    }
  | { action: 'delete'; companyId: number; userId: number; resource: PipedriveEmulatorResource; id: number | string };
