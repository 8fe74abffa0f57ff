import assert from 'node:assert/strict';
import { PipedriveAuthModule, PipedriveClient, PipedriveError } from 'nestjs-pipedrive';
import { PipedriveEmulator } from 'nestjs-pipedrive/testing';

/** Both entry points load from CommonJS and work: the module registers, the emulator answers. */
async function main(): Promise<void> {
  assert.equal(typeof require, 'function', 'this file must run as CommonJS');
  assert.equal(typeof PipedriveAuthModule.forRoot, 'function');
  assert.equal(typeof PipedriveClient, 'function');
  assert.ok(new PipedriveError('x') instanceof Error);
  const emulator = await PipedriveEmulator.start();
  try {
    const answer = await fetch(`${emulator.url}/api/v1/users/me`);
    assert.equal(answer.status, 401, 'the emulator refuses a call without a token');
  } finally {
    await emulator.close();
  }
  console.log(`CommonJS consumer on Node ${process.versions.node}: both entry points load through require(esm)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
