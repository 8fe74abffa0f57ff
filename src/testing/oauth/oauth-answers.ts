import type { OutgoingHttpHeaders } from 'node:http';

/** A token-endpoint answer decided now and sent after the configured latency. */
export interface OAuthAnswer {
  status: number;
  body: unknown;
  headers?: OutgoingHttpHeaders;
}

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'server_error';

/** Pipedrive's token-endpoint error shape, e.g. `{"success":false,"message":"Invalid grant: ...","error":"invalid_grant"}`. */
export function oauthError(status: number, error: OAuthErrorCode, message: string): OAuthAnswer {
  const headers: OutgoingHttpHeaders = { 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = 'Basic realm="Pipedrive OAuth"';
  return { status, body: { success: false, message, error }, headers };
}

export const invalidGrant = (what: string): OAuthAnswer => oauthError(400, 'invalid_grant', `Invalid grant: ${what}`);
export const invalidRequest = (what: string): OAuthAnswer => oauthError(400, 'invalid_request', `Invalid request: ${what}`);
