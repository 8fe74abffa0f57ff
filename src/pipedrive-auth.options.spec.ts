import { describe, expect, it } from 'vitest';
import { PipedriveConfigurationError } from './errors/pipedrive.errors.js';
import {
  isTrustedApiDomain,
  PIPEDRIVE_OPTION_DEFAULTS,
  PIPEDRIVE_SANDBOX_SECRETS,
  type PipedriveAuthModuleOptions,
  resolvePipedriveOptions,
} from './pipedrive-auth.options.js';

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
    ['client.redisTimeoutMs', { client: { redisTimeoutMs: 0 } }, 'milliseconds from 10 to 60000 (default 250)'],
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
      keepAliveDays: 30,
    });
    const cases: [unknown, string][] = [
      [{}, 'option "refreshSweep.intervalSeconds" is required and must be a whole number of seconds from 1 to 86400'],
      [{ intervalSeconds: 0 }, 'option "refreshSweep.intervalSeconds" must be a whole number of seconds from 1 to 86400'],
      [{ intervalSeconds: 60, batchSize: 0 }, 'option "refreshSweep.batchSize" must be a whole number of connections per sweep'],
      [60, 'option "refreshSweep" must be an object { intervalSeconds, batchSize?, keepAliveDays? }'],
      // Pipedrive drops a refresh token after 60 unused days: a keep-alive at 60 would come too late.
      [{ intervalSeconds: 60, keepAliveDays: 60 }, 'option "refreshSweep.keepAliveDays" must be a whole number of days'],
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

  it.each([
    ['//evil.example'],
    ['/\\evil.example'],
    ['/\t/evil.example'],
    ['/\n/evil.example'],
    ['/ok\u0000'],
    ['/a\\b'],
    ['javascript:alert(1)'],
    [' /leading-space'],
  ])('refuses a redirect target a browser could read as another host: %j', (target) => {
    expect(failure({ ...valid, successRedirect: target }).message).toContain('option "successRedirect" must');
    expect(failure({ ...valid, failureRedirect: target }).message).toContain('option "failureRedirect" must');
  });

  it('accepts plain paths and absolute URLs as redirect targets', () => {
    for (const target of ['/done', '/connect?retry=1', 'https://app.example.com/welcome']) {
      expect(resolvePipedriveOptions({ ...valid, successRedirect: target }).successRedirect).toBe(target);
    }
  });

  it("refuses the sandbox's published key and secret against Pipedrive, and accepts them against a test double", () => {
    const sandbox = { ...valid, ...PIPEDRIVE_SANDBOX_SECRETS };
    const { message } = failure(sandbox);
    expect(message).toContain('option "encryptionKey" is the published sandbox key');
    expect(message).toContain('option "sessionSecret" is the published sandbox secret');
    expect(() => resolvePipedriveOptions({ ...sandbox, oauthBaseUrl: 'http://127.0.0.1:4000' })).not.toThrow();
  });

  it('refuses an http redirect URI in production unless it is localhost', () => {
    const previous = process.env.NODE_ENV;
    try {
      for (const nodeEnv of ['production', 'Production', 'staging']) {
        process.env.NODE_ENV = nodeEnv;
        expect(failure({ ...valid, redirectUri: 'http://app.example.com/cb' }).message).toContain('option "redirectUri" must be https');
        for (const host of ['localhost:3000', '127.0.0.1:3000']) {
          expect(() => resolvePipedriveOptions({ ...valid, redirectUri: `http://${host}/cb` })).not.toThrow();
        }
      }
      process.env.NODE_ENV = 'test';
      expect(() => resolvePipedriveOptions({ ...valid, redirectUri: 'http://app.example.com/cb' })).not.toThrow();
    } finally {
      process.env.NODE_ENV = previous;
    }
  });

  it("defaults allowedOrigins to the redirect URI's origin", () => {
    expect(resolvePipedriveOptions(valid).allowedOrigins).toEqual(['https://app.example.com']);
    expect(failure({ ...valid, allowedOrigins: ['https://app.example.com/'] }).message).toContain('option "allowedOrigins" must');
  });

  it("trusts as api_domain only Pipedrive's https origins, the allow-list and a non-Pipedrive OAuth server's origin", () => {
    const options = resolvePipedriveOptions({ ...valid, allowedApiDomains: ['https://api.example.com'] });
    for (const trusted of ['https://acme.pipedrive.com', 'https://api.pipedrive.com/', 'https://api.example.com']) {
      expect(isTrustedApiDomain(trusted, options), trusted).toBe(true);
    }
    for (const untrusted of [
      'http://acme.pipedrive.com',
      'https://acme.pipedrive.com:8443',
      'https://pipedrive.com.evil.example',
      'https://evilpipedrive.com',
      'https://user@acme.pipedrive.com',
      'https://acme.pipedrive.com/proxy',
      'https://api.example.com.evil.example',
      'not a url',
    ]) {
      expect(isTrustedApiDomain(untrusted, options), untrusted).toBe(false);
    }
    const double = resolvePipedriveOptions({ ...valid, oauthBaseUrl: 'http://127.0.0.1:4000' });
    expect(isTrustedApiDomain('http://127.0.0.1:4000', double)).toBe(true);
    expect(isTrustedApiDomain('http://127.0.0.1:4001', double)).toBe(false);
  });
});
