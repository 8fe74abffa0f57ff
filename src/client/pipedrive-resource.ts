import type { PipedriveHttpMethod, PipedriveQuery, PipedriveRequestOptions, PipedriveResponse } from './client.types.js';
import type { PipedrivePaginateOptions } from './pagination.js';
import { PipedriveCustomFieldsResource } from './custom-fields.resource.js';
import type { PipedriveCustomFields } from './custom-fields.js';

/**
 * The calls a resource makes as its connection: what `PipedriveConnectionClient` provides. Named here so
 * that the connection client, which builds its resources, and the resources do not import each other.
 */
export interface PipedriveResourceCalls {
  /** One call with the whole answer. */
  request<T>(method: PipedriveHttpMethod, path: string, options?: PipedriveRequestOptions): Promise<PipedriveResponse<T>>;
  /** Items of a list endpoint across pages. */
  paginate<T>(path: string, options?: PipedrivePaginateOptions): AsyncGenerator<T, void, undefined>;
  /** Every item of a list endpoint in one array. */
  all<T>(path: string, options?: PipedrivePaginateOptions): Promise<T[]>;
  /** The company's custom fields by name, for {@link PipedriveResource.withCustomFields}. */
  readonly customFields: PipedriveCustomFields;
}

/** Options of a list call: the page or paging options; the filters go in `query`. */
export type PipedriveListOptions = Omit<PipedrivePaginateOptions, 'query'>;

/**
 * CRUD and listing of one Pipedrive resource for one connection, e.g. `client.deals`.
 * List filters are Pipedrive's query parameters; `limit` in them sets the page size.
 */
export class PipedriveResource<T, TInput, TId extends number | string = number> {
  constructor(
    private readonly client: PipedriveResourceCalls,
    /** e.g. `/v2/deals`; the version decides the pagination style. */
    readonly path: string,
    private readonly updateMethod: 'PATCH' | 'PUT' = 'PATCH',
  ) {}

  /** One item by id. */
  get(id: TId, options?: PipedriveRequestOptions): Promise<T> {
    return this.client.request<T>('GET', this.itemPath(id), options).then((r) => r.data);
  }

  /** One page; `additionalData` holds the cursor or offset of the next. */
  async list(query?: PipedriveQuery, options?: PipedriveRequestOptions): Promise<PipedriveResponse<T[]>> {
    const page = await this.client.request<T[] | null>('GET', this.path, { ...options, query });
    return { ...page, data: page.data ?? [] };
  }

  /** Every matching item, page by page as the loop consumes them. */
  iterate(query?: PipedriveQuery, options?: PipedriveListOptions): AsyncGenerator<T, void, undefined> {
    return this.client.paginate<T>(this.path, { ...options, query });
  }

  /** Every matching item in one array (mind memory on large accounts). */
  all(query?: PipedriveQuery, options?: PipedriveListOptions): Promise<T[]> {
    return this.client.all<T>(this.path, { ...options, query });
  }

  /** Creates an item and returns it as Pipedrive stored it. */
  create(input: TInput, options?: PipedriveRequestOptions): Promise<T> {
    return this.client.request<T>('POST', this.path, { ...options, body: input }).then((r) => r.data);
  }

  /** Changes some fields of an item (PATCH in v2, PUT in v1) and returns it. */
  update(id: TId, changes: Partial<TInput>, options?: PipedriveRequestOptions): Promise<T> {
    return this.client.request<T>(this.updateMethod, this.itemPath(id), { ...options, body: changes }).then((r) => r.data);
  }

  /**
   * This resource with custom fields by name, typed by `F` (deals, persons, organizations, products, leads):
   * records come with `custom.get('Budget')`, create/update take `custom: { Budget: 1000 }`.
   */
  withCustomFields<F extends object = Record<string, unknown>>(): PipedriveCustomFieldsResource<T, TInput, F, TId> {
    return new PipedriveCustomFieldsResource<T, TInput, F, TId>(this.client.customFields, this);
  }

  /** Pipedrive answers with the deleted id. */
  delete(id: TId, options?: PipedriveRequestOptions): Promise<{ id: TId }> {
    return this.client.request<{ id: TId }>('DELETE', this.itemPath(id), options).then((r) => r.data);
  }

  private itemPath(id: TId): string {
    return `${this.path}/${encodeURIComponent(id)}`;
  }
}
