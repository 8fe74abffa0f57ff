import type { OutgoingHttpHeaders } from 'node:http';
import type { PipedriveEmulatorApp } from '../emulator.options.js';
import type { Exchange, Reply } from '../emulator.server.js';
import type { Grants } from './grants.js';

const FORM = 'application/x-www-form-urlencoded';

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'server_error';

/** Pipedrive's token-endpoint error shape, e.g. `{"success":false,"message":"Invalid grant: ...","error":"invalid_grant"}`. */
export function oauthError(status: number, error: OAuthErrorCode, message: string): Reply {
  const headers: OutgoingHttpHeaders = { 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="Pipedrive OAuth"';
  return { status, body: { success: false, message, error }, headers };
}

export const invalidGrant = (what: string): Reply => oauthError(400, 'invalid_grant', `Invalid grant: ${what}`);
export const invalidRequest = (what: string): Reply => oauthError(400, 'invalid_request', `Invalid request: ${what}`);

/** The form body, or undefined when the request is not form-encoded (JSON bodies are refused). */
export function parseForm(ex: Exchange, body: string | undefined): URLSearchParams | undefined {
  return ex.mediaType === FORM && body !== undefined ? new URLSearchParams(body) : undefined;
}

/**
 * The registered app from `Authorization: Basic`, or the reply refusing it. Credentials sent only
 * in the body are refused like missing ones: Pipedrive documents Basic as the one way. Pipedrive
 * answers token errors, invalid_client included, with HTTP 400 (RFC 6749 would allow 401 here;
 * `failNextToken(1, 401)` gives that shape too, for clients that must handle both).
 */
export function authenticateApp(ex: Exchange, form: URLSearchParams | undefined, grants: Grants): Required<PipedriveEmulatorApp> | Reply {
  if (!form) return invalidRequest(`content type must be ${FORM}`);
  const header = ex.req.headers.authorization ?? '';
  if (header.slice(0, 6).toLowerCase() !== 'basic ') {
    const inBody = form.has('client_id') || form.has('client_secret');
    const why = inBody ? 'send client credentials with HTTP Basic authentication' : 'missing client credentials';
    return oauthError(400, 'invalid_client', `Invalid client: ${why}`);
  }
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const [id, secret] = colon > 0 ? [decoded.slice(0, colon), decoded.slice(colon + 1)] : ['', ''];
  const app = grants.authenticate(id, secret) ?? grants.authenticate(formDecoded(id), formDecoded(secret));
  return app ?? oauthError(400, 'invalid_client', 'Invalid client: cannot retrieve client credentials');
}

/** RFC 6749 form-encodes the Basic user and password; most clients send them raw. Both are accepted. */
function formDecoded(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export function isReply<T extends object>(value: T | Reply): value is Reply {
  return 'status' in value && 'body' in value;
}
