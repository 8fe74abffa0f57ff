import { PipedriveApiError, PipedriveRateLimitError, type PipedriveRateLimitState } from '../errors/pipedrive.errors.js';
import type { ResponseHeaders } from './rate-limit-headers.js';

interface ErrorBody {
  error?: unknown;
  error_info?: unknown;
  code?: unknown;
  errorCode?: unknown;
}

function parseBody(text: string): ErrorBody {
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'object' && body !== null ? (body as ErrorBody) : {};
  } catch {
    return {};
  }
}

/** Longest upstream text an error keeps (and our error answers reflect). */
export const UPSTREAM_TEXT_MAX = 200;
/** Longest request id kept; longer ones are not Pipedrive's. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Text from Pipedrive made safe to log and to reflect in our own answers: the access token cut out
 * should a server ever echo it, any other token-like run (32+ token characters) too, then only letters,
 * digits, spaces and plain punctuation (no markup, no control characters), at most UPSTREAM_TEXT_MAX characters.
 */
export function upstreamText(text: string, accessToken: string): string {
  const cut = accessToken.length > 0 ? text.split(accessToken).join('[redacted]') : text;
  const safe = cut
    .replace(/[A-Za-z0-9_\-.:~+/=]{32,}/g, '[redacted]')
    .replace(/[^\p{L}\p{N} .,:;!?'()[\]/_@#%+=-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return safe.length > UPSTREAM_TEXT_MAX ? `${safe.slice(0, UPSTREAM_TEXT_MAX - 3)}...` : safe;
}

/** A string field of the body, made safe by {@link upstreamText}. */
function field(value: unknown, accessToken: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  // Bound before stringifying further: a hostile body may be megabytes.
  const text = typeof value === 'string' ? value.slice(0, 4 * UPSTREAM_TEXT_MAX) : JSON.stringify(value).slice(0, 4 * UPSTREAM_TEXT_MAX);
  return upstreamText(text, accessToken) || undefined;
}

/** A request-id header, only when it looks like one (an id, not text someone chose for us to reflect). */
function requestIdHeader(headers: ResponseHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value !== undefined && REQUEST_ID.test(value) ? value : undefined;
}

/** Turns an error answer into PipedriveApiError (PipedriveRateLimitError for 429). */
export function toApiError(
  request: { method: string; path: string; accessToken: string },
  answer: { status: number; headers: ResponseHeaders; text: string },
  rateLimit: PipedriveRateLimitState,
): PipedriveApiError {
  const body = parseBody(answer.text);
  const error = field(body.error, request.accessToken);
  const details = {
    status: answer.status,
    method: request.method,
    path: request.path,
    error,
    errorInfo: field(body.error_info, request.accessToken),
    code: field(body.code ?? body.errorCode, request.accessToken),
    requestId: requestIdHeader(answer.headers, 'x-request-id') ?? requestIdHeader(answer.headers, 'x-correlation-id'),
    rateLimit,
  };
  const message = `Pipedrive ${request.method} ${request.path} answered ${answer.status}${error ? `: ${error}` : ''}`;
  return answer.status === 429 ? new PipedriveRateLimitError(message, details) : new PipedriveApiError(message, details);
}
