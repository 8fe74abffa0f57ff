import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPEDRIVE_OPTION_DEFAULTS } from '../src/pipedrive-auth.options.js';
import { ManualClock, PipedriveEmulator } from '../src/testing/index.js';
import { PipedriveConnectionEntity } from '../src/database/pipedrive-connection.entity.js';
import { PIPEDRIVE_EVENTS } from '../src/tokens/pipedrive-events.js';
import { TokenCipher, TokenSealer } from '../src/tokens/token-cipher.js';
import { startTestApp, type TestApp, type TestDatabase } from './support/test-app.js';
import { waitFor } from './support/waiting.js';

const CONNECTIONS = 10_000;
const DAYS = 90;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The sweep's interval and the in-use connection's rhythm. */
const PASS_MS = 6 * HOUR_MS;
const CLIENT = { clientId: 'keepalive-client', clientSecret: 'keepalive-secret-0123456789', redirectUri: 'http://127.0.0.1/callback' };

/**
 * Idle connections over 90 simulated days, with the sweeper on (hourly passes), on one ManualClock shared
 * by the app and the emulator, whose refresh tokens die after 60 unused days as Pipedrive's do; a real
 * SQLite file. None is lost, and each costs one token-endpoint call per keepAliveDays, not one per
 * access-token lifetime; a connection in use meanwhile is refreshed as often as before, not more.
 */
describe('refresh sweep keeps idle connections alive', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const dir = mkdtempSync(join(tmpdir(), 'npd-keepalive-'));
  const database: TestDatabase = { type: 'sqlite', path: join(dir, 'keepalive.sqlite') };
  const refreshes = new Map<string, number>();
  let reauthorizations = 0;
  let emu: PipedriveEmulator;
  let app: TestApp;
  let inUse: string;

  beforeAll(async () => {
    emu = await PipedriveEmulator.start({ apps: [CLIENT], clock });
    app = await startTestApp({
      options: {
        ...CLIENT,
        oauthBaseUrl: emu.url,
        encryptionKey: Buffer.alloc(32, 7).toString('base64'),
        sessionSecret: 'k'.repeat(48),
        refreshSweep: { intervalSeconds: PASS_MS / 1000, batchSize: 10_000 },
      },
      database,
      clock,
    });
    // Connected once, never used since: rows as saveConnection() writes them, in bulk (saving 10,000
    // one by one would be most of this test's time), with real tokens from the emulator.
    const sealer = new TokenSealer(new TokenCipher(app.options.encryptionKey));
    const rows = app.dataSource.getRepository(PipedriveConnectionEntity);
    const now = clock.now();
    for (let first = 1; first <= CONNECTIONS; first += 500) {
      const batch = Array.from({ length: 500 }, (_, i) => {
        const user = { companyId: first + i, userId: 1 };
        const tokens = emu.grant({ clientId: CLIENT.clientId, ...user });
        return rows.create({
          ...user,
          id: randomUUID(),
          apiDomain: tokens.apiDomain,
          scopes: tokens.scopes,
          accessToken: sealer.seal(user, 'access', tokens.accessToken),
          refreshToken: sealer.seal(user, 'refresh', tokens.refreshToken),
          tokenIssuedAt: now,
          expiresAt: now + tokens.expiresIn * 1000,
          status: 'active',
          createdAt: now,
          updatedAt: now,
        });
      });
      await rows.insert(batch);
    }
    // And one more that a caller keeps using.
    const user = { companyId: CONNECTIONS + 1, userId: 1 };
    inUse = (await app.tokens.saveConnection(user, emu.grant({ clientId: CLIENT.clientId, ...user }))).id;
    app.events.on((event) => {
      if (event.type === PIPEDRIVE_EVENTS.refreshed) refreshes.set(event.connectionId, (refreshes.get(event.connectionId) ?? 0) + 1);
      if (event.type === PIPEDRIVE_EVENTS.reauthorizationRequired) reauthorizations++;
    });
    emu.resetCounts();
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses none of ${CONNECTIONS.toLocaleString('en')} idle connections in ${DAYS} days, at one refresh each per keepAliveDays`, async () => {
    const keepAliveDays = PIPEDRIVE_OPTION_DEFAULTS.refreshSweep.keepAliveDays;
    // Between two passes the sweeper's loop is the clock's one sleeper.
    const betweenPasses = () => waitFor(() => clock.pendingSleeps === 1, 'the sweeper to finish its pass', 300_000);
    const passes = (DAYS * DAY_MS) / PASS_MS;
    for (let pass = 1; pass <= passes; pass++) {
      await betweenPasses();
      await app.tokens.getAccessToken(inUse);
      await clock.advance(PASS_MS);
    }
    await betweenPasses();

    expect(reauthorizations).toBe(0);
    expect(emu.counts.tokenErrors).toBe(0);
    const [{ n: active }] = await app.dataSource.query(`SELECT COUNT(*) AS n FROM pipedrive_connections WHERE status = 'active'`);
    expect(Number(active)).toBe(CONNECTIONS + 1);
    // Days 30, 60 and 90.
    const idle = [...refreshes].filter(([id]) => id !== inUse).map(([, count]) => count);
    expect(idle).toHaveLength(CONNECTIONS);
    expect(new Set(idle)).toEqual(new Set([DAYS / keepAliveDays]));
    // In use: its expired token refreshed by every pass, ready for the next use, as without the keep-alive (no more).
    expect(refreshes.get(inUse)).toBe(passes);
    expect(emu.counts.refreshToken).toBe(CONNECTIONS * (DAYS / keepAliveDays) + refreshes.get(inUse)!);

    // Each refresh token is alive at Pipedrive: 59 more days unused and a call still works.
    await clock.advance(59 * DAY_MS);
    const sample = (await app.dataSource.query('SELECT id FROM pipedrive_connections ORDER BY company_id LIMIT 20')) as Array<{
      id: string;
    }>;
    for (const { id } of sample) await expect(app.tokens.getAccessToken(id)).resolves.toMatchObject({ connectionId: id });
  }, 600_000);
});
