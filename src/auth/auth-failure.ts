import { Logger } from '@nestjs/common';
import { AuthorizationError, InternalOAuthError } from 'passport-oauth2';
import { PipedriveError } from '../errors/pipedrive.errors.js';
import { PipedriveAuthException, type PipedriveErrorBody } from '../errors/pipedrive-auth.exception.js';
import { pipedriveErrorResponse } from '../errors/pipedrive-error.response.js';
import type { PipedriveStateFailure } from './pipedrive-state.store.js';

const logger = new Logger('PipedriveAuthGuard');

/**
 * Turns what passport reports for the authorize/callback request into an HTTP answer:
 * refused state -> 403 `invalid_state`; `?error=user_denied` -> 403 `user_denied`; token endpoint
 * failure -> 400 `invalid_grant` or 502; database down -> 503 `storage_unavailable`; anything
 * unexpected -> 500 `server_error` (logged).
 * With `failureRedirect`, the exception carries the URL to send the browser to instead.
 */
export function toAuthException(error: unknown, info: unknown, failureRedirect?: string): PipedriveAuthException {
  const body = describe(error, info);
  const redirectTo = failureRedirect ? withErrorCode(failureRedirect, body.error) : undefined;
  return new PipedriveAuthException(body, redirectTo, { cause: error ?? undefined });
}

function describe(error: unknown, info: unknown): PipedriveErrorBody {
  if (error instanceof AuthorizationError) {
    // Pipedrive's own code (`user_denied`); only echoed when it is a plain identifier.
    const code = /^[a-z_]{1,64}$/.test(error.code) ? error.code : 'authorization_error';
    const denied = code === 'user_denied' || code === 'access_denied';
    const message = denied ? 'The user declined to connect Pipedrive.' : `Pipedrive refused the authorization (${code}).`;
    return { statusCode: denied ? 403 : 400, error: code, message };
  }
  const cause = error instanceof InternalOAuthError ? error.oauthError : error;
  if (cause instanceof PipedriveError) {
    const { body } = pipedriveErrorResponse(cause);
    // As PipedriveExceptionFilter does: the server's own trouble is worth a line in its log (messages hold no secrets).
    if (body.statusCode > 500) logger.warn(`OAuth flow failed: ${cause.name}: ${cause.message}`);
    return body;
  }
  if (error) {
    logger.error(`OAuth callback failed: ${(error as Error).name ?? 'Error'}: ${(error as Error).message}`, (error as Error).stack);
    return { statusCode: 500, error: 'server_error', message: 'Connecting Pipedrive failed; see the server log.' };
  }
  const failure = info as Partial<PipedriveStateFailure> | undefined;
  if (failure?.code === 'invalid_state') return { statusCode: 403, error: 'invalid_state', message: failure.message! };
  // passport-oauth2 reports `?error=access_denied` as a plain failure.
  return { statusCode: 403, error: 'access_denied', message: 'The user declined to connect Pipedrive.' };
}

/** `failureRedirect` plus `error=<code>`, keeping its own query; works for absolute URLs and paths. */
export function withErrorCode(target: string, code: string): string {
  const absolute = /^https?:\/\//i.test(target);
  const url = new URL(target, 'http://relative.invalid');
  url.searchParams.set('error', code);
  return absolute ? url.toString() : `${url.pathname}${url.search}${url.hash}`;
}
