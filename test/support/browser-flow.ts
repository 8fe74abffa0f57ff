import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { expect } from 'vitest';
import { PipedriveConnectionEntity } from '../../src/database/pipedrive-connection.entity.js';
import { PIPEDRIVE_OPTION_DEFAULTS } from '../../src/pipedrive-auth.options.js';
import type { PipedriveClock } from '../../src/pipedrive.clock.js';
import { createPostgresDatabase } from './postgres.js';
import { type ReferenceApp, startReferenceApp } from './reference-app.js';

/** What a browser (or Pipedrive) sees of the reference app; every answer is kept for the no-token check. */

/** The reference app keeps the default cookie name. */
export const SESSION_COOKIE = PIPEDRIVE_OPTION_DEFAULTS.sessionCookieName;
export const STATE_COOKIE = `${SESSION_COOKIE}_state`;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

const seen: string[] = [];

/** Bodies and headers of every answer `send` got in this test file. */
export const seenAnswers = (): readonly string[] => seen;

export async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const answer = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  const text = await answer.body.text();
  seen.push(text, JSON.stringify(answer.headers));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: answer.statusCode, headers: answer.headers, text, json };
}

export interface Started {
  /** Cookie header of the browser that started: its state cookie. */
  cookie: string;
  state: string;
  authorizeUrl: URL;
}

/** `GET /auth/pipedrive`: the redirect to Pipedrive and the state cookie. */
export async function start(app: ReferenceApp): Promise<Started> {
  const answer = await send(`${app.url}/auth/pipedrive`);
  expect(answer.status).toBe(302);
  const state = cookiesOf(answer.headers)[STATE_COOKIE]!;
  return { cookie: `${STATE_COOKIE}=${state}`, state, authorizeUrl: new URL(String(answer.headers.location)) };
}

/** The browser at Pipedrive: the emulator approves (or denies) and sends it back to the callback. */
export async function approve(started: Started): Promise<string> {
  const answer = await request(started.authorizeUrl);
  await answer.body.dump();
  expect(answer.statusCode).toBe(302);
  return String(answer.headers.location);
}

/** The whole flow as this Pipedrive user; returns the callback's answer and the session cookie. */
export async function connectAs(app: ReferenceApp, companyId: number, userId: number) {
  app.emulator.setAuthorizeUser({ companyId, userId });
  const started = await start(app);
  const answer = await send(await approve(started), { headers: { cookie: started.cookie } });
  expect(answer.status, answer.text).toBe(200);
  const session = cookiesOf(answer.headers)[SESSION_COOKIE];
  expect(session).toBeTruthy();
  return { answer, session: `${SESSION_COOKIE}=${session}` };
}

/** The `Authorization` header of HTTP Basic, as Pipedrive sends it with an app's client credentials. */
export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** The callback URL with its state replaced, or removed (null). */
export function withState(callbackUrl: string, state: string | null): string {
  const url = new URL(callbackUrl);
  if (state === null) url.searchParams.delete('state');
  else url.searchParams.set('state', state);
  return url.toString();
}

export function setCookieLine(answer: Answer, name: string): string | undefined {
  return ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((line) => line.startsWith(`${name}=`));
}

export function connectionsOf(app: ReferenceApp, companyId: number, userId?: number) {
  return app.dataSource.getRepository(PipedriveConnectionEntity).findBy(userId === undefined ? { companyId } : { companyId, userId });
}

/** Asserts that no answer carried an emulator token or a token field; `atLeast` answers must have been seen. */
export function expectNoTokensSeen(atLeast = 20): void {
  expect(seen.length).toBeGreaterThanOrEqual(atLeast);
  for (const text of seen) {
    expect(text).not.toMatch(/v1u:/); // the emulator's access tokens
    expect(text).not.toMatch(/\d+:\d+:[A-Za-z0-9_-]{30,}/); // its refresh tokens
    expect(text).not.toMatch(/access_token|refresh_token|accessToken|refreshToken/);
  }
}

/** A database of the kind, and the reference app on it; `stop` closes both. */
export async function startOn(database: 'sqlite' | 'postgres', env?: Record<string, string>, clock?: PipedriveClock) {
  const dir = database === 'sqlite' ? mkdtempSync(join(tmpdir(), 'npd-auth-flow-')) : undefined;
  const postgres = database === 'postgres' ? await createPostgresDatabase() : undefined;
  const databaseUrl = postgres ? postgres.url : `sqlite:${join(dir!, 'app.sqlite')}`;
  const app = await startReferenceApp({ databaseUrl, env, clock });
  return {
    app,
    databaseUrl,
    stop: async () => {
      await app.close();
      await postgres?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `name=value` pairs from Set-Cookie headers. */
export function cookiesOf(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const raw = headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return Object.fromEntries(
    list.map((line) => {
      const pair = line.split(';')[0]!;
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}
