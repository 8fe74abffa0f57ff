/**
 * One app instance in its own process, for the multi-process refresh tests. Reads its job from
 * TOKENS_WORKER (JSON), prints `ready`, waits for `go` on stdin so all workers fire together, then
 * makes `calls` concurrent getAccessToken calls and prints one JSON line with sha256 digests of the
 * tokens it got (never the tokens). Prints `busy` once when a statement first fails with SQLITE_BUSY.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { PipedriveAuthModuleOptions } from '../../src/pipedrive-auth.options.js';
import { startTestApp, type TestDatabase } from '../support/test-app.js';
import { tokenTestOptions } from '../support/token-fixture.js';

export interface TokenWorkerJob {
  database: TestDatabase;
  options: Partial<PipedriveAuthModuleOptions>;
  connectionId: string;
  calls: number;
}

export interface TokenWorkerResult {
  pid: number;
  digests: string[];
  errors: string[];
  /** Statements that failed with SQLITE_BUSY and were retried. */
  busyFailures: number;
}

const job = JSON.parse(process.env.TOKENS_WORKER ?? '{}') as TokenWorkerJob;
let saidBusy = false;
const instance = await startTestApp({
  options: tokenTestOptions(job.options),
  database: job.database,
  onBusy: () => {
    if (saidBusy) return;
    saidBusy = true;
    process.stdout.write('busy\n');
  },
});
process.stdout.write('ready\n');
await once(process.stdin, 'data');
const settled = await Promise.allSettled(
  Array.from({ length: job.calls }, () => instance.tokens.getAccessToken(job.connectionId)),
);
const digests = new Set<string>();
const errors: string[] = [];
for (const result of settled) {
  if (result.status === 'fulfilled') digests.add(digest(result.value.accessToken));
  else errors.push(`${result.reason?.name}: ${result.reason?.message}`);
}
const answer: TokenWorkerResult = { pid: process.pid, digests: [...digests], errors, busyFailures: instance.busyFailures() };
process.stdout.write(`${JSON.stringify(answer)}\n`);
await instance.close();
process.exit(0);

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}
