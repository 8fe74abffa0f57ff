import { describe, expect, it } from 'vitest';
import type { PipedriveRequestOptions, PipedriveResponse } from './client.types.js';
import { collect, paginate, type PageRequest } from './pagination.js';

/** A list of `total` numbers served the way Pipedrive pages them; records each query asked. */
function listOf(total: number, style: 'cursor' | 'offset') {
  const queries: Array<Record<string, unknown>> = [];
  const request = (async (_method: string, _path: string, options: PipedriveRequestOptions) => {
    const query = { ...options.query } as Record<string, unknown>;
    queries.push(query);
    const start = style === 'cursor' ? Number(query.cursor ?? 0) : Number(query.start);
    const end = Math.min(total, start + Number(query.limit));
    const data = Array.from({ length: end - start }, (_, i) => start + i);
    const more = end < total;
    const additionalData =
      style === 'cursor'
        ? { next_cursor: more ? String(end) : null }
        : { pagination: { start, limit: Number(query.limit), more_items_in_collection: more, ...(more && { next_start: end }) } };
    return { status: 200, data, additionalData, relatedObjects: undefined, rateLimit: {} } satisfies PipedriveResponse<number[]>;
  }) as PageRequest;
  return { request, queries };
}

describe('paginate', () => {
  it('follows v2 cursors to the last page', async () => {
    const { request, queries } = listOf(1_050, 'cursor');
    const items = await collect(paginate<number>(request, '/v2/deals'));
    expect(items).toHaveLength(1_050);
    expect(items.at(-1)).toBe(1_049);
    expect(queries.map((q) => [q.cursor, q.limit])).toEqual([
      [undefined, 500],
      ['500', 500],
      ['1000', 500],
    ]);
  });

  it('follows v1 offsets to the last page, keeping filters', async () => {
    const { request, queries } = listOf(7, 'offset');
    const items = await collect(paginate<number>(request, '/v1/leads', { query: { owner_id: 3, limit: 3 } }));
    expect(items).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(queries).toEqual([
      { owner_id: 3, limit: 3, start: 0 },
      { owner_id: 3, limit: 3, start: 3 },
      { owner_id: 3, limit: 3, start: 6 },
    ]);
  });

  it('fetches no further page after the loop breaks', async () => {
    const { request, queries } = listOf(1_000, 'cursor');
    let seen = 0;
    for await (const _ of paginate<number>(request, '/v2/deals', { pageSize: 100 })) if (++seen === 150) break;
    expect(queries).toHaveLength(2);
  });

  it('asks only for what maxItems still needs', async () => {
    const { request, queries } = listOf(1_000, 'offset');
    const items = await collect(paginate<number>(request, '/v1/notes', { pageSize: 100, maxItems: 250 }));
    expect(items).toHaveLength(250);
    expect(queries.map((q) => q.limit)).toEqual([100, 100, 50]);
  });

  it('treats a v1 `data: null` page as empty', async () => {
    const request = (async () => ({
      status: 200,
      data: null,
      additionalData: undefined,
      relatedObjects: undefined,
      rateLimit: {},
    })) as PageRequest;
    expect(await collect(paginate(request, '/v1/notes'))).toEqual([]);
  });

  it('refuses a page size Pipedrive would reject', async () => {
    const { request } = listOf(1, 'cursor');
    await expect(collect(paginate(request, '/v2/deals', { pageSize: 501 }))).rejects.toThrow(RangeError);
  });
});
