import { HttpException } from '@nestjs/common';

/** JSON body of every error this library answers with. Never carries a token or secret. */
export interface PipedriveErrorBody {
  statusCode: number;
  /** Machine-readable reason, e.g. `invalid_state`, `reauthorization_required`. */
  error: string;
  message: string;
  [detail: string]: unknown;
}

/**
 * An authentication failure that reaches HTTP: `{ statusCode, error, message }`.
 * `redirectTo` is set on OAuth callback failures when `failureRedirect` is configured;
 * {@link PipedriveExceptionFilter} then redirects there with `?error=<code>` instead of answering JSON.
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
}
