import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TokenWorkerJob, TokenWorkerResult } from '../workers/token-refresh.worker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = 'test/workers/token-refresh.worker.ts';

/** A token-refresh worker process: an app instance of its own on the shared database. */
export interface TokenWorker {
  child: ChildProcess;
  ready: Promise<void>;
  go(): void;
  /** Whether the worker has seen a statement fail with SQLITE_BUSY. */
  sawBusy(): boolean;
  result: Promise<TokenWorkerResult>;
}

export function spawnTokenWorker(job: TokenWorkerJob): TokenWorker {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, TOKENS_WORKER: JSON.stringify(job) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let busy = false;
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const lines: Array<(line: string) => void> = [];
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      if (line === 'busy') busy = true;
      else lines.shift()?.(line);
    }
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}): ${stderr.slice(-2000)}`))),
  );
  const nextLine = () => Promise.race([new Promise<string>((resolve) => lines.push(resolve)), exited]);
  const ready = nextLine().then((line) => {
    if (line !== 'ready') throw new Error(`worker said ${line}`);
  });
  const result = ready.then(nextLine).then((line) => JSON.parse(line) as TokenWorkerResult);
  ready.catch(() => undefined);
  result.catch(() => undefined);
  return { child, ready, go: () => child.stdin!.write('go\n'), sawBusy: () => busy, result };
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}
