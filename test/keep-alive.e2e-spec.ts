import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPEDRIVE_OPTION_DEFAULTS, resolvePipedriveOptions } from '../src/pipedrive-auth.options.js';
import { ManualClock, PipedriveEmulator } from '../src/testing/index.js';
import { PIPEDRIVE_EVENTS } from '../src/tokens/pipedrive-events.js';
import { startTestApp, type TestApp, type TestDatabase } from './support/test-app.js';

const CONNECTIONS = 10_000;
const DAYS = 90;
const STEP_MS = 6 * 3_600_000;
const DAY_MS = 86_400_000;
const CLIENT = { clientId: 'keepalive-client', clientSecret: 'keepalive-secret-0123456789', redirectUri: 'http://127.0.0.1/callback' };

/**
 * Idle connections over 90 simulated days on one ManualClock shared by the app and the emulator (whose
 * refresh tokens die after 60 unused days, as Pipedrive's do), on a real SQLite file: with the sweep on,
 * none is lost and each costs one refresh per keepAliveDays, not one per access-token lifetime.
 */
describe('refresh sweep keeps idle connections alive', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const dir = mkdtempSync(join(tmpdir(), 'npd-keepalive-'));
  const database: TestDatabase = { type: 'sqlite', path: join(dir, 'keepalive.sqlite') };
  let emu: PipedriveEmulator;
  let seeder: TestApp;
  let app: TestApp;
  const refreshes = new Map<string, number>();
  let reauthorizations = 0;

  const options = () => ({
    ...CLIENT,
    oauthBaseUrl: emu.url,
    encryptionKey: Buffer.alloc(32, 7).toString('base64'),
    sessionSecret: 'k'.repeat(48),
    refreshSweep: { intervalSeconds: 86_400, batchSize: 10_000 },
  });

  beforeAll(async () => {
    emu = await PipedriveEmulator.start({ apps: [CLIENT], clock });
    // The connections were made by another instance (or before a restart): this one never used them.
    seeder = await startTestApp({ options: options(), database, clock });
    for (let first = 0; first < CONNECTIONS; first += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, i) => {
          const user = { companyId: 1 + first + i, userId: 1 };
          return seeder.tokens.saveConnection(user, emu.grant({ clientId: CLIENT.clientId, ...user }));
        }),
      );
    }
    await seeder.close();
    app = await startTestApp({ options: options(), database, clock });
    app.events.on((event) => {
      if (event.type === PIPEDRIVE_EVENTS.refreshed) refreshes.set(event.connectionId, (refreshes.get(event.connectionId) ?? 0) + 1);
      if (event.type === PIPEDRIVE_EVENTS.reauthorizationRequired) reauthorizations++;
    });
    emu.resetCounts();
  }, 300_000);
  afterAll(async () => {
    await app?.close();
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses none of ${CONNECTIONS} idle connections in ${DAYS} days, at one refresh each per keepAliveDays`, async () => {
    const keepAliveDays = PIPEDRIVE_OPTION_DEFAULTS.refreshSweep.keepAliveDays;
    for (let elapsed = 0; elapsed < DAYS * DAY_MS; elapsed += STEP_MS) {
      await clock.advance(STEP_MS);
      await app.sweeper.sweep();
    }
    expect(reauthorizations).toBe(0);
    expect(emu.counts.tokenErrors).toBe(0);
    const active = await app.dataSource.query(`SELECT COUNT(*) AS n FROM pipedrive_connections WHERE status = 'active'`);
    expect(Number(active[0].n)).toBe(CONNECTIONS);
    // Days 30, 60 and 90: about DAYS / keepAliveDays token-endpoint calls per connection.
    const perConnection = [...refreshes.values()];
    expect(perConnection).toHaveLength(CONNECTIONS);
    expect(new Set(perConnection)).toEqual(new Set([Math.floor(DAYS / keepAliveDays)]));
    expect(emu.counts.refreshToken).toBe(CONNECTIONS * Math.floor(DAYS / keepAliveDays));
    // Each refresh token is alive at Pipedrive: a use on day 90 + 59 still works.
    await clock.advance(59 * DAY_MS);
    const sample = (await app.dataSource.query('SELECT id FROM pipedrive_connections LIMIT 20')) as Array<{ id: string }>;
    for (const { id } of sample) await expect(app.tokens.getAccessToken(id)).resolves.toMatchObject({ connectionId: id });
  }, 600_000);

  it('refuses keepAliveDays of 60 or more, naming the option', () => {
    const base = { ...CLIENT, encryptionKey: randomBytes(32).toString('base64'), sessionSecret: 'k'.repeat(48) };
    expect(() => resolvePipedriveOptions({ ...base, refreshSweep: { intervalSeconds: 60, keepAliveDays: 60 } })).toThrow(/refreshSweep\.keepAliveDays/);
    expect(resolvePipedriveOptions({ ...base, refreshSweep: { intervalSeconds: 60 } }).refreshSweep?.keepAliveDays).toBe(30);
  });
});
