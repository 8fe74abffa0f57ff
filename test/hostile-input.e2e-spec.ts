import fc from 'fast-check';
import type { IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCookie } from '../src/auth/cookies.js';
import { parseUninstallBody } from '../src/auth/uninstall-request.js';
import { paginatePages, type PageRequest } from '../src/client/pagination.js';
import { toResponse } from '../src/client/http-transport.js';
import { PipedriveApiError, PipedrivePaginationError } from '../src/errors/pipedrive.errors.js';
import { parseTokenAnswer } from '../src/tokens/token-response.parser.js';
import { approve, connectAs, send, start, SESSION_COOKIE, startOn } from './support/browser-flow.js';
import { type ReferenceApp, TEST_CLIENT } from './support/reference-app.js';

/**
 * Random and hostile input against every parser the library owns, directly and over real HTTP to the
 * reference app on SQLite with the emulator: no throw other than the parser's own typed refusal, no
 * 5xx, and nothing added to Object.prototype.
 */

/** JSON-ish values with the keys an attacker would try, nested. */
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'polluted');
const hostileValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.jsonValue(),
    fc.constantFrom('9007199254740993', '1e3', '0x10', ' 7', '-1', '', 'NaN', '12abc', '１２'),
    fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, 1e300, -1, 0, 1.5, Number.NaN),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(hostileKey, fc.string()), tie('value'), {
      maxKeys: 4,
    }),
  ),
})).value;

/** A JSON text whose keys may be `__proto__`: JSON.parse makes that an own property, a naive merge would not. */
const hostileJson = fc
  .dictionary(
    fc.oneof(
      hostileKey,
      fc.constantFrom('client_id', 'company_id', 'user_id', 'access_token', 'expires_in', 'api_domain', 'data', 'additional_data'),
    ),
    hostileValue,
    { maxKeys: 6 },
  )
  .map((value) => JSON.stringify(value).replace(/"polluted"/g, '"__proto__"'));

/** A parsed body: any hostile value, or what JSON.parse makes of hostile JSON (own `__proto__` keys). */
const hostileBody = fc.oneof(
  hostileValue,
  hostileJson.map((t) => JSON.parse(t) as unknown),
);

