import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** The password half of a webhook's HTTP Basic credentials: 32 random bytes. */
const PASSWORD_BYTES = 32;
/** Compared against when the claimed webhook is unknown, so a miss costs what a hit costs. */
const UNKNOWN_HASH = createHash('sha256').update('unknown webhook').digest();

/** Credentials generated for one webhook; the password leaves this process only towards Pipedrive. */
export interface WebhookCredentials {
  /** `http_auth_user`: the id of our webhook row, so a delivery names the credentials to check. */
  user: string;
  password: string;
  /** sha256(password), hex: what is stored. */
  passwordHash: string;
}

/**
 * Generates credentials for a new webhook. sha256 suffices as the stored form: the password is 256
 * random bits, so there is nothing to brute-force, and the receiver stays fast.
 */
export function generateCredentials(): WebhookCredentials {
  const password = randomBytes(PASSWORD_BYTES).toString('base64url');
  return { user: randomUUID(), password, passwordHash: hashPassword(password) };
}

export function hashPassword(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

/** `Authorization: Basic ...` into user and password; undefined for anything else. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const match = /^Basic[ ]+([A-Za-z0-9+/=_-]{1,512})\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Whether `password` hashes to `storedHash`, compared in constant time. Pass undefined when the claimed
 * webhook is unknown: the same work is done and the answer is false.
 */
export function verifyPassword(password: string, storedHash: string | undefined): boolean {
  const presented = createHash('sha256').update(password).digest();
  const expected = storedHash && /^[0-9a-f]{64}$/.test(storedHash) ? Buffer.from(storedHash, 'hex') : UNKNOWN_HASH;
  return timingSafeEqual(presented, expected) && storedHash !== undefined;
}
