import { PipedriveUnknownCustomFieldError, PipedriveUnknownCustomFieldOptionError } from '../errors/pipedrive-custom-field.errors.js';
import type { PipedriveClock } from '../pipedrive.clock.js';

/*
 * Custom fields by name. Pipedrive keys custom-field values by a 40-character hash that differs per
 * company; the company's field definitions map names to hashes and option ids to labels. They are
 * cached per company and entity for `client.customFieldsTtlSeconds`, and fetched again sooner when a
 * record, a name or a label is one the cached copy does not know (a field added or renamed since).
 */

/** What the definitions are fetched through: a connection's client. */
interface FieldsClient {
  connectionId(): Promise<string>;
  all<T>(path: string): Promise<T[]>;
}

/** What the per-connection API needs from the shared request context. */
interface FieldsContext {
  readonly tokens: { getAccessToken(connectionId: string): Promise<{ companyId: number }> };
  readonly fields: CustomFieldDefinitions;
}

/** The entities with custom fields. Leads carry the deal fields (served by v1 `/leadFields`). */
export type PipedriveCustomFieldEntity = 'deal' | 'person' | 'organization' | 'product' | 'lead';

/** One custom field of a company. */
export interface PipedriveCustomFieldDefinition {
  /** The 40-character hash keying the value in records. */
  readonly key: string;
  /** The name users see in Pipedrive. */
  readonly name: string;
  /** Pipedrive's field type: `varchar`, `double`, `monetary`, `enum`, `set`, `date`, ... */
  readonly type: string;
  /** Options of an `enum` or `set` field, else null. */
  readonly options: ReadonlyArray<{ readonly id: number; readonly label: string }> | null;
}

/**
 * Values by name as your app declares them, e.g. `{ Budget: number; Priority: 'High' | 'Low'; Tags: string[] }`:
 * enum fields as their option label, set fields as an array of labels, monetary as `{ value, currency }`,
 * others as Pipedrive sends them. null clears a value.
 */
export type PipedriveCustomFieldInput<F> = { [K in keyof F]?: F[K] | null };

/** Where each entity's definitions are served, and where its records keep the values. */
const SOURCES: Record<PipedriveCustomFieldEntity, { path: string; shape: 'v2' | 'v1' }> = {
  deal: { path: '/v2/dealFields', shape: 'v2' },
  person: { path: '/v2/personFields', shape: 'v2' },
  organization: { path: '/v2/organizationFields', shape: 'v2' },
  product: { path: '/v2/productFields', shape: 'v2' },
  lead: { path: '/v1/leadFields', shape: 'v1' },
};

/**
 * A miss (unknown name, hash or label) fetches the definitions again only if the cached copy is at least
 * this old, so a typo repeated in a loop costs one fetch per 5 s, not one per call.
 */
export const CUSTOM_FIELDS_MISS_REFRESH_MS = 5_000;

const HASH = /^[0-9a-f]{40}$/;

/** One company's custom fields of one entity, indexed. */
export class PipedriveFieldSet {
  readonly byName = new Map<string, PipedriveCustomFieldDefinition>();
  readonly byKey = new Map<string, PipedriveCustomFieldDefinition>();

  constructor(
    readonly entity: PipedriveCustomFieldEntity,
    readonly definitions: readonly PipedriveCustomFieldDefinition[],
    /** Clock time of the fetch. */
    readonly fetchedAt: number,
  ) {
    for (const field of definitions) {
      this.byKey.set(field.key, field);
      // Pipedrive allows two fields of one name; the first (oldest) keeps it.
      if (!this.byName.has(field.name)) this.byName.set(field.name, field);
    }
  }