function expectUnpolluted(): void {
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('parsers under random and hostile input', () => {
  afterEach(expectUnpolluted);

  it('uninstall body: only positive safe integer ids pass, as given, and nothing throws', () => {
    fc.assert(
      fc.property(hostileBody, (body) => {
        const result = parseUninstallBody(body, TEST_CLIENT.clientId);
        if (!result.ok) return;
        for (const id of [result.request.companyId, result.request.userId]) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
      }),
      { numRuns: 2_000 },
    );
    const sixteen = parseUninstallBody(
      {
        client_id: TEST_CLIENT.clientId,
        company_id: '9007199254740993',
        user_id: 1,
      },
      TEST_CLIENT.clientId,
    );
    expect(sixteen).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('token-endpoint answer: a token set only with strings, a safe lifetime and a URL, and nothing throws', () => {
    fc.assert(
      fc.property(hostileBody, (body) => {
        const result = parseTokenAnswer(body, 'previous');
        if ('problem' in result) {
          expect(result.problem).not.toMatch(/previous/);
          return;
        }
        expect(Number.isSafeInteger(result.tokens.expiresIn)).toBe(true);
        expect(typeof result.tokens.accessToken).toBe('string');
        expect(new URL(result.tokens.apiDomain).protocol).toMatch(/^https?:$/);
      }),
      { numRuns: 2_000 },
    );
    const long = parseTokenAnswer({
      access_token: 'a',
      refresh_token: 'r',
      token_type: 'bearer',
      expires_in: '99999999999999999999',
      scope: 'base',
      api_domain: 'https://x.pipedrive.com',
    });
    expect(long).toHaveProperty('problem');
  });

  it('API envelope: an answer or PipedriveApiError, never another error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          hostileJson,
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          try {
            toResponse({ method: 'GET', path: '/api/v2/deals' }, { status: 200, headers: {}, text }, {});
          } catch (error) {
            expect(error).toBeInstanceOf(PipedriveApiError);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('paging over hostile additional_data ends, or stops with PipedrivePaginationError, within bounded pages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileValue, { minLength: 1, maxLength: 6 }),
        fc.constantFrom('/v2/deals', '/v1/leads'),
        async (pages, path) => {
          let served = 0;
          const request = (async () => {
            const additional = pages[Math.min(served++, pages.length - 1)];
            // After the scripted pages, Pipedrive keeps repeating the last one: the walk must not loop.
            return {
              status: 200,
              data: [1],
              additionalData: additional as never,
              relatedObjects: undefined,
              rateLimit: {},
            };
          }) as PageRequest;
          try {
            for await (const _ of paginatePages(request, path)) void _;
          } catch (error) {
            expect(error).toBeInstanceOf(PipedrivePaginationError);
          }
          expect(served).toBeLessThanOrEqual(pages.length + 1);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('cookie header: any text reads as a string or nothing', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.tuple(fc.oneof(hostileKey, fc.string()), fc.string())).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('; ')),
        ),
        (header) => {
          for (const name of [SESSION_COOKIE, '__proto__', 'constructor']) {
            const value = readCookie({ headers: { cookie: header } } as IncomingMessage, name);
            expect(value === undefined || typeof value === 'string').toBe(true);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('reference app routes under random and hostile input (real HTTP, SQLite, emulator)', () => {
  let app: ReferenceApp;
  let stop: () => Promise<void>;
  let session: string;
  const basic = `Basic ${Buffer.from(`${TEST_CLIENT.clientId}:${TEST_CLIENT.clientSecret}`).toString('base64')}`;

  beforeAll(async () => {
    ({ app, stop } = await startOn('sqlite'));
    ({ session } = await connectAs(app, 9_001, 1));
  });
  afterAll(() => stop?.());
  afterEach(expectUnpolluted);

  const queryPart = fc.tuple(
    fc.oneof(
      fc.constantFrom(
        'code',
        'state',
        'error',
        'code[]',
        'state[x]',
        '__proto__',
        '__proto__[polluted]',
        'constructor[prototype][polluted]',
      ),
      fc.string(),
    ),
    fc.oneof(fc.string(), fc.constantFrom('', '%', '%00', 'a'.repeat(5_000), '1', 'user_denied')),
  );

  it('callback: random queries answer 4xx (or a redirect), never 5xx, and store nothing', async () => {
    const before = await app.dataSource.query('SELECT COUNT(*) AS n FROM pipedrive_connections');
    await fc.assert(
      fc.asyncProperty(fc.array(queryPart, { maxLength: 5 }), async (parts) => {
        const query = parts
          .map(([k, v]) => `${encodeURIComponent(k).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(v)}`)
          .join('&');
        const answer = await send(`${app.url}/auth/pipedrive/callback?${query}`);
        expect(answer.status, query).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    expect(await app.dataSource.query('SELECT COUNT(*) AS n FROM pipedrive_connections')).toEqual(before);
  });

  it('callback: a repeated code or state is refused with 400 before any code exchange', async () => {
    for (const repeat of ['code', 'state']) {
      app.emulator.setAuthorizeUser({ companyId: 9_002, userId: 1 });
      const started = await start(app);
      const url = new URL(await approve(started));
      url.searchParams.append(repeat, url.searchParams.get(repeat)!);
      app.emulator.resetCounts();
      const answer = await send(url.toString(), {
        headers: { cookie: started.cookie },
      });
      expect(answer.status, repeat).toBe(400);
      expect(answer.json).toMatchObject({
        error: 'invalid_request',
        message: expect.stringContaining(repeat),
      });
      expect(app.emulator.counts.authorizationCode).toBe(0);
    }
  });

  it('uninstall: random JSON bodies with good credentials answer 4xx or 2xx, never 5xx; a 16-digit company id is refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileJson, fc.string()), async (body) => {
        const answer = await send(`${app.url}/auth/pipedrive/callback`, {
          method: 'DELETE',
          headers: { authorization: basic, 'content-type': 'application/json' },
          body,
        });
        expect(answer.status, body).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    const rounded = await send(`${app.url}/auth/pipedrive/callback`, {
      method: 'DELETE',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: TEST_CLIENT.clientId,
        company_id: '9007199254740993',
        user_id: '1',
        timestamp: 1,
      }),
    });
    expect(rounded.status).toBe(400);
  });

  it('session routes: random cookie headers answer 401 or 200, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.constantFrom(`${session}; ${session}x`, `${SESSION_COOKIE}=%`, `${SESSION_COOKIE}=${'a'.repeat(4_000)}`)),
        async (cookie) => {
          const safe = cookie.replace(/[^\x20-\x7e]/g, '');
          const answer = await send(`${app.url}/pipedrive/me`, {
            headers: { cookie: safe },
          });
          expect([200, 401], safe).toContain(answer.status);
        },
      ),
      { numRuns: 150 },
    );
  });
});
