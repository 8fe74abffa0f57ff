import { z } from 'zod';
import { WEBHOOK_ACTIONS, WEBHOOK_OBJECTS } from './webhook-event-pattern.js';
import type { PipedriveWebhookMeta } from './pipedrive-webhook.types.js';

/** Ids arrive as strings in v2; older samples carry numbers. Both are accepted and kept as strings. */
const id = z.union([z.string().min(1).max(64), z.number().int().nonnegative()]).transform(String);
const record = z.record(z.string(), z.unknown());

const metaSchema = z.looseObject({
  action: z.enum(WEBHOOK_ACTIONS),
  entity: z.enum(WEBHOOK_OBJECTS),
  entity_id: id,
  company_id: z.union([z.string().regex(/^\d{1,15}$/), z.number().int().positive()]).transform(String),
  user_id: id.optional(),
  id: z.string().min(1).max(100),
  timestamp: z.union([z.string().min(1).max(64), z.number()]),
  version: z.literal('2.0'),
  webhook_id: id.optional(),
  webhook_owner_id: id.optional(),
  attempt: z.number().int().optional(),
});

const deliverySchema = z.looseObject({
  meta: metaSchema,
  data: record.nullable().optional(),
  previous: record.nullable().optional(),
});

/** A delivery that passed validation, with what the inbox indexes on. */
export interface ParsedDelivery {
  meta: PipedriveWebhookMeta;
  data: Record<string, unknown> | null;
  previous: Record<string, unknown> | null;
}

/**
 * Checks that a parsed JSON body is a v2 delivery (`meta.version` "2.0", a known action and object,
 * an event id, a usable timestamp) and parses its ids and time. Undefined when it is not one: v1
 * deliveries (`current`/`previous` at the top, `meta.v` 1) included.
 */
export function parseDelivery(body: unknown): ParsedDelivery | undefined {
  const parsed = deliverySchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { meta, data, previous } = parsed.data;
  const timestampMs = parseTimestamp(meta.timestamp);
  if (timestampMs === undefined) return undefined;
  return {
    meta: {
      ...meta,
      timestamp: String(meta.timestamp),
      entityId: toNumber(meta.entity_id),
      companyId: Number(meta.company_id),
      userId: toNumber(meta.user_id),
      webhookId: toNumber(meta.webhook_id),
      timestampMs,
    } as PipedriveWebhookMeta,
    data: data ?? null,
    previous: previous ?? null,
  };
}

/** ISO-8601, or unix seconds / milliseconds as a number or a digit string (seen in the wild). */
export function parseTimestamp(value: string | number): number | undefined {
  const numeric = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
  if (numeric !== undefined) return Number.isFinite(numeric) ? Math.round(numeric < 1e11 ? numeric * 1000 : numeric) : undefined;
  const ms = Date.parse(value as string);
  return Number.isNaN(ms) ? undefined : ms;
}

function toNumber(value: string | undefined): number | null {
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : null;
}
