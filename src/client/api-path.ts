import type { PipedriveQuery } from './client.types.js';

/** Pipedrive API version a path addresses; it also decides the pagination style. */
export type PipedriveApiVersion = 'v1' | 'v2';

/**
 * Maps `/v2/deals` (or `v2/deals`, or `/api/v2/deals`) to `/api/v2/deals`.
 * The version is required rather than defaulted: v1 and v2 differ in shapes and pagination.
 */
export function toApiPath(path: string): string {
  const relative = path.charCodeAt(0) === 47 ? path : `/${path}`;
  if (relative.startsWith('/v1/') || relative.startsWith('/v2/')) return `/api${relative}`;
  if (relative.startsWith('/api/v1/') || relative.startsWith('/api/v2/')) return relative;
  throw new TypeError(`Pipedrive path "${path}" must start with /v1/ or /v2/, e.g. /v2/deals or /v1/users/me.`);
}

/** Version of an API path built by {@link toApiPath}. */
export function apiVersion(apiPath: string): PipedriveApiVersion {
  return apiPath.charCodeAt(6) === 49 ? 'v1' : 'v2';
}

/** Serialises a query object; hand-written because URLSearchParams costs more than the rest of a request. */
export function toQueryString(query: PipedriveQuery | undefined): string {
  if (query === undefined) return '';
  let out = '';
  for (const key in query) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    out += `${out === '' ? '?' : '&'}${encodeURIComponent(key)}=${encodeURIComponent(text)}`;
  }
  return out;
}
