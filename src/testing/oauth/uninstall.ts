import { request } from 'undici';
import type { PipedriveEmulatorClient } from '../emulator.options.js';
import type { Owner, TokenStore } from './token.store.js';

/**
 * What Pipedrive does when a user uninstalls the app: the user's tokens die, then a DELETE with
 * JSON `{client_id, company_id, user_id, timestamp}` and the app's Basic credentials goes to the
 * callback URL. Resolves to the app's status code (Pipedrive itself does not read the answer).
 */
export async function uninstall(
  tokens: TokenStore,
  client: Required<PipedriveEmulatorClient>,
  owner: Owner,
  now: number,
): Promise<number> {
  for (const refreshToken of tokens.refreshTokensOf(owner)) tokens.revoke(refreshToken);
  const { clientId, companyId, userId } = owner;
  const body = { client_id: clientId, company_id: companyId, user_id: userId, timestamp: new Date(now).toISOString() };
  const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
  const res = await request(client.redirectUri, {
    method: 'DELETE',
    headers: { 'content-type': 'application/json', authorization: `Basic ${basic}` },
    body: JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}
