import {
  PipedriveApiError,
  PipedrivePaymentRequiredError,
  PipedriveRateLimitError,
  type PipedriveRateLimitState,
} from '../errors/pipedrive.errors.js';
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

/** A string field of the body, with the access token cut out should a server ever echo it. */
function field(value: unknown, accessToken: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return accessToken.length > 0 ? text.split(accessToken).join('[redacted]') : text;
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Turns an error answer into PipedriveApiError (PipedriveRateLimitError for 429, PipedrivePaymentRequiredError for 402). */
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
    requestId: header(answer.headers, 'x-request-id') ?? header(answer.headers, 'x-correlation-id'),
    rateLimit,
  };
  const message = `Pipedrive ${request.method} ${request.path} answered ${answer.status}${error ? `: ${error}` : ''}`;
  if (answer.status === 429) return new PipedriveRateLimitError(message, details);
  if (answer.status === 402) return new PipedrivePaymentRequiredError(message, details);
  return new PipedriveApiError(message, details);
}
