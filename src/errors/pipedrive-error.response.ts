import {
  PipedriveApiError,
  PipedriveConnectionNotFoundError,
  PipedriveError,
  PipedriveExtensionNotConnectedError,
  PipedriveNetworkError,
  PipedriveRateLimitError,
  PipedriveReauthorizationRequiredError,
  PipedriveStorageError,
  PipedriveTimeoutError,
  PipedriveTokenEndpointError,
} from './pipedrive.errors.js';

/** JSON body of every error this library answers with. Never carries a token or secret. */
export interface PipedriveErrorBody {
  statusCode: number;
  /** Machine-readable reason, e.g. `invalid_state`, `reauthorization_required`. */
  error: string;
  message: string;
  [detail: string]: unknown;
}

/** How a library error is answered over HTTP. */
export interface PipedriveErrorResponse {
  body: PipedriveErrorBody;
  headers?: Record<string, string>;
}

const INTERNAL = 'The Pipedrive integration failed; see the server log.';

/**
 * Maps a library error to status and JSON. Messages of these errors are written to be safe to
 * show (no tokens, no secrets); configuration and unknown errors get a generic message instead.
 */
export function pipedriveErrorResponse(error: PipedriveError): PipedriveErrorResponse {
  if (error instanceof PipedriveReauthorizationRequiredError) {
    return answer(401, 'reauthorization_required', error.message, { reason: error.reason });
  }
  if (error instanceof PipedriveExtensionNotConnectedError) {
    // The token is fine; the user has to connect the app before it can act for them.
    return answer(403, 'pipedrive_not_connected', 'This Pipedrive user has not connected the app yet; connect it first.');
  }
  if (error instanceof PipedriveConnectionNotFoundError) {
    return answer(401, 'connection_not_found', 'No Pipedrive connection for this session; connect again.');
  }
  if (error instanceof PipedriveTokenEndpointError) return tokenEndpoint(error);
  if (error instanceof PipedriveStorageError) {
    // The client did nothing wrong and may simply retry; which query failed is for the server log only.
    return answer(503, 'storage_unavailable', 'The database is unavailable; try again shortly.');
  }
  if (error instanceof PipedriveRateLimitError) {
    const wait = error.details.rateLimit?.retryAfterSeconds ?? error.details.rateLimit?.resetSeconds;
    const response = answer(429, 'rate_limited', error.message);
    return wait === undefined ? response : { ...response, headers: { 'retry-after': String(Math.ceil(wait)) } };
  }
  if (error instanceof PipedriveApiError) {
    const { status, error: pipedriveError, errorInfo, code, requestId } = error.details;
    return answer(502, 'pipedrive_api_error', error.message, {
      pipedrive: { status, error: pipedriveError, errorInfo, code, requestId },
    });
  }
  if (error instanceof PipedriveTimeoutError) return answer(504, 'pipedrive_timeout', error.message);
  if (error instanceof PipedriveNetworkError) return answer(502, 'pipedrive_unreachable', error.message);
  return answer(500, 'internal_error', INTERNAL);
}

function tokenEndpoint(error: PipedriveTokenEndpointError): PipedriveErrorResponse {
  const { grant, status, oauthError, transient } = error.details;
  const details = { transient, pipedrive: { status, error: oauthError } };
  if (grant === 'authorization_code' && !transient && oauthError === 'invalid_grant') {
    // The code expired (5 minutes) or was already used: the browser can simply start again.
    return answer(400, 'invalid_grant', 'The authorization code is invalid, expired or already used; connect again.', details);
  }
  const code = { authorization_code: 'token_exchange_failed', refresh_token: 'token_refresh_failed', revoke: 'revoke_failed' }[grant];
  return answer(502, code, error.message, details);
}

function answer(statusCode: number, error: string, message: string, details?: object): PipedriveErrorResponse {
  return { body: { statusCode, error, message, ...details } };
}
