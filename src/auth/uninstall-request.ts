import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Pipedrive's uninstall notice, parsed. */
export interface PipedriveUninstallRequest {
  clientId: string;
  companyId: number;
  userId: number;
}

/**
 * Whether `Authorization: Basic` carries exactly this client's id and secret. Digests are compared
 * so neither the values nor their lengths leak through timing; both halves are always compared.
 */
export function hasClientCredentials(authorization: string | undefined, clientId: string, clientSecret: string): boolean {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const idOk = sameSecret(decoded.slice(0, colon), clientId);
  const secretOk = sameSecret(decoded.slice(colon + 1), clientSecret);
  return idOk && secretOk;
}

/** Constant-time equality of two strings of any lengths. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

// z.int() is a safe integer; a decimal string must convert to one too, so a 16-digit id is refused, not rounded.
const id = z.union([
  z.int().positive(),
  z
    .string()
    .regex(/^[1-9]\d{0,15}$/)
    .transform(Number)
    .pipe(z.int()),
]);
const bodySchema = z.object({
  client_id: z.string(),
  company_id: id,
  user_id: id,
  // Sent by Pipedrive; not needed here, as the Basic credentials authenticate the call.
  timestamp: z.unknown().optional(),
});

/** Result of reading the body: the request, or which check failed (400 malformed, 401 foreign client). */
export type UninstallBodyResult =
  { ok: true; request: PipedriveUninstallRequest } | { ok: false; reason: 'malformed' | 'client_mismatch'; message: string };

export function parseUninstallBody(body: unknown, clientId: string): UninstallBodyResult {
  const given = (body as { client_id?: unknown } | null)?.client_id;
  if (typeof given === 'string' && !sameSecret(given, clientId)) {
    return { ok: false, reason: 'client_mismatch', message: 'client_id in the body is not this app.' };
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || 'body'))];
    return {
      ok: false,
      reason: 'malformed',
      message: `Expected JSON {client_id, company_id, user_id, timestamp}; check ${fields.join(', ')}.`,
    };
  }
  const { company_id: companyId, user_id: userId } = parsed.data;
  return { ok: true, request: { clientId, companyId, userId } };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
