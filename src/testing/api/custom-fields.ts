import { createHash } from 'node:crypto';
import type { Reply } from '../emulator.server.js';
import { PipedriveEmulatorError } from '../emulator.errors.js';
import type { PipedriveEmulatorCustomField, PipedriveEmulatorCustomFieldInput, PipedriveEmulatorFieldEntity } from '../emulator.types.js';
import { apiError, badRequest, decodeCursor, encodeCursor, ok, readLimit, readStart } from './envelope.js';
import { isoSeconds, type ResourceDefinition, type ResourceName } from './resource-definition.js';
import type { Item } from './resource-table.js';

/*
 * Pipedrive's custom fields, per company: the definitions (`GET /api/v2/dealFields`, personFields,
 * organizationFields, productFields; v1-only `GET /api/v1/leadFields`, where leads inherit the deal
 * fields), and the values on records, keyed by each field's 40-character hash: under `custom_fields`
 * in v2 records, as top-level keys in v1 leads. Writes are checked as strictly as Pipedrive does.
 */

interface Field {
  id: number;
  key: string;
  name: string;
  type: PipedriveEmulatorCustomFieldInput['type'];
  options: Array<{ id: number; label: string }> | null;
  addedAt: number;
}

/** Which fields a resource's records carry, and where. */
const ENTITY_OF: Partial<Record<ResourceName, { entity: PipedriveEmulatorFieldEntity; shape: 'v2' | 'v1' }>> = {
  deals: { entity: 'deal', shape: 'v2' },
  persons: { entity: 'person', shape: 'v2' },
  organizations: { entity: 'organization', shape: 'v2' },
  products: { entity: 'product', shape: 'v2' },
  leads: { entity: 'deal', shape: 'v1' },
};

/** `/api/v2/{entity}Fields` routes; `leadFields` is v1. */
export const FIELD_ROUTES: ReadonlyMap<string, { entity: PipedriveEmulatorFieldEntity; version: 'v1' | 'v2' }> = new Map([
  ['v2/dealFields', { entity: 'deal', version: 'v2' }],
  ['v2/personFields', { entity: 'person', version: 'v2' }],
  ['v2/organizationFields', { entity: 'organization', version: 'v2' }],
  ['v2/productFields', { entity: 'product', version: 'v2' }],
  ['v1/leadFields', { entity: 'deal', version: 'v1' }],
] as const);

/** A few of the built-in fields every company has, so clients must tell them from custom ones. */
const BUILT_IN: Record<PipedriveEmulatorFieldEntity, Array<[code: string, name: string, type: string]>> = {
  deal: [
    ['title', 'Title', 'varchar'],
    ['value', 'Value', 'monetary'],
    ['status', 'Status', 'status'],
    ['owner_id', 'Owner', 'user'],
  ],
  person: [
    ['name', 'Name', 'varchar'],
    ['emails', 'Email', 'varchar'],
    ['owner_id', 'Owner', 'user'],
  ],
  organization: [
    ['name', 'Name', 'varchar'],
    ['address', 'Address', 'address'],
    ['owner_id', 'Owner', 'user'],
  ],
  product: [
    ['name', 'Name', 'varchar'],
    ['code', 'Product code', 'varchar'],
    ['owner_id', 'Owner', 'user'],
  ],
};

const NUMERIC = new Set(['int', 'double']);
const TEXT = new Set(['varchar', 'varchar_auto', 'text', 'phone', 'date', 'time', 'address']);

/** Every company's custom-field definitions. */
export class CustomFields {
  private readonly byCompany = new Map<string, Field[]>();
  private nextFieldId = 10_000;
  private nextOptionId = 100;

  constructor(private readonly now: () => number) {}

