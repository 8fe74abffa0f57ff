import { HttpException, Logger } from '@nestjs/common';
import { PipedriveError } from './pipedrive.errors.js';
import { type PipedriveErrorBody, pipedriveErrorResponse } from './pipedrive-error.response.js';

const logger = new Logger('PipedriveAuth');

/**
 * A failure that reaches HTTP from the library's own routes and guards: `{ statusCode, error, message }`.
 * It is an HttpException, so Nest answers it as is, with or without {@link PipedriveExceptionFilter}.
 * `redirectTo` is set on OAuth callback failures when `failureRedirect` is configured; the filter
 * (installed on the built-in controller) then redirects there with `?error=<code>` instead of answering JSON.
 */
export class PipedriveAuthException extends HttpException {
  constructor(
    readonly body: PipedriveErrorBody,
    readonly redirectTo?: string,
    options?: { cause?: unknown },
  ) {
    super(body, body.statusCode, options);
  }

  /** The machine-readable reason (`body.error`). */
  get code(): string {
    return this.body.error;
  }

  /** Shorthand for `new PipedriveAuthException({ statusCode, error, message })`. */
  static of(statusCode: number, error: string, message: string): PipedriveAuthException {
    return new PipedriveAuthException({ statusCode, error, message });
  }

  /**
   * Any failure of an auth route as an HTTP answer: a PipedriveAuthException stays itself, a library
   * error gets its {@link pipedriveErrorResponse} (re-authorization -> 401, database down -> 503, Pipedrive
   * down -> 502), anything else 500 `server_error` (logged). With `failureRedirect`, the answer carries
   * the URL to send the browser to instead, with `error=<code>` appended.
   */
  static from(error: unknown, failureRedirect?: string): PipedriveAuthException {
    const body = error instanceof PipedriveAuthException ? error.body : describe(error);
    const redirectTo = failureRedirect ? withErrorCode(failureRedirect, body.error) : undefined;
    if (error instanceof PipedriveAuthException && redirectTo === error.redirectTo) return error;
    return new PipedriveAuthException(body, redirectTo, { cause: error });
  }
}

function describe(error: unknown): PipedriveErrorBody {
  if (error instanceof PipedriveError) {
    const { body } = pipedriveErrorResponse(error);
    // The server's own trouble is worth a line in its log (library messages hold no secrets).
    if (body.statusCode > 500) logger.warn(`${error.name}: ${error.message}`);
    if (body.statusCode === 500) logger.error(`${error.name}: ${error.message}`, error.stack);
    return body;
  }
  const { name = 'Error', message, stack } = (error ?? {}) as Partial<Error>;
  logger.error(`Pipedrive auth failed: ${name}: ${message}`, stack);
  return { statusCode: 500, error: 'server_error', message: 'Connecting Pipedrive failed; see the server log.' };
}

/** `failureRedirect` plus `error=<code>`, keeping its own query; works for absolute URLs and paths. */
export function withErrorCode(target: string, code: string): string {
  const absolute = /^https?:\/\//i.test(target);
  const url = new URL(target, 'http://relative.invalid');
  url.searchParams.set('error', code);
  return absolute ? url.toString() : `${url.pathname}${url.search}${url.hash}`;
}
