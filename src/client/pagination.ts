import { PipedrivePaginationError } from '../errors/pipedrive.errors.js';
import { apiVersion, toApiPath } from './api-path.js';
import type { PipedriveHttpMethod, PipedriveRequestOptions, PipedriveResponse } from './client.types.js';

/** Pipedrive's largest page. */
export const MAX_PAGE_SIZE = 500;

/** Options of `paginate`, `pages` and `all`: request options plus paging. */
export interface PipedrivePaginateOptions extends Omit<PipedriveRequestOptions, 'body' | 'idempotent'> {
  /**
   * Items per request, 1 to 500. Pipedrive charges rate-limit tokens per request, not per item.
   * @default query.limit, else 500
   */
  pageSize?: number;
  /**
   * Stop after this many items; the last request asks only for what is still needed.
   * @default no limit
   */
  maxItems?: number;
}

export type PageRequest = <T>(method: PipedriveHttpMethod, path: string, options: PipedriveRequestOptions) => Promise<PipedriveResponse<T>>;

function pageSizeOf(options: PipedrivePaginateOptions): number {
  const size = options.pageSize ?? Number(options.query?.limit ?? MAX_PAGE_SIZE);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new RangeError(`Pipedrive page size must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${size}.`);
  }
  return size;
}

/**
 * Pages of a list endpoint, fetched one at a time as the loop asks: v2 paths follow
 * `additional_data.next_cursor`, v1 paths follow `additional_data.pagination.next_start`.
 * Breaking out of `for await` fetches nothing more. A cursor seen before, or an offset that does not
 * move forward, ends the walk with PipedrivePaginationError instead of looping.
 */
export async function* paginatePages<T>(
  request: PageRequest,
  path: string,
  options: PipedrivePaginateOptions = {},
): AsyncGenerator<PipedriveResponse<T[]>, void, undefined> {
  const pageSize = pageSizeOf(options);
  const cursorStyle = apiVersion(toApiPath(path)) === 'v2';
  const { maxItems = Infinity, pageSize: _ignored, query: firstQuery, ...requestOptions } = options;
  let position: string | number | undefined = cursorStyle ? firstQuery?.cursor?.toString() : Number(firstQuery?.start ?? 0);
  // Cursors are opaque, so only an exact repeat can be told; offsets must grow.
  const cursorsSeen = new Set<string | number | undefined>([position]);
  let pages = 0;
  for (let seen = 0; seen < maxItems;) {
    const limit = Math.min(pageSize, maxItems - seen);
    const query = { ...firstQuery, limit, [cursorStyle ? 'cursor' : 'start']: position };
    const page = await request<T[] | null>('GET', path, { ...requestOptions, query });
    const items = page.data ?? [];
    seen += items.length;
    pages += 1;
    yield { ...page, data: items };
    const next = cursorStyle ? nextCursor(page) : nextStart(page, position as number, items.length);
    if (next === undefined || items.length === 0) return;
    const repeated = cursorStyle ? cursorsSeen.has(next) : !Number.isSafeInteger(next) || (next as number) <= (position as number);
    if (repeated) throw new PipedrivePaginationError({ path: toApiPath(path), parameter: cursorStyle ? 'cursor' : 'start', pages });
    cursorsSeen.add(next);
    position = next;
  }
}

function nextCursor(page: PipedriveResponse<unknown>): string | undefined {
  return page.additionalData?.next_cursor ?? undefined;
}

function nextStart(page: PipedriveResponse<unknown>, start: number, count: number): number | undefined {
  const pagination = page.additionalData?.pagination;
  if (!pagination?.more_items_in_collection) return undefined;
  return pagination.next_start ?? start + count;
}

/** Items of a list endpoint across pages; stops at `maxItems` or when the loop breaks. */
export async function* paginate<T>(
  request: PageRequest,
  path: string,
  options: PipedrivePaginateOptions = {},
): AsyncGenerator<T, void, undefined> {
  let left = options.maxItems ?? Infinity;
  for await (const page of paginatePages<T>(request, path, options)) {
    for (const item of page.data) {
      if (left-- <= 0) return;
      yield item;
    }
  }
}

/** Every item, in one array. Mind memory on large accounts; prefer `paginate` to stream. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