  /** Adds a field as an admin would in Settings > Data fields; its key is a 40-character hash. */
  add(companyId: number, entity: PipedriveEmulatorFieldEntity, input: PipedriveEmulatorCustomFieldInput): PipedriveEmulatorCustomField {
    if (!BUILT_IN[entity])
      throw new PipedriveEmulatorError(`Unknown field entity ${String(entity)}: use deal, person, organization or product.`);
    if (typeof input.name !== 'string' || input.name.trim() === '') throw new PipedriveEmulatorError('A custom field needs a name.');
    const choice = input.type === 'enum' || input.type === 'set';
    if (choice !== (input.options !== undefined && input.options.length > 0)) {
      throw new PipedriveEmulatorError(`Field ${input.name}: enum and set fields need options; other types take none.`);
    }
    const id = this.nextFieldId++;
    const key = createHash('sha1').update(`${companyId}:${entity}:${id}`).digest('hex');
    const options = choice ? input.options!.map((label) => ({ id: this.nextOptionId++, label })) : null;
    const field: Field = { id, key, name: input.name, type: input.type, options, addedAt: this.now() };
    this.list(companyId, entity).push(field);
    return copy(field);
  }

  /** Renames a field or replaces its option labels (same ids), as an admin may at any time. */
  update(
    companyId: number,
    entity: PipedriveEmulatorFieldEntity,
    key: string,
    change: { name?: string; optionLabels?: Record<number, string> },
  ): void {
    const field = this.list(companyId, entity).find((f) => f.key === key);
    if (!field) throw new PipedriveEmulatorError(`No ${entity} field ${key} in company ${companyId}.`);
    if (change.name !== undefined) field.name = change.name;
    for (const option of field.options ?? []) option.label = change.optionLabels?.[option.id] ?? option.label;
  }

  fields(companyId: number, entity: PipedriveEmulatorFieldEntity): PipedriveEmulatorCustomField[] {
    return this.list(companyId, entity).map(copy);
  }

  /** `GET /api/v2/{entity}Fields` (cursor) or `GET /api/v1/leadFields` (offset). */
  route(
    method: string,
    route: { entity: PipedriveEmulatorFieldEntity; version: 'v1' | 'v2' },
    query: URLSearchParams,
    companyId: number,
  ): Reply {
    if (method !== 'GET') return apiError(405, 'Method not allowed');
    const limit = readLimit(query);
    if (typeof limit !== 'number') return limit;
    const builtIn = BUILT_IN[route.entity].map(([code, name, type], i) => ({ code, name, type, id: i + 1 }));
    const custom = this.list(companyId, route.entity);
    if (route.version === 'v2') {
      const all = [
        ...builtIn.map((f) => v2Field(f.code, f.name, f.type, false, null)),
        ...custom.map((f) => v2Field(f.key, f.name, f.type, true, f.options, f.addedAt)),
      ];
      const after = decodeCursor(query.get('cursor'));
      if (typeof after !== 'number') return after;
      const page = all.slice(after, after + limit);
      return ok(page, { next_cursor: after + limit < all.length ? encodeCursor(after + limit) : null });
    }
    const start = readStart(query);
    if (typeof start !== 'number') return start;
    const all = [
      ...builtIn.map((f) => v1Field(f.id, f.code, f.name, f.type, false, null)),
      ...custom.map((f) => v1Field(f.id, f.key, f.name, f.type, true, f.options, f.addedAt)),
    ];
    const more = start + limit < all.length;
    return ok(all.slice(start, start + limit), {
      pagination: { start, limit, more_items_in_collection: more, ...(more && { next_start: start + limit }) },
    });
  }

