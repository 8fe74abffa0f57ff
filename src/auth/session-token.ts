import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';
/** Connection ids are UUIDs; anything else in a cookie is refused before any crypto. */
const CONNECTION_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The session cookie's value: `<connectionId>.<expiresAtSeconds>.<hmac>`, HMAC-SHA256 keyed with
 * `sessionSecret`. Stateless, so any instance sharing the secret can verify it; the expiry is
 * signed, so a copied cookie dies with its Max-Age even if a client keeps it.
 */
export function signSessionToken(connectionId: string, expiresAt: Date, secret: string): string {
  const expires = String(Math.floor(expiresAt.getTime() / 1000));
  return `${connectionId}.${expires}.${mac(connectionId, expires, secret).toString('base64url')}`;
}

/** The connection id named by a valid token unexpired at `now` (the PipedriveClock's); undefined for anything else. */
export function verifySessionToken(token: string, secret: string, now: Date): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [connectionId, expires, signature] = parts;
  if (!CONNECTION_ID.test(connectionId) || !/^\d{1,12}$/.test(expires)) return undefined;
  // Compare the encoded text, not decoded bytes: base64url decoding ignores the last character's spare
  // bits, so two different cookies could otherwise decode to the same signature.
  const expected = Buffer.from(mac(connectionId, expires, secret).toString('base64url'));
  const given = Buffer.from(signature);
  // Both are encoded HMAC-SHA256 outputs when well-formed: the length check reveals nothing secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  if (Number(expires) * 1000 <= now.getTime()) return undefined;
  return connectionId;
}

function mac(connectionId: string, expires: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`nestjs-pipedrive/session/${VERSION}|${connectionId}|${expires}`).digest();
}
