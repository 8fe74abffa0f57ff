import type { PipedriveEmulatorClient } from '../emulator.options.js';
import type { Exchange } from '../http-exchange.js';
import { invalidRequest, oauthError, type OAuthAnswer } from './oauth-answers.js';
import type { TokenStore } from './token.store.js';

const FORM = 'application/x-www-form-urlencoded';

/** The form body, or undefined when the request is not form-encoded (JSON bodies are refused). */
export function parseForm(ex: Exchange, body: string | undefined): URLSearchParams | undefined {
  return ex.mediaType === FORM && body !== undefined ? new URLSearchParams(body) : undefined;
}

/**
 * The OAuth client from `Authorization: Basic`, or the answer refusing it. Credentials sent only
 * in the body are refused like missing ones: Pipedrive documents Basic as the one way. Pipedrive
 * answers token errors, invalid_client included, with HTTP 400 (RFC 6749 would allow 401 here;
 * `failNextToken(1, 401)` gives that shape too, for clients that must handle both).
 */
export function authenticateClient(
  ex: Exchange,
  form: URLSearchParams | undefined,
  tokens: TokenStore,
): Required<PipedriveEmulatorClient> | OAuthAnswer {
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
  const client = tokens.authenticate(id, secret) ?? tokens.authenticate(formDecoded(id), formDecoded(secret));
  return client ?? oauthError(400, 'invalid_client', 'Invalid client: cannot retrieve client credentials');
}

/** RFC 6749 form-encodes the Basic user and password; most clients send them raw. Both are accepted. */
function formDecoded(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export function isAnswer<T extends object>(value: T | OAuthAnswer): value is OAuthAnswer {
  return 'status' in value && 'body' in value;
}
