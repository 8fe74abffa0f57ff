import { badRequest, type Answer } from './api-answers.js';

const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;

/** `limit` from the query: 1..500, 100 when absent; an Answer when Pipedrive would refuse it. */
export function readLimit(query: URLSearchParams): number | Answer {
  const raw = query.get('limit');
  if (raw === null || raw === '') return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    return badRequest(`Validation failed: limit: Must be an integer between 1 and ${MAX_LIMIT}`);
  }
  return limit;
}

/** `start` offset for v1 lists: an integer >= 0. */
export function readStart(query: URLSearchParams): number | Answer {
  const raw = query.get('start');
  const start = raw === null || raw === '' ? 0 : Number(raw);
  return Number.isInteger(start) && start >= 0 ? start : badRequest('Validation failed: start: Must be a non-negative integer');
}

/** Cursors are opaque to callers; inside they name the last id already sent. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(JSON.stringify({ id: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string | null): number | Answer {
  if (cursor === null || cursor === '') return 0;
  try {
    const { id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown };
    if (Number.isInteger(id)) return id as number;
  } catch {
    // Falls through: anything we did not issue is refused the same way.
  }
  return badRequest('Validation failed: cursor: Invalid cursor');
}
