/**
 * One app instance in its own process, for the multi-process refresh tests. Reads its job from
 * TOKENS_WORKER (JSON), prints `ready`, waits for `go` on stdin so all workers fire together, then
 * makes `calls` concurrent getAccessToken calls and prints one JSON line with sha256 digests of the
 * tokens it got (never the tokens).
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { ResolvedPipedriveOptions } from '../../src/pipedrive-auth.options.js';
import { startTokenModule, tokenTestOptions, type TokenTestDatabase } from '../support/token-module.js';

export interface TokenWorkerJob {
  database: TokenTestDatabase;
  options: Partial<ResolvedPipedriveOptions>;
  connectionId: string;
  calls: number;
}

export interface TokenWorkerResult {
  pid: number;
  digests: string[];
  errors: string[];
}

const job = JSON.parse(process.env.TOKENS_WORKER ?? '{}') as TokenWorkerJob;
const instance = await startTokenModule(job.database, tokenTestOptions(job.options));
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
const answer: TokenWorkerResult = { pid: process.pid, digests: [...digests], errors };
process.stdout.write(`${JSON.stringify(answer)}\n`);
await instance.close();
process.exit(0);

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}