  get shape(): 'v1' | 'v2' {
    return SOURCES[this.entity].shape;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  field(name: string): PipedriveCustomFieldDefinition {
    const field = this.byName.get(name);
    if (!field) throw new PipedriveUnknownCustomFieldError(this.entity, name, this.names());
    return field;
  }

  /** Whether the record holds a custom-field hash or an option id these definitions lack. */
  misses(record: Record<string, unknown>): boolean {
    const values = this.valuesOf(record);
    for (const key of Object.keys(values)) {
      if (!HASH.test(key)) continue;
      const field = this.byKey.get(key);
      if (!field) return true;
      if (field.options && optionIds(values[key]).some((id) => !field.options!.some((o) => o.id === id))) return true;
    }
    return false;
  }

  /** The record's value of a field: option labels for enum/set, `{ value, currency }` for monetary. */
  read(record: Record<string, unknown>, field: PipedriveCustomFieldDefinition): unknown {
    const values = this.valuesOf(record);
    const raw = values[field.key];
    if (raw === null || raw === undefined || raw === '') return null;
    if (field.type === 'enum') return labelOf(field, optionIds(raw)[0]!) ?? raw;
    if (field.type === 'set') return optionIds(raw).map((id) => labelOf(field, id) ?? id);
    // v1 keeps a monetary field's currency in a sibling key.
    if (field.type === 'monetary' && this.shape === 'v1') return { value: raw, currency: values[`${field.key}_currency`] ?? null };
    return raw;
  }

  /** Values by name turned into what Pipedrive takes: hash keys, option ids; v1 monetary split in two keys. */
  write(values: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const field = this.field(name);
      if (value === null) {
        out[field.key] = null;
      } else if (field.type === 'enum') {
        out[field.key] = this.optionId(field, value);
      } else if (field.type === 'set') {
        const labels = Array.isArray(value) ? value : [value];
        // Pipedrive refuses an empty array for a set field; null is how it is cleared.
        out[field.key] = labels.length === 0 ? null : labels.map((label) => this.optionId(field, label));
      } else if (field.type === 'monetary' && this.shape === 'v1' && typeof value === 'object') {
        const money = value as { value?: unknown; currency?: unknown };
        out[field.key] = money.value;
        if (money.currency !== undefined) out[`${field.key}_currency`] = money.currency;
      } else {
        out[field.key] = value;
      }
    }
    return out;
  }

  private optionId(field: PipedriveCustomFieldDefinition, label: unknown): number {
    const option = field.options?.find((o) => o.label === label);
    if (!option)
      throw new PipedriveUnknownCustomFieldOptionError(this.entity, field.name, String(label), field.options?.map((o) => o.label) ?? []);
    return option.id;
  }

  private valuesOf(record: Record<string, unknown>): Record<string, unknown> {
    if (this.shape === 'v1') return record;
    const custom = record.custom_fields;
    return typeof custom === 'object' && custom !== null ? (custom as Record<string, unknown>) : {};
  }
}

/** v2 sends option ids as integers (arrays for set); v1 as strings ("12", "12,13"). */
function optionIds(raw: unknown): number[] {
  if (raw === null || raw === undefined || raw === '') return [];
  if (Array.isArray(raw)) return raw.map(Number);
  return String(raw).split(',').map(Number);
}

function labelOf(field: PipedriveCustomFieldDefinition, id: number): string | undefined {
  return field.options?.find((o) => o.id === id)?.label;
}

interface RawDefinition {
  // v2
  field_code?: string;
  field_name?: string;
  is_custom_field?: boolean;
  // v1
  key?: string;
  name?: string;
  edit_flag?: boolean;
  // both
  field_type?: string;
  options?: Array<{ id: number | string; label: string }> | null;
}

function toDefinition(raw: RawDefinition): PipedriveCustomFieldDefinition | undefined {
  const key = raw.field_code ?? raw.key;
  const name = raw.field_name ?? raw.name;
  const custom = raw.is_custom_field ?? raw.edit_flag === true;
  if (!custom || typeof key !== 'string' || !HASH.test(key) || typeof name !== 'string') return undefined;
  const options = raw.options?.map((o) => ({ id: Number(o.id), label: o.label })) ?? null;
  return { key, name, type: raw.field_type ?? 'varchar', options };
}

/** Every connection's cached definitions, per company and entity; one per PipedriveClient. */
export class CustomFieldDefinitions {
  private readonly sets = new Map<string, PipedriveFieldSet>();
  private readonly loading = new Map<string, Promise<PipedriveFieldSet>>();

  constructor(
    private readonly clock: PipedriveClock,
    private readonly ttlMs: number,
  ) {}

  /**
   * The company's definitions: the cached ones while younger than the TTL, unless `missed` says they
   * lack something and they are older than {@link CUSTOM_FIELDS_MISS_REFRESH_MS}; fetched otherwise
   * (one fetch at a time per company and entity).
   */
  async get(
    client: FieldsClient,
    companyId: number,
    entity: PipedriveCustomFieldEntity,
    missed?: (set: PipedriveFieldSet) => boolean,
  ): Promise<PipedriveFieldSet> {
    const id = `${companyId}:${entity}`;
    const cached = this.sets.get(id);
    if (cached) {
      const age = this.clock.now() - cached.fetchedAt;
      if (age < this.ttlMs && (age < CUSTOM_FIELDS_MISS_REFRESH_MS || !missed?.(cached))) return cached;
    }
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.fetch(client, entity).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    const set = await pending;
    this.sets.set(id, set);
    return set;
  }

