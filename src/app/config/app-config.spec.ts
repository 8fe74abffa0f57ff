import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AppConfigError, loadAppConfig } from './app-config.js';

const REAL = {
  PIPEDRIVE_CLIENT_ID: 'id',
  PIPEDRIVE_CLIENT_SECRET: 'secret',
  PIPEDRIVE_REDIRECT_URI: 'https://app.example.com/auth/pipedrive/callback',
  PIPEDRIVE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  SESSION_SECRET: 'x'.repeat(40),
};

describe('loadAppConfig', () => {
  it('starts on .env.example copied unchanged to .env: its empty values count as unset', () => {
    const example = parseEnv(readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8'));
    expect(Object.values(example)).toContain('');
    expect(loadAppConfig(example)).toMatchObject({ sandbox: true });
  });

  it('runs in sandbox mode on a fresh machine: no variables, SQLite in data/', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({ port: 3000, sandbox: true, production: false });
    expect(config.database).toEqual({ type: 'sqlite', path: 'data/pipedrive.sqlite' });
    expect(config.pipedrive.redirectUri).toBe('http://localhost:3000/auth/pipedrive/callback');
  });

  it('talks to Pipedrive once a client id is set, and then needs the rest', () => {
    expect(loadAppConfig(REAL).sandbox).toBe(false);
    expect(() => loadAppConfig({ PIPEDRIVE_CLIENT_ID: 'id' })).toThrow(
      /Missing PIPEDRIVE_CLIENT_SECRET, PIPEDRIVE_REDIRECT_URI, PIPEDRIVE_ENCRYPTION_KEY, SESSION_SECRET/,
    );
  });

  it('never falls back to the sandbox in production', () => {
    expect(() => loadAppConfig({ NODE_ENV: 'production' })).toThrow(AppConfigError);
    expect(() => loadAppConfig({ NODE_ENV: 'production' })).toThrow(/Missing PIPEDRIVE_CLIENT_ID.*SESSION_SECRET/);
    expect(() => loadAppConfig({ NODE_ENV: 'production', PIPEDRIVE_SANDBOX: 'true', ...REAL })).toThrow(
      /PIPEDRIVE_SANDBOX cannot be used with NODE_ENV=production/,
    );
    expect(loadAppConfig({ NODE_ENV: 'production', ...REAL })).toMatchObject({ production: true, sandbox: false });
  });

  it('turns the background refresh on only when PIPEDRIVE_REFRESH_SWEEP_SECONDS is set', () => {
    expect(loadAppConfig({}).pipedrive.refreshSweep).toBeUndefined();
    expect(loadAppConfig({ PIPEDRIVE_REFRESH_SWEEP_SECONDS: '60' }).pipedrive.refreshSweep).toEqual({ intervalSeconds: 60 });
    expect(() => loadAppConfig({ PIPEDRIVE_REFRESH_SWEEP_SECONDS: '0' })).toThrow(/PIPEDRIVE_REFRESH_SWEEP_SECONDS/);
  });

  it('reads DATABASE_URL as sqlite:PATH or postgres://, and names it when it is neither', () => {
    expect(loadAppConfig({ DATABASE_URL: 'postgres://u@db:5432/app' }).database).toEqual({
      type: 'postgres',
      url: 'postgres://u@db:5432/app',
    });
    expect(() => loadAppConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must be sqlite:PATH/);
  });

  it('names a malformed variable without echoing secrets', () => {
    expect(() => loadAppConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    const error = (() => {
      try {
        loadAppConfig({ ...REAL, PIPEDRIVE_REDIRECT_URI: 'not a url', PIPEDRIVE_CLIENT_SECRET: 'top-secret-value' });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/PIPEDRIVE_REDIRECT_URI/);
    expect(error?.message).not.toContain('top-secret-value');
  });

  it('falls back to the sandbox only when NODE_ENV is unset, development or test', () => {
    for (const NODE_ENV of [undefined, 'development', 'test']) expect(loadAppConfig({ NODE_ENV }).sandbox).toBe(true);
    for (const NODE_ENV of ['staging', 'Production', 'prod', 'PRODUCTION']) {
      expect(() => loadAppConfig({ NODE_ENV }), NODE_ENV).toThrow(/Missing PIPEDRIVE_CLIENT_ID, .*SESSION_SECRET.*NODE_ENV=/);
      expect(() => loadAppConfig({ NODE_ENV, PIPEDRIVE_SANDBOX: 'true' }), NODE_ENV).toThrow(/PIPEDRIVE_SANDBOX cannot be used/);
      expect(loadAppConfig({ NODE_ENV, ...REAL }).sandbox).toBe(false);
    }
    expect(loadAppConfig({ PIPEDRIVE_SANDBOX: 'true', ...REAL }).sandbox).toBe(true);
  });

  it('reads PIPEDRIVE_ALLOWED_API_DOMAINS and PIPEDRIVE_ALLOWED_ORIGINS as origin lists', () => {
    const config = loadAppConfig({
      ...REAL,
      PIPEDRIVE_ALLOWED_API_DOMAINS: 'https://api.example.com, https://eu.example.com',
      PIPEDRIVE_ALLOWED_ORIGINS: 'https://app.example.com,https://admin.example.com',
    });
    expect(config.pipedrive.allowedApiDomains).toEqual(['https://api.example.com', 'https://eu.example.com']);
    expect(config.pipedrive.allowedOrigins).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect(loadAppConfig(REAL).pipedrive).not.toHaveProperty('allowedOrigins');
    expect(() => loadAppConfig({ ...REAL, PIPEDRIVE_ALLOWED_API_DOMAINS: 'https://api.example.com/v1' })).toThrow(
      /PIPEDRIVE_ALLOWED_API_DOMAINS/,
    );
  });

  it('reads the extensions JWT secret, unset meaning the client secret', () => {
    expect(loadAppConfig({}).extensions.jwtSecret).toBeUndefined();
    expect(loadAppConfig({ PIPEDRIVE_EXTENSIONS_JWT_SECRET: 'ext-secret' }).extensions.jwtSecret).toBe('ext-secret');
  });
});
