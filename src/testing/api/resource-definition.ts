import type { PipedriveEmulatorResource } from '../emulator.types.js';
import type { Item, ItemId } from './resource-table.js';

export type ResourceName = PipedriveEmulatorResource;

/** What a new record needs to know about where it is created. */
export interface BuildContext {
  id: ItemId;
  companyId: number;
  userId: number;
  /** Creation time, epoch ms. */
  now: number;
}

export interface ResourceDefinition {
  name: ResourceName;
  version: 'v1' | 'v2';
  /** Singular noun for messages, e.g. `Deal`. */
  label: string;
  pagination: 'cursor' | 'offset';
  updateMethod: 'PATCH' | 'PUT';
  /** Leads have UUIDs; everything else counts up. */
  uuid: boolean;
  /** Legacy v1 lists answer `data: null` when empty. */
  emptyListIsNull: boolean;
  /** Query parameters that filter lists by equality on the field of the same name. */
  filters: readonly string[];
  /** Fields the caller may set, with Pipedrive's defaults. */
  defaults(ctx: BuildContext): Record<string, unknown>;
  /** Fields set by Pipedrive itself (never from input). */
  system(ctx: BuildContext): Record<string, unknown>;
  /** Message for what makes this (merged) record invalid, else undefined. */
  invalid(record: Item): string | undefined;
  /** Pipedrive's timestamp format for this API. */
  time(ms: number): string;
}

/** ISO-8601 without milliseconds, as API v2 sends it. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** `YYYY-MM-DD HH:MM:SS` in UTC, as legacy v1 endpoints send it. */
export const v1Time = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
export const isoMillis = (ms: number): string => new Date(ms).toISOString();

export function requireText(record: Item, ...fields: string[]): string | undefined {
  const missing = fields.find((f) => typeof record[f] !== 'string' || (record[f] as string).trim() === '');
  return missing && `Validation failed: ${missing}: Parameter '${missing}' is required and must be a non-empty string`;
}

/** Fields ending in `_id` must hold an integer id or null. */
export function badIdField(record: Item): string | undefined {
  const isBad = (key: string) => key.endsWith('_id') && record[key] != null && !Number.isInteger(record[key]);
  const bad = Object.keys(record).find(isBad);
  return bad && `Validation failed: ${bad}: Expected an integer`;
}

/** Builds a fresh record from caller input. */
export function buildItem(def: ResourceDefinition, input: Record<string, unknown>, ctx: BuildContext): Item {
  const time = def.time(ctx.now);
  const defaults = def.defaults(ctx);
  return { id: ctx.id, ...defaults, ...pick(input, defaults), ...def.system(ctx), add_time: time, update_time: time };
}

/** The record after an update; unknown fields in the input are ignored, as Pipedrive drops them. */
export function mergeItem(def: ResourceDefinition, existing: Item, input: Record<string, unknown>, now: number): Item {
  return { ...existing, ...pick(input, writable(def)), update_time: def.time(now) };
}

const writableCache = new WeakMap<ResourceDefinition, Record<string, unknown>>();

function writable(def: ResourceDefinition): Record<string, unknown> {
  let fields = writableCache.get(def);
  if (!fields) writableCache.set(def, (fields = def.defaults({ id: 0, companyId: 0, userId: 0, now: 0 })));
  return fields;
}

function pick(input: Record<string, unknown>, allowed: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) if (Object.hasOwn(allowed, key)) out[key] = input[key];
  return out;
}
