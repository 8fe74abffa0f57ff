import { createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 'v2';
/** Connection ids are UUIDs; anything else in a cookie is refused before any crypto. */
const CONNECTION_ID = /^[A-Za-z0-9-]{1,64}$/;
/** Session epochs are 16 random bytes, base64url. */
const EPOCH = /^[A-Za-z0-9_-]{16,43}$/;

/** What a valid session cookie names: the connection and the authorization (epoch) that issued it. */
export interface SessionClaims {
  connectionId: string;
  epoch: string;
}

/**
 * The session cookie's value: `<connectionId>.<epoch>.<expiresAtSeconds>.<hmac>`, HMAC-SHA256 keyed with
 * `sessionSecret`. Stateless, so any instance sharing the secret can verify it; the expiry is signed, so
 * a copied cookie dies with its Max-Age even if a client keeps it; the epoch is signed, so it dies with
 * the authorization that issued it (see PipedriveSession).
 */
export function signSessionToken(claims: SessionClaims, expiresAt: Date, secret: string): string {
  const expires = String(Math.floor(expiresAt.getTime() / 1000));
  const { connectionId, epoch } = claims;
  return `${connectionId}.${epoch}.${expires}.${mac(connectionId, epoch, expires, secret).toString('base64url')}`;
}

/** The claims of a valid token unexpired at `now` (the PipedriveClock's); undefined for anything else. */
export function verifySessionToken(token: string, secret: string, now: Date): SessionClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 4) return undefined;
  const [connectionId, epoch, expires, signature] = parts as [string, string, string, string];
  if (!CONNECTION_ID.test(connectionId) || !EPOCH.test(epoch) || !/^\d{1,12}$/.test(expires)) return undefined;
  // Compare the encoded text, not decoded bytes: base64url decoding ignores the last character's spare
  // bits, so two different cookies could otherwise decode to the same signature.
  const expected = Buffer.from(mac(connectionId, epoch, expires, secret).toString('base64url'));
  const given = Buffer.from(signature);
  // Both are encoded HMAC-SHA256 outputs when well-formed: the length check reveals nothing secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  if (Number(expires) * 1000 <= now.getTime()) return undefined;
  return { connectionId, epoch };
}

function mac(connectionId: string, epoch: string, expires: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`nestjs-pipedrive/session/${VERSION}|${connectionId}|${epoch}|${expires}`).digest();
}
