import { z } from 'zod';
import { splitScopes } from '../database/column-transformers.js';
import type { PipedriveTokenSet } from './pipedrive-token.types.js';

const seconds = z.union([
  z.int().positive(),
  z
    .string()
    .regex(/^\d{1,15}$/)
    .transform(Number)
    .pipe(z.int().positive()),
]);
const httpUrl = z.url({ protocol: /^https?$/ });

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  // Pipedrive sends the same refresh token back; RFC 6749 lets a refresh answer omit it.
  refresh_token: z.string().min(1).optional(),
  token_type: z.string().refine((t) => t.toLowerCase() === 'bearer', 'token_type is not Bearer'),
  expires_in: seconds,
  scope: z.string(),
  api_domain: httpUrl,
});

/** Why an answer was refused; names the field, never its value. */
export type TokenAnswerProblem = string;

/**
 * Parses a successful token-endpoint answer strictly. Returns a problem description instead of
 * throwing so the caller can raise its own error without echoing the body (it holds tokens).
 */
export function parseTokenAnswer(
  body: unknown,
  previousRefreshToken?: string,
): { tokens: PipedriveTokenSet } | { problem: TokenAnswerProblem } {
  const parsed = tokenAnswer.safeParse(body);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'body'))];
    return { problem: `unexpected answer (${fields.join(', ')})` };
  }
  const answer = parsed.data;
  const refreshToken = answer.refresh_token ?? previousRefreshToken;
  if (!refreshToken) return { problem: 'unexpected answer (refresh_token)' };
  return {
    tokens: {
      accessToken: answer.access_token,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: answer.expires_in,
      scopes: splitScopes(answer.scope),
      apiDomain: answer.api_domain.replace(/\/+$/, ''),
    },
  };
}

/** OAuth error code of an error answer, if it looks like one (`invalid_grant`, ...). */
export function oauthErrorOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const error = (body as { error?: unknown }).error;
  return typeof error === 'string' && /^[a-z_]{1,64}$/.test(error) ? error : undefined;
}