  private async fetch(client: FieldsClient, entity: PipedriveCustomFieldEntity): Promise<PipedriveFieldSet> {
    const raw = await client.all<RawDefinition>(SOURCES[entity].path);
    const definitions = raw.map(toDefinition).filter((field) => field !== undefined);
    return new PipedriveFieldSet(entity, definitions, this.clock.now());
  }
}

/**
 * A record's custom fields by name, typed by `F`: `deal.custom.get('Budget')`. Enum values come as
 * their option label, set values as an array of labels.
 */
export class PipedriveCustomFieldValues<F extends object = Record<string, unknown>> {
  constructor(
    private readonly set: PipedriveFieldSet,
    private readonly record: Record<string, unknown>,
  ) {}

  /**
   * The value of the field with this name, null when empty.
   * @throws PipedriveUnknownCustomFieldError when the company has no such field (it lists the known names).
   */
  get<K extends keyof F & string>(name: K): F[K] | null {
    return this.set.read(this.record, this.set.field(name)) as F[K] | null;
  }

  /** Every custom field of the record by name. */
  toObject(): { [K in keyof F]: F[K] | null } {
    const out: Record<string, unknown> = {};
    for (const name of this.set.names()) out[name] = this.set.read(this.record, this.set.field(name));
    return out as { [K in keyof F]: F[K] | null };
  }

  /** The company's custom-field names for this entity. */
  names(): string[] {
    return this.set.names();
  }
}

/**
 * Custom fields of one connection's company: `client.customFields`. For records of the typed
 * resources, `client.deals.withCustomFields<F>()` does this on every call.
 */
export class PipedriveCustomFields {
  constructor(
    private readonly context: FieldsContext,
    private readonly client: FieldsClient,
  ) {}

  /** The company's custom fields of this entity (cached). */
  async definitions(entity: PipedriveCustomFieldEntity): Promise<readonly PipedriveCustomFieldDefinition[]> {
    return (await this.fieldSet(entity)).definitions;
  }

  /**
   * A record's custom fields by name, e.g. from `client.get('/v2/deals/1')` or a webhook's `data`.
   * A record holding a field or option the cached definitions lack makes them be fetched again first.
   */
  async read<F extends object = Record<string, unknown>>(
    entity: PipedriveCustomFieldEntity,
    record: object,
  ): Promise<PipedriveCustomFieldValues<F>> {
    const values = record as Record<string, unknown>;
    const set = await this.fieldSet(entity, (cached) => cached.misses(values));
    return new PipedriveCustomFieldValues<F>(set, values);
  }

  /**
   * Values by name as Pipedrive takes them: `{ Budget: 1000 }` -> `{ '<40-char hash>': 1000 }`, labels as
   * option ids. Put the result under `custom_fields` for v2 endpoints; v1 (leads) takes the keys at the top level.
   * @throws PipedriveUnknownCustomFieldError / PipedriveUnknownCustomFieldOptionError after one fresh fetch.
   */
  async toKeys<F extends object = Record<string, unknown>>(
    entity: PipedriveCustomFieldEntity,
    values: PipedriveCustomFieldInput<F>,
  ): Promise<Record<string, unknown>> {
    const input = values as Record<string, unknown>;
    const set = await this.fieldSet(entity);
    try {
      return set.write(input);
    } catch (error) {
      if (!(error instanceof PipedriveUnknownCustomFieldError || error instanceof PipedriveUnknownCustomFieldOptionError)) throw error;
      const fresh = await this.fieldSet(entity, () => true);
      return fresh.write(input);
    }
  }

  private async fieldSet(entity: PipedriveCustomFieldEntity, missed?: (set: PipedriveFieldSet) => boolean): Promise<PipedriveFieldSet> {
    if (!Object.hasOwn(SOURCES, entity)) {
      throw new TypeError(`Pipedrive has no custom fields for "${entity}": use deal, person, organization, product or lead.`);
    }
    const { companyId } = await this.context.tokens.getAccessToken(await this.client.connectionId());
    return this.context.fields.get(this.client, companyId, entity, missed);
  }
}
