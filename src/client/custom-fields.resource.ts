import type { PipedriveQuery, PipedriveRequestOptions, PipedriveResponse } from './client.types.js';
import type { PipedriveCustomFieldEntity, PipedriveCustomFieldInput, PipedriveCustomFields } from './custom-fields.js';
import { PipedriveCustomFieldValues } from './custom-fields.js';
import type { PipedrivePaginateOptions } from './pagination.js';

type ListOptions = Omit<PipedrivePaginateOptions, 'query'>;

/** The calls of a PipedriveResource the wrapper goes through. */
interface PlainResource<T, TInput, TId> {
  readonly path: string;
  get(id: TId, options?: PipedriveRequestOptions): Promise<T>;
  list(query?: PipedriveQuery, options?: PipedriveRequestOptions): Promise<PipedriveResponse<T[]>>;
  iterate(query?: PipedriveQuery, options?: ListOptions): AsyncGenerator<T, void, undefined>;
  create(input: TInput, options?: PipedriveRequestOptions): Promise<T>;
  update(id: TId, changes: Partial<TInput>, options?: PipedriveRequestOptions): Promise<T>;
}

/** A record with its custom fields by name: `deal.custom.get('Budget')` (not serialised with the record). */
export type PipedriveWithCustomFields<T, F extends object> = T & { readonly custom: PipedriveCustomFieldValues<F> };

/** Create/update input with custom fields by name in `custom`: `{ title, custom: { Budget: 1000 } }`. */
export type PipedriveCustomFieldsInput<TInput, F extends object> = TInput & { custom?: PipedriveCustomFieldInput<F> };

/** The entity whose fields a resource's records carry. */
const ENTITY_BY_PATH: Record<string, PipedriveCustomFieldEntity> = {
  '/v2/deals': 'deal',
  '/v2/persons': 'person',
  '/v2/organizations': 'organization',
  '/v2/products': 'product',
  '/v1/leads': 'lead',
};

/** The entity of a resource path, or a TypeError naming the resources that have custom fields. */
export function customFieldEntity(path: string): PipedriveCustomFieldEntity {
  const entity = ENTITY_BY_PATH[path];
  if (!entity) throw new TypeError(`${path} has no custom fields; deals, persons, organizations, products and leads do.`);
  return entity;
}

/**
 * A resource whose records come with `custom` (values by name, typed by `F`) and whose create/update
 * take `custom: { Name: value }`, turned into the company's hash keys (under `custom_fields` in v2,
 * top-level in v1 leads). Get one with `client.deals.withCustomFields<F>()`.
 */
export class PipedriveCustomFieldsResource<T, TInput, F extends object, TId extends number | string = number> {
  private readonly entity: PipedriveCustomFieldEntity;

  constructor(
    private readonly fields: PipedriveCustomFields,
    private readonly resource: PlainResource<T, TInput, TId>,
  ) {
    this.entity = customFieldEntity(resource.path);
  }

  /** One record by id, its custom fields readable by name. */
  async get(id: TId, options?: PipedriveRequestOptions): Promise<PipedriveWithCustomFields<T, F>> {
    return this.withCustom(await this.resource.get(id, options));
  }

  /** One page of records, with Pipedrive's `additional_data`. */
  async list(
    query?: PipedriveQuery,
    options?: PipedriveRequestOptions,
  ): Promise<PipedriveResponse<Array<PipedriveWithCustomFields<T, F>>>> {
    const page = await this.resource.list(query, options);
    const data: Array<PipedriveWithCustomFields<T, F>> = [];
    for (const record of page.data) data.push(await this.withCustom(record));
    return { ...page, data };
  }

  /** Every record, page by page, as an async iterator. */
  async *iterate(query?: PipedriveQuery, options?: ListOptions): AsyncGenerator<PipedriveWithCustomFields<T, F>, void, undefined> {
    for await (const record of this.resource.iterate(query, options)) yield await this.withCustom(record);
  }

  /** Every record, collected. */
  async all(query?: PipedriveQuery, options?: ListOptions): Promise<Array<PipedriveWithCustomFields<T, F>>> {
    const out: Array<PipedriveWithCustomFields<T, F>> = [];
    for await (const record of this.iterate(query, options)) out.push(record);
    return out;
  }

  /** Creates a record; `custom` sets custom fields by name. */
  async create(input: PipedriveCustomFieldsInput<TInput, F>, options?: PipedriveRequestOptions): Promise<PipedriveWithCustomFields<T, F>> {
    return this.withCustom(await this.resource.create((await this.toBody(input)) as TInput, options));
  }

  /** Updates a record; `custom` sets custom fields by name. */
  async update(
    id: TId,
    changes: Partial<PipedriveCustomFieldsInput<TInput, F>>,
    options?: PipedriveRequestOptions,
  ): Promise<PipedriveWithCustomFields<T, F>> {
    return this.withCustom(await this.resource.update(id, (await this.toBody(changes)) as Partial<TInput>, options));
  }

  private async toBody(input: { custom?: PipedriveCustomFieldInput<F> }): Promise<Record<string, unknown>> {
    const { custom, ...body } = input as Record<string, unknown> & { custom?: PipedriveCustomFieldInput<F> };
    if (custom === undefined) return body;
    const keys = await this.fields.toKeys<F>(this.entity, custom);
    if (this.entity === 'lead') return { ...body, ...keys };
    return { ...body, custom_fields: { ...(body.custom_fields as object | undefined), ...keys } };
  }

  private async withCustom(record: T): Promise<PipedriveWithCustomFields<T, F>> {
    const custom = await this.fields.read<F>(this.entity, record as object);
    // Not enumerable: the record still serialises (and compares) as Pipedrive sent it.
    return Object.defineProperty(record as object, 'custom', { value: custom, enumerable: false }) as PipedriveWithCustomFields<T, F>;
  }
}
