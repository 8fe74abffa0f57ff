import { Pool, type Dispatcher } from 'undici';
import {
  PipedriveApiError,
  PipedriveError,
  PipedriveRateLimitError,
  PipedriveTimeoutError,
  type PipedriveRateLimitState,
} from '../errors/pipedrive.errors.js';
import type { PipedriveAdditionalData, PipedriveHttpMethod, PipedriveResponse } from './client.types.js';

/*
 * One HTTP exchange with Pipedrive's API, top to bottom: the keep-alive pool of the company's
 * api_domain, the request sent through undici's dispatch API, the raw response read whole, the
 * rate-limit headers read from it, and the response unwrapped (2xx) or turned into an error.
 */

/** One keep-alive undici Pool per Pipedrive origin (each company has its own api_domain). */
export class HttpPools {
  private readonly byDomain = new Map<string, Pool>();
  private readonly byOrigin = new Map<string, Pool>();
  private closed = false;

  constructor(private readonly connectionsPerOrigin: number) {}

  /** The pool for an api_domain such as `https://acme.pipedrive.com`. */
  get(apiDomain: string): Pool {
    return this.byDomain.get(apiDomain) ?? this.create(apiDomain);
  }

  /** Waits for requests in flight, then closes every connection; later requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.byOrigin.values()];
    this.byDomain.clear();
    this.byOrigin.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  private create(apiDomain: string): Pool {
    if (this.closed) throw new PipedriveError('PipedriveClient is closed: its module was destroyed.');
    const origin = new URL(apiDomain).origin;
    let pool = this.byOrigin.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, { connections: this.connectionsPerOrigin });
      this.byOrigin.set(origin, pool);
    }
    this.byDomain.set(apiDomain, pool);
    return pool;
  }
}

/** Response headers as undici hands them over: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** One HTTP response, body read in full as text. */
export interface RawResponse {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

/** One try of an API call, as sent. */
export interface Attempt {
  method: PipedriveHttpMethod;
  /** Path without the query string, for errors. */
  path: string;
  /** Path with the query string, as sent. */
  target: string;
  accessToken: string;
  body: string | undefined;
  timeoutMs: number;
  signal: AbortSignal | undefined;
}

/**
 * Collects one response through undici's dispatch API. Lighter than `request()`: no body stream, and no
 * AbortController per call; the timeout is a plain timer (a socket deadline, not a wait, so it stays on
 * real time), the caller's signal is listened to only if given.
 */
class ResponseCollector implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: ResponseHeaders = {};
  private readonly chunks: Buffer[] = [];
  private done = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly attempt: Attempt,
    private readonly resolve: (response: RawResponse) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.timer = setTimeout(() => this.stop(`timed out after ${attempt.timeoutMs} ms`), attempt.timeoutMs);
    if (attempt.signal) {
      this.onAbort = () => this.stop('was aborted', attempt.signal!.reason);
      attempt.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.done) controller.abort(new Error('abandoned'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: ResponseHeaders): void {
    this.status = status;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (!this.finish()) return;
    const chunks = this.chunks;
    const text = chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString();
    this.resolve({ status: this.status, headers: this.headers, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  /** No response (connection refused or reset, bad request options). */
  fail(error: unknown): void {
    if (this.finish()) this.reject(error);
  }

  /** Timeout or caller abort: fail now, and drop the request wherever undici has it. */
  stop(why: string, cause?: unknown): void {
    if (!this.finish()) return;
    const { method, path } = this.attempt;
    this.reject(new PipedriveTimeoutError(`Pipedrive ${method} ${path} ${why}`, { method, path }, { cause }));
    this.controller?.abort(new Error(why));
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    clearTimeout(this.timer);
    if (this.onAbort) this.attempt.signal!.removeEventListener('abort', this.onAbort);
    return true;
  }
}

/** Sends one request and reads the whole response within `timeoutMs`; a timeout or abort -> PipedriveTimeoutError. */
export function sendAttempt(dispatcher: Dispatcher, attempt: Attempt): Promise<RawResponse> {
  const { method, path, signal } = attempt;
  if (signal?.aborted) {
    return Promise.reject(new PipedriveTimeoutError(`Pipedrive ${method} ${path} was aborted`, { method, path }, { cause: signal.reason }));
  }
  const headers: Record<string, string> = { authorization: `Bearer ${attempt.accessToken}`, accept: 'application/json' };
  if (attempt.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const collector = new ResponseCollector(attempt, resolve, reject);
    try {
      dispatcher.dispatch({ method, path: attempt.target, headers, body: attempt.body }, collector);
    } catch (error) {
      collector.fail(error);
    }
  });
}

function numberHeader(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

function textHeader(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads Pipedrive's `x-ratelimit-*` headers and `Retry-After`; an HTTP-date `Retry-After` becomes
 * seconds from `now` (epoch ms, the client's clock).
 */
export function readRateLimit(headers: ResponseHeaders, now: number): PipedriveRateLimitState {
  const state: PipedriveRateLimitState = {
    limit: numberHeader(headers['x-ratelimit-limit']),
    remaining: numberHeader(headers['x-ratelimit-remaining']),
    resetSeconds: numberHeader(headers['x-ratelimit-reset']),
  };
  const retryAfter = headers['retry-after'];
  if (retryAfter === undefined) return state;
  state.retryAfterSeconds = numberHeader(retryAfter);
  if (state.retryAfterSeconds === undefined) {
    const at = Date.parse(Array.isArray(retryAfter) ? retryAfter[0]! : retryAfter);
    if (!Number.isNaN(at)) state.retryAfterSeconds = Math.max(0, (at - now) / 1000);
  }
  return state;
}

interface Envelope {
  data?: unknown;
  additional_data?: PipedriveAdditionalData | null;
  related_objects?: Record<string, unknown> | null;
}

/** Unwraps Pipedrive's `{success, data, additional_data}` envelope of a 2xx response. */
export function toResponse<T>(
  request: { method: string; path: string },
  response: RawResponse,
  rateLimit: PipedriveRateLimitState,
): PipedriveResponse<T> {
  let envelope: Envelope | undefined;
  try {
    envelope = response.text === '' ? undefined : (JSON.parse(response.text) as Envelope);
  } catch {
    const { method, path } = request;
    throw new PipedriveApiError(`Pipedrive ${method} ${path} answered ${response.status} with a body that is not JSON`, {
      status: response.status,
      method,
      path,
      rateLimit,
    });
  }
  return {
    status: response.status,
    data: envelope?.data as T,
    additionalData: envelope?.additional_data ?? undefined,
    relatedObjects: envelope?.related_objects ?? undefined,
    rateLimit,
  };
}

interface ErrorBody {
  error?: unknown;
  error_info?: unknown;
  code?: unknown;
  errorCode?: unknown;
}

function parseErrorBody(text: string): ErrorBody {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null ? (body as ErrorBody) : {};
  } catch {
    return {};
  }
}

/** A string field of the body, with the access token cut out should a server ever echo it. */
function errorField(value: unknown, accessToken: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return accessToken.length > 0 ? text.split(accessToken).join('[redacted]') : text;
}

/** Turns an error response into PipedriveApiError (PipedriveRateLimitError for 429). */
export function toApiError(
  request: { method: string; path: string; accessToken: string },
  response: RawResponse,
  rateLimit: PipedriveRateLimitState,
): PipedriveApiError {
  const body = parseErrorBody(response.text);
  const error = errorField(body.error, request.accessToken);
  const details = {
    status: response.status,
    method: request.method,
    path: request.path,
    error,
    errorInfo: errorField(body.error_info, request.accessToken),
    code: errorField(body.code ?? body.errorCode, request.accessToken),
    requestId: textHeader(response.headers, 'x-request-id') ?? textHeader(response.headers, 'x-correlation-id'),
    rateLimit,
  };
  const message = `Pipedrive ${request.method} ${request.path} answered ${response.status}${error ? `: ${error}` : ''}`;
  return response.status === 429 ? new PipedriveRateLimitError(message, details) : new PipedriveApiError(message, details);
}
