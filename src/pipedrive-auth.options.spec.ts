import { describe, expect, it } from 'vitest';
import { PipedriveConfigurationError } from './errors/pipedrive.errors.js';
import { PIPEDRIVE_OPTION_DEFAULTS, type PipedriveAuthModuleOptions, resolvePipedriveOptions } from './pipedrive-auth.options.js';

const SECRET = 'client-secret-VALUE-that-must-never-appear';
const valid: PipedriveAuthModuleOptions = {
  clientId: 'client-1',
  clientSecret: SECRET,
  redirectUri: 'https://app.example.com/auth/pipedrive/callback',
  encryptionKey: Buffer.alloc(32, 1).toString('base64'),
  sessionSecret: 's'.repeat(40),
};

function failure(options: unknown): PipedriveConfigurationError {
  try {
    resolvePipedriveOptions(options as PipedriveAuthModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(PipedriveConfigurationError);
    return error as PipedriveConfigurationError;
  }
  throw new Error('resolvePipedriveOptions accepted invalid options');
}

describe('resolvePipedriveOptions', () => {
  it('fills every default from PIPEDRIVE_OPTION_DEFAULTS', () => {
    const resolved = resolvePipedriveOptions(valid);
    const { refreshSweep: _sweepDefaults, metrics: _metricsDefaults, ...defaults } = PIPEDRIVE_OPTION_DEFAULTS;
    expect(resolved).toMatchObject({ ...defaults, secureCookies: true });
    expect(resolved.successRedirect).toBeUndefined();
    expect(resolved.refreshSweep).toBeUndefined();
    expect(resolved.metrics).toBeUndefined();
  });

  it('has a hint for every option, and each defaulted number hint quotes its default', () => {
    const wrong = { ...valid } as Record<string, unknown>;
    const names = Object.keys({ ...valid, ...PIPEDRIVE_OPTION_DEFAULTS, secureCookies: 0, successRedirect: 0, failureRedirect: 0 });
    for (const name of names) wrong[name] = Symbol('wrong');
    const { message } = failure(wrong);
    for (const name of names) expect(message).toContain(`option "${name}" must`);
    expect(message).not.toContain('is invalid');
    const numbers = Object.entries(PIPEDRIVE_OPTION_DEFAULTS).filter(([, value]) => typeof value === 'number');
    for (const [name, value] of numbers) expect(message).toMatch(new RegExp(`option "${name}" [^;]*\\(default ${value}\\)`));
  });

  it('keeps given values, trims the OAuth base URL and derives secureCookies from redirectUri', () => {
    const resolved = resolvePipedriveOptions({
      ...valid,
      redirectUri: 'http://127.0.0.1:3000/auth/pipedrive/callback',
      oauthBaseUrl: 'http://127.0.0.1:9999/',
      stateTtlSeconds: 60,
      client: { maxRetries: 0 },
      failureRedirect: '/connect?from=pipedrive',
    });
    expect(resolved.secureCookies).toBe(false);
    expect(resolved.oauthBaseUrl).toBe('http://127.0.0.1:9999');
    expect(resolved.stateTtlSeconds).toBe(60);
    expect(resolved.client).toEqual({ ...PIPEDRIVE_OPTION_DEFAULTS.client, maxRetries: 0 });
    expect(resolvePipedriveOptions({ ...valid, secureCookies: false }).secureCookies).toBe(false);
  });

  it('names every missing required option and says what to set', () => {
    const { message } = failure({});
    for (const name of ['clientId', 'clientSecret', 'redirectUri', 'encryptionKey', 'sessionSecret']) {
      expect(message).toContain(`option "${name}" is required`);
    }
    expect(message).toContain('openssl rand -base64 32');
  });

  it('explains missing options as a whole', () => {
    expect(failure(undefined).message).toMatch(/options are missing.*forRoot/);
  });

  it.each([
    ['stateTtlSeconds', { stateTtlSeconds: 601 }, 'from 1 to 600'],
    ['stateTtlSeconds', { stateTtlSeconds: 1.5 }, 'whole number'],
    ['sessionSecret', { sessionSecret: 'short' }, 'at least 32 characters'],
    ['encryptionKey', { encryptionKey: Buffer.alloc(16).toString('base64') }, '32 random bytes'],
    ['redirectUri', { redirectUri: 'ftp://example.com/cb' }, 'absolute http(s) callback URL'],
    ['redirectUri', { redirectUri: '/auth/pipedrive/callback' }, 'absolute http(s) callback URL'],
    ['failureRedirect', { failureRedirect: '//evil.example.com' }, 'single "/"'],
    ['requireState', { requireState: 'false' }, 'true or false'],
    ['client.maxRetries', { client: { maxRetries: 99 } }, 'from 0 to 10'],
    ['sessionCookieName', { sessionCookieName: 'bad name;' }, 'cookie name'],
  ])('rejects a wrong %s', (name, override, hint) => {
    const { message } = failure({ ...valid, ...override });
    expect(message).toContain(`option "${name}"`);
    expect(message).toContain(hint);
  });

  it('leaves the refresh sweep off unless refreshSweep is set, and validates it', () => {
    expect(resolvePipedriveOptions(valid).refreshSweep).toBeUndefined();
    expect(resolvePipedriveOptions({ ...valid, refreshSweep: { intervalSeconds: 60 } }).refreshSweep).toEqual({
      intervalSeconds: 60,
      batchSize: 100,
    });
    const cases: [unknown, string][] = [
      [{}, 'option "refreshSweep.intervalSeconds" is required and must be a whole number of seconds from 1 to 86400'],
      [{ intervalSeconds: 0 }, 'option "refreshSweep.intervalSeconds" must be a whole number of seconds from 1 to 86400'],
      [{ intervalSeconds: 60, batchSize: 0 }, 'option "refreshSweep.batchSize" must be a whole number of connections per sweep'],
      [60, 'option "refreshSweep" must be an object { intervalSeconds, batchSize? }'],
      [{ intervalSeconds: 60, interval: 5 }, 'unknown option "refreshSweep.interval"'],
    ];
    for (const [refreshSweep, message] of cases) expect(failure({ ...valid, refreshSweep }).message).toContain(message);
  });

  it('rejects unknown options so a typo does not pass silently', () => {
    expect(failure({ ...valid, stateTTLSeconds: 60 }).message).toContain('unknown option "stateTTLSeconds"');
  });

  it('never echoes a secret value', () => {
    const { message } = failure({
      ...valid,
      clientSecret: 42,
      encryptionKey: SECRET,
      sessionSecret: 'too-short-SECRET',
      previousEncryptionKeys: [SECRET],
    });
    expect(message).toContain('option "encryptionKey"');
    expect(message).toContain('option "previousEncryptionKeys"');
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain('too-short-SECRET');
    expect(message).not.toContain('42');
  });
});
