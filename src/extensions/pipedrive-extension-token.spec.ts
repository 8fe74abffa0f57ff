import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { ManualClock } from '../testing/manual-clock.js';
import { PipedriveExtensionTokenVerifier } from './pipedrive-extension-token.js';
import { resolveExtensionsOptions } from './pipedrive-extensions.options.js';

const CLIENT_SECRET = 'client-secret-of-the-app';
const pipedrive = { clientSecret: CLIENT_SECRET } as ResolvedPipedriveOptions;

async function sign(secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
}

describe('PipedriveExtensionTokenVerifier', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const at = Math.floor(clock.now() / 1000);
  const verifier = (options = {}) => new PipedriveExtensionTokenVerifier(pipedrive, resolveExtensionsOptions(options), clock);

  it('accepts a token within the clock tolerance (10 s) past exp, and not at 10 s', async () => {
    const token = await sign(CLIENT_SECRET, { companyId: 5, userId: 7, iat: at, exp: at + 300 });
    const clockAt = (seconds: number) => new ManualClock((at + seconds) * 1000);
    const at309 = new PipedriveExtensionTokenVerifier(pipedrive, resolveExtensionsOptions({}), clockAt(309));
    await expect(at309.verify(token)).resolves.toMatchObject({ claims: { companyId: 5, userId: 7 } });
    const at310 = new PipedriveExtensionTokenVerifier(pipedrive, resolveExtensionsOptions({}), clockAt(310));
    await expect(at310.verify(token)).rejects.toMatchObject({ body: { statusCode: 401, error: 'extension_token_expired' } });
  });

  it('follows the injected clock as it advances', async () => {
    const manual = new ManualClock(clock.now());
    const verify = new PipedriveExtensionTokenVerifier(pipedrive, resolveExtensionsOptions({ clockToleranceSeconds: 0 }), manual);
    const token = await sign(CLIENT_SECRET, { companyId: 5, userId: 7, nbf: at + 60, exp: at + 360 });
    await expect(verify.verify(token)).rejects.toMatchObject({ body: { error: 'extension_token_not_yet_valid' } });
    await manual.advance(60_000);
    await expect(verify.verify(token)).resolves.toBeDefined();
    await manual.advance(300_001);
    await expect(verify.verify(token)).rejects.toMatchObject({ body: { error: 'extension_token_expired' } });
  });

  it('checks against the extension JWT secret when one is set, not the client secret', async () => {
    const claims = { companyId: 5, userId: 7, exp: at + 300 };
    const withSecret = verifier({ jwtSecret: 'extension-jwt-secret' });
    await expect(withSecret.verify(await sign('extension-jwt-secret', claims))).resolves.toBeDefined();
    await expect(withSecret.verify(await sign(CLIENT_SECRET, claims))).rejects.toMatchObject({
      body: { error: 'invalid_extension_token' },
    });
    await expect(verifier().verify(await sign(CLIENT_SECRET, claims))).resolves.toBeDefined();
  });

  it('accepts ids given as digit strings and refuses anything else', async () => {
    await expect(verifier().verify(await sign(CLIENT_SECRET, { companyId: '5', userId: '7', exp: at + 60 }))).resolves.toMatchObject({
      claims: { companyId: 5, userId: 7 },
    });
    for (const bad of [0, -1, 1.5, '7a', null, {}, 2 ** 60]) {
      await expect(
        verifier().verify(await sign(CLIENT_SECRET, { companyId: bad, userId: 7, exp: at + 60 })),
        String(bad),
      ).rejects.toMatchObject({
        body: { error: 'invalid_extension_token' },
      });
    }
  });

  it('never quotes the token in a refusal', async () => {
    const token = await sign('wrong-secret', { companyId: 5, userId: 7, exp: at + 60 });
    const refusal = await verifier()
      .verify(token)
      .catch((error: unknown) => error);
    expect(JSON.stringify((refusal as { body: unknown }).body)).not.toContain(token.split('.')[2]);
  });
});

describe('resolveExtensionsOptions', () => {
  it('fills the defaults', () => {
    expect(resolveExtensionsOptions(undefined)).toEqual({ frameAncestors: [], clockToleranceSeconds: 10, denyFramingElsewhere: true });
  });

  it('names each wrong option without quoting its value', () => {
    const attempt = () =>
      resolveExtensionsOptions({
        jwtSecret: '',
        frameAncestors: ["'self' https://evil.example/path"],
        clockToleranceSeconds: 9999,
        extra: 1,
      } as never);
    expect(attempt).toThrow(/option "jwtSecret".*option "frameAncestors".*option "clockToleranceSeconds".*unknown option "extra"/);
    expect(attempt).not.toThrow(/evil/);
  });
});