  /**
   * Checks and stores the custom-field values of a create or update on `item` (already merged), from
   * the body's `custom_fields` (v2) or its top-level hash keys (v1 leads). A Reply when Pipedrive refuses them.
   */
  write(
    companyId: number,
    def: ResourceDefinition,
    item: Item,
    body: Record<string, unknown>,
    before: Item | undefined,
  ): Reply | undefined {
    const where = ENTITY_OF[def.name];
    if (!where) return undefined;
    const fields = this.list(companyId, where.entity);
    if (where.shape === 'v2') {
      const input = body.custom_fields;
      const stored = { ...((before?.custom_fields as Record<string, unknown> | undefined) ?? {}) };
      if (input !== undefined) {
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          return badRequest('Validation failed: custom_fields: Expected an object');
        }
        for (const [key, value] of Object.entries(input)) {
          const field = fields.find((f) => f.key === key);
          if (!field) return badRequest(`Validation failed: custom_fields.${key}: Unknown custom field`);
          const problem = checkValue(field, value);
          if (problem) return badRequest(`Validation failed: custom_fields.${key}: ${problem}`);
          stored[key] = value;
        }
      }
      item.custom_fields = stored;
      return undefined;
    }
    for (const field of fields) {
      if (!Object.hasOwn(body, field.key)) continue;
      const problem = checkValue(field, body[field.key]);
      if (problem) return badRequest(`Validation failed: ${field.key}: ${problem}`);
      item[field.key] = body[field.key];
    }
    return undefined;
  }

  /** The record as the API sends it: every custom field of its entity present, null when unset. */
  present(companyId: number, def: ResourceDefinition, item: Item): Item {
    const where = ENTITY_OF[def.name];
    if (!where) return item;
    const fields = this.list(companyId, where.entity);
    if (fields.length === 0) return item;
    if (where.shape === 'v2') {
      const values = (item.custom_fields as Record<string, unknown> | undefined) ?? {};
      return { ...item, custom_fields: Object.fromEntries(fields.map((f) => [f.key, values[f.key] ?? null])) };
    }
    return { ...item, ...Object.fromEntries(fields.map((f) => [f.key, item[f.key] ?? null])) };
  }

  private list(companyId: number, entity: PipedriveEmulatorFieldEntity): Field[] {
    const id = `${companyId}:${entity}`;
    let fields = this.byCompany.get(id);
    if (!fields) this.byCompany.set(id, (fields = []));
    return fields;
  }
}

/** What makes `value` wrong for the field (Pipedrive v2 does not coerce), else undefined. null clears. */
function checkValue(field: Field, value: unknown): string | undefined {
  if (value === null) return undefined;
  const ids = new Set(field.options?.map((o) => o.id));
  switch (field.type) {
    case 'enum':
      return Number.isInteger(value) && ids.has(value as number) ? undefined : 'Expected the id of one of the field options';
    case 'set':
      if (!Array.isArray(value) || value.length === 0) return 'Expected a non-empty array of option ids (use null to clear)';
      return value.every((v) => Number.isInteger(v) && ids.has(v as number)) ? undefined : 'Expected ids of the field options';
    case 'monetary': {
      const money = value as { value?: unknown; currency?: unknown };
      return typeof money === 'object' && typeof money.value === 'number' && typeof money.currency === 'string'
        ? undefined
        : 'Expected { value: number, currency: string }';
    }
    default:
      if (NUMERIC.has(field.type)) return typeof value === 'number' ? undefined : 'Expected a number';
      if (TEXT.has(field.type)) return typeof value === 'string' ? undefined : 'Expected a string';
      return undefined;
  }
}

function v2Field(code: string, name: string, type: string, custom: boolean, options: Field['options'], addedAt?: number) {
  const time = addedAt === undefined ? null : isoSeconds(addedAt);
  return {
    field_name: name,
    field_code: code,
    field_type: type,
    is_custom_field: custom,
    is_optional_response_field: false,
    description: null,
    options: options?.map((o) => ({ id: o.id, label: o.label, color: null, add_time: time, update_time: time })) ?? null,
    subfields: type === 'monetary' ? [{ field_code: 'currency', field_name: 'Currency', field_type: 'varchar' }] : null,
  };
}

function v1Field(id: number, key: string, name: string, type: string, custom: boolean, options: Field['options'], addedAt?: number) {
  return {
    id,
    key,
    name,
    field_type: type,
    active_flag: true,
    edit_flag: custom,
    mandatory_flag: false,
    options: options?.map((o) => ({ id: o.id, label: o.label })) ?? null,
    add_time: addedAt === undefined ? null : new Date(addedAt).toISOString().slice(0, 19).replace('T', ' '),
  };
}

function copy(field: Field): PipedriveEmulatorCustomField {
  return { key: field.key, name: field.name, type: field.type, options: field.options?.map((o) => ({ ...o })) ?? null };
}
