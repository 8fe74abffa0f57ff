/**
 * A refresh storm: many concurrent callers find one connection's access token expired.
 * Counts the calls that reach Pipedrive's token endpoint (the emulator's counter) through this library
 * (one process, then several instances sharing one database) and through the official SDK's OAuth2Configuration.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OAuth2Configuration } from 'pipedrive/v2';
import { PipedriveEmulator } from '../src/testing/index.js';
import { startTokenInstance, type TokenInstance } from './support/token-instance.js';

const CALLERS = 1_000;
const INSTANCES = 4;
const CLIENT = { clientId: 'bench-client', clientSecret: 'bench-secret', redirectUri: 'http://127.0.0.1/callback' };
const USER = { companyId: 1, userId: 1 };

async function libraryStorm(emulator: PipedriveEmulator, instances: TokenInstance[]): Promise<number> {
  const grant = emulator.grant({ clientId: CLIENT.clientId, ...USER });
  const { id } = await instances[0]!.saveExpired(USER, grant);
  emulator.resetCounts();
  await Promise.all(
    Array.from({ length: CALLERS }, (_, i) => instances[i % instances.length]!.tokens.getAccessToken(id)),
  );
  return emulator.counts.refreshToken;
}

async function sdkStorm(emulator: PipedriveEmulator, instances: number): Promise<number> {
  const grant = emulator.grant({ clientId: CLIENT.clientId, ...USER });
  const configs = Array.from({ length: instances }, () => {
    const config = new OAuth2Configuration({ ...CLIENT, host: emulator.url });
    // The SDK's own way to load a stored token; a lifetime of 1 ms makes it expired a moment later.
    config.updateToken({ ...grant, expires_in: 0.001 });
    return config;
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
  emulator.resetCounts();
  await Promise.all(Array.from({ length: CALLERS }, (_, i) => configs[i % instances]!.getAccessToken()));
  return emulator.counts.refreshToken;
}

async function main(): Promise<void> {
  const emulator = await PipedriveEmulator.start({ clients: [CLIENT] });
  emulator.faults.tokenLatencyMs = 50; // a realistic round trip widens the race, as in production
  const dir = mkdtempSync(join(tmpdir(), 'npd-bench-'));
  const databaseUrl = `sqlite:${join(dir, 'storm.sqlite')}`;
  const instances: TokenInstance[] = [];
  try {
    for (let i = 0; i < INSTANCES; i++) instances.push(await startTokenInstance({ emulator, client: CLIENT, databaseUrl }));
    const rows = [
      { storm: `${CALLERS} callers, 1 process`, library: await libraryStorm(emulator, instances.slice(0, 1)), sdk: await sdkStorm(emulator, 1) },
      { storm: `${CALLERS} callers, ${INSTANCES} instances, 1 database`, library: await libraryStorm(emulator, instances), sdk: await sdkStorm(emulator, INSTANCES) },
    ];
    console.log('Token-endpoint calls for one expired connection (fewer is better; 1 is ideal):');
    console.table(rows.map((row) => ({ ...row, 'sdk / library': `${(row.sdk / Math.max(row.library, 1)).toFixed(0)}x` })));
  } finally {
    for (const instance of instances) await instance.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
