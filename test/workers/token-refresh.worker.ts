/**
 * App instances in a process of their own, for the multi-process refresh tests. Reusable: starting a
 * process costs seconds, so one serves job after job. Protocol, one line each way:
 * the worker says `ready`; per job, the test sends the job (JSON), the worker starts an instance on
 * its database and says `started`; on `go` it makes `calls` concurrent getAccessToken calls, says
 * one JSON line with sha256 digests of the tokens it got (never the tokens), and closes the instance.
 * It says `busy` once per job when a statement first fails with SQLITE_BUSY.
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
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

const say = (line: string) => process.stdout.write(`${line}\n`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const next = async () => {
  const { value, done } = await lines.next();
  if (done) process.exit(0);
  return value as string;
};

say('ready');
for (;;) {
  const job = JSON.parse(await next()) as TokenWorkerJob;
  let saidBusy = false;
  const instance = await startTestApp({
    options: tokenTestOptions(job.options),
    database: job.database,
    onBusy: () => {
      if (!saidBusy) say('busy');
      saidBusy = true;
    },
  });
  say('started');
  await next(); // go
  const settled = await Promise.allSettled(Array.from({ length: job.calls }, () => instance.tokens.getAccessToken(job.connectionId)));
  const digests = new Set<string>();
  const errors: string[] = [];
  for (const result of settled) {
    if (result.status === 'fulfilled') digests.add(digest(result.value.accessToken));
    else errors.push(`${result.reason?.name}: ${result.reason?.message}`);
  }
  const answer: TokenWorkerResult = { pid: process.pid, digests: [...digests], errors, busyFailures: instance.busyFailures() };
  await instance.close();
  say(JSON.stringify(answer));
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}
