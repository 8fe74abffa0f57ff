import type { Dispatcher } from 'undici';
import { PipedriveTimeoutError } from '../errors/pipedrive.errors.js';
import type { PipedriveHttpMethod } from './client.types.js';
import type { ResponseHeaders } from './rate-limit-headers.js';

/** One HTTP answer, body read in full. */
export interface Answer {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

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
 * Collects one answer through undici's dispatch API. Lighter than `request()`: no body stream, and no
 * AbortController per call; the timeout is a plain timer, the caller's signal is listened to only if given.
 */
class AnswerHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: ResponseHeaders = {};
  private readonly chunks: Buffer[] = [];
  private done = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    private readonly attempt: Attempt,
    private readonly resolve: (answer: Answer) => void,
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

  /** No answer (connection refused or reset, bad request options). */
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

/** Sends one request and reads the whole answer within `timeoutMs`; a timeout or abort -> PipedriveTimeoutError. */
export function sendAttempt(dispatcher: Dispatcher, attempt: Attempt): Promise<Answer> {
  const { method, path, signal } = attempt;
  if (signal?.aborted) {
    return Promise.reject(new PipedriveTimeoutError(`Pipedrive ${method} ${path} was aborted`, { method, path }, { cause: signal.reason }));
  }
  const headers: Record<string, string> = { authorization: `Bearer ${attempt.accessToken}`, accept: 'application/json' };
  if (attempt.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const handler = new AnswerHandler(attempt, resolve, reject);
    try {
      dispatcher.dispatch({ method, path: attempt.target, headers, body: attempt.body }, handler);
    } catch (error) {
      handler.fail(error);
    }
  });
}
