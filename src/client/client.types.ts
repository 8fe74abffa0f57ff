import type { PipedriveRateLimitState } from '../errors/pipedrive.errors.js';

/** The HTTP methods the client sends. */
export type PipedriveHttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD';

/** A query-string value; arrays are sent comma-separated (`ids=1,2,3`), null and undefined are left out. */
export type PipedriveQueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>;
/** Query-string parameters of a call. */
export type PipedriveQuery = Readonly<Record<string, PipedriveQueryValue>>;

/** Options of one API call. */
export interface PipedriveRequestOptions {
  /**
   * Query-string parameters.
   * @default none
   */
  query?: PipedriveQuery;
  /**
   * JSON body (POST, PATCH, PUT).
   * @default none
   */
  body?: unknown;
  /**
   * Aborts the call, including waits for the rate limit and between retries (-> PipedriveTimeoutError).
   * @default none
   */
  signal?: AbortSignal;
  /**
   * Timeout of each attempt, from sending to the whole answer; rate-limit waits do not count.
   * @default options.client.timeoutMs (30000)
   */
  timeoutMs?: number;
  /**
   * Retry after a 5xx or a network error. Set for a POST/PATCH you know is safe to repeat.
   * @default true for GET, HEAD, PUT, DELETE; false for POST, PATCH
   */
  idempotent?: boolean;
}

/** A successful answer: Pipedrive's envelope, unwrapped. */
export interface PipedriveResponse<T> {
  status: number;
  data: T;
  /** Pipedrive's `additional_data` (pagination, cursors), or undefined. */
  additionalData: PipedriveAdditionalData | undefined;
  /** v1's `related_objects`, where sent. */
  relatedObjects: Record<string, unknown> | undefined;
  rateLimit: PipedriveRateLimitState;
}

/** The parts of `additional_data` the client reads; other keys pass through. */
export interface PipedriveAdditionalData {
  /** v2 cursor of the next page; null on the last page. */
  next_cursor?: string | null;
  /** v1 offset pagination. */
  pagination?: {
    start: number;
    limit: number;
    more_items_in_collection: boolean;
    next_start?: number;
  };
  [key: string]: unknown;
}
