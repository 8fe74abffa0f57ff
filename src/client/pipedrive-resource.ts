import type { PipedriveQuery, PipedriveRequestOptions, PipedriveResponse } from './client.types.js';
import type { PipedriveConnectionClient } from './pipedrive-connection.client.js';
import type { PipedrivePaginateOptions } from './pagination.js';
import { PipedriveCustomFieldsResource } from './custom-fields.resource.js';

/** Options of a list call: the page or paging options; the filters go in `query`. */
export type PipedriveListOptions = Omit<PipedrivePaginateOptions, 'query'>;

/**
 * CRUD and listing of one Pipedrive resource for one connection, e.g. `client.deals`.
 * List filters are Pipedrive's query parameters; `limit` in them sets the page size.
 */
export class PipedriveResource<T, TInput, TId extends number | string = number> {
  constructor(
    private readonly client: PipedriveConnectionClient,
    /** e.g. `/v2/deals`; the version decides the pagination style. */
    readonly path: string,
    private readonly updateMethod: 'PATCH' | 'PUT' = 'PATCH',
  ) {}

  get(id: TId, options?: PipedriveRequestOptions): Promise<T> {
    return this.client.get<T>(this.itemPath(id), options);
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

  create(input: TInput, options?: PipedriveRequestOptions): Promise<T> {
    return this.client.post<T>(this.path, input, options);
  }

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
    return this.client.delete<{ id: TId }>(this.itemPath(id), options);
  }

  private itemPath(id: TId): string {
    return `${this.path}/${encodeURIComponent(id)}`;
  }
}
