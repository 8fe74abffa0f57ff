/**
 * A refresh storm: many concurrent callers find one connection's access token expired.
 * Counts the calls that reach Pipedrive's token endpoint (the emulator's counter) through this library
 * (one process, then several instances sharing one SQLite file) and through the official SDK's
 * OAuth2Configuration (one configuration per process, as the SDK's docs set it up).
 */
import 'reflect-metadata';
import { OAuth2Configuration } from 'pipedrive/v2';
import { PipedriveEmulator } from '../src/testing/index.js';
import type { TestApp } from '../test/support/test-app.js';
import { createTokenFixture, TOKEN_TEST_CLIENT, TOKEN_TEST_REDIRECT, type TokenFixture } from '../test/support/token-fixture.js';

const CALLERS = 1_000;
const INSTANCES = 4;
const TOKEN_LATENCY_MS = 50;
let nextUser = 1;

async function libraryStorm(fx: TokenFixture, instances: TestApp[]): Promise<number> {
  const { connection } = await fx.saveExpired(instances[0]!, { companyId: 1, userId: nextUser++ });
  fx.emu.resetCounts();
  await Promise.all(Array.from({ length: CALLERS }, (_, i) => instances[i % instances.length]!.tokens.getAccessToken(connection.id)));
  return fx.emu.counts.refreshToken;
}

async function sdkStorm(emu: PipedriveEmulator, instances: number): Promise<number> {
  const grant = emu.grant({ clientId: TOKEN_TEST_CLIENT.clientId, companyId: 1, userId: nextUser++ });
  const configs = Array.from({ length: instances }, () => {
    const config = new OAuth2Configuration({ ...TOKEN_TEST_CLIENT, redirectUri: TOKEN_TEST_REDIRECT, host: emu.url });
    // The SDK's own way to load a stored token; a lifetime of 1 ms makes it expired a moment later.
    config.updateToken({
      access_token: grant.accessToken,
      refresh_token: grant.refreshToken,
      token_type: grant.tokenType,
      scope: grant.scopes.join(','),
      api_domain: grant.apiDomain,
      expires_in: 0.001,
    });
    return config;
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
  emu.resetCounts();
  await Promise.all(Array.from({ length: CALLERS }, (_, i) => configs[i % instances]!.getAccessToken()));
  return emu.counts.refreshToken;
}

async function main(): Promise<void> {
  const fx = await createTokenFixture('sqlite');
  fx.emu.setLatency({ tokenMs: TOKEN_LATENCY_MS }); // a realistic round trip widens the race, as in production
  try {
    const instances = [];
    for (let i = 0; i < INSTANCES; i++) instances.push(await fx.start());
    const rows = [
      { storm: `${CALLERS} callers, 1 process`, library: await libraryStorm(fx, instances.slice(0, 1)), sdk: await sdkStorm(fx.emu, 1) },
      {
        storm: `${CALLERS} callers, ${INSTANCES} instances, one SQLite file`,
        library: await libraryStorm(fx, instances),
        sdk: await sdkStorm(fx.emu, INSTANCES),
      },
    ];
    console.log(`Token-endpoint calls for one expired connection (token endpoint latency ${TOKEN_LATENCY_MS} ms; 1 is ideal):`);
    console.table(rows.map((row) => ({ ...row, 'sdk / library': `${(row.sdk / Math.max(row.library, 1)).toFixed(0)}x` })));
  } finally {
    await fx.close();
  }
}

await main();
