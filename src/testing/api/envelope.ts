// Pipedrive's API envelope: `{success, data, additional_data}`, its error shape, and its paging parameters.
import { STATUS_CODES } from 'node:http';
import type { Reply } from '../emulator.server.js';

export const ERROR_INFO = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

export function ok(data: unknown, additionalData?: unknown, status = 200): Reply {
  const body = additionalData === undefined ? { success: true, data } : { success: true, data, additional_data: additionalData };
  return { status, body };
}

/** Pipedrive's error envelope; `code` is the machine-readable v2 code where it has one. */
export function apiError(status: number, error: string, code?: string): Reply {
  return {
    status,
    body: { success: false, error, ...(code && { code }), errorCode: status, error_info: ERROR_INFO, data: null, additional_data: null },
  };
}

export const unauthorized = (): Reply => apiError(401, 'unauthorized access');
export const overLimit = (): Reply => apiError(429, 'Request over limit');
export const unknownRoute = (): Reply => apiError(404, 'Unknown method .');
export const notFound = (label: string): Reply => apiError(404, `${label} not found`, 'ERR_NOT_FOUND');
export const badRequest = (message: string): Reply => apiError(400, message, 'ERR_SCHEMA_VALIDATION_FAILED');
export const statusReply = (status: number): Reply => apiError(status, STATUS_CODES[status] ?? 'Error');

const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;

/** `limit` from the query: 1..500, 100 when absent; a Reply when Pipedrive would refuse it. */
export function readLimit(query: URLSearchParams): number | Reply {
  const raw = query.get('limit');
  if (raw === null || raw === '') return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    return badRequest(`Validation failed: limit: Must be an integer between 1 and ${MAX_LIMIT}`);
  }
  return limit;
}

/** `start` offset for v1 lists: an integer >= 0. */
export function readStart(query: URLSearchParams): number | Reply {
  const raw = query.get('start');
  const start = raw === null || raw === '' ? 0 : Number(raw);
  return Number.isInteger(start) && start >= 0 ? start : badRequest('Validation failed: start: Must be a non-negative integer');
}

/** Cursors are opaque to callers; inside they name the last id already sent. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(JSON.stringify({ id: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string | null): number | Reply {
  if (cursor === null || cursor === '') return 0;
  try {
    const { id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown };
    if (Number.isInteger(id)) return id as number;
  } catch {
    // Falls through: anything we did not issue is refused the same way.
  }
  return badRequest('Validation failed: cursor: Invalid cursor');
}
