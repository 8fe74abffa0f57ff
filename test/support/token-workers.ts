import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFileSync } from '@swc/core';
import type { TokenWorkerJob, TokenWorkerResult } from '../workers/token-refresh.worker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = 'test/workers/token-refresh.worker.js';
/** What the worker imports; compiled once per pool rather than by a TypeScript loader in every process. */
const SOURCES = ['src', 'test/support', 'test/workers'];

/**
 * The worker and everything it imports, compiled to JavaScript in a temp dir (with the project's
 * node_modules linked in), as the test runner compiles specs: decorators with metadata, ES modules.
 */
function compileWorker(): string {
  const out = mkdtempSync(join(tmpdir(), 'npd-worker-'));
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }');
  for (const source of SOURCES) {
    for (const file of readdirSync(join(ROOT, source), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts') || /\.(e2e-)?spec\.ts$/.test(file)) continue;
      const { code } = transformFileSync(join(ROOT, source, file), {
        swcrc: false,
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'es6' },
      });
      const target = join(out, source, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
    }
  }
  return out;
}

/** A process that runs app instances on a shared database, one job at a time (see the worker script). */
export interface TokenWorker {
  child: ChildProcess;
  /** Resolves once the process has loaded the library. */
  ready: Promise<void>;
  /** Starts an instance for `job`; resolves once it is up. */
  prepare(job: TokenWorkerJob): Promise<void>;
  /** Fires the prepared job's calls; resolves with what they got. */
  go(): Promise<TokenWorkerResult>;
  /** Whether the current job has seen a statement fail with SQLITE_BUSY. */
  sawBusy(): boolean;
  alive(): boolean;
}

function spawnTokenWorker(compiled: string): TokenWorker {
  const child = spawn(process.execPath, [SCRIPT], {
    cwd: compiled,
    env: process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let busy = false;
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const waiting: Array<(line: string) => void> = [];
  const unread: string[] = [];
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline);
      stdout = stdout.slice(newline + 1);
      if (line === 'busy') busy = true;
      else if (waiting.length > 0) waiting.shift()!(line);
      else unread.push(line);
    }
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}): ${stderr.slice(-2000)}`))),
  );
  exited.catch(() => undefined);
  const nextLine = () =>
    Promise.race([unread.length > 0 ? Promise.resolve(unread.shift()!) : new Promise<string>((r) => waiting.push(r)), exited]);
  const expect = async (said: string) => {
    const line = await nextLine();
    if (line !== said) throw new Error(`worker said ${line}, expected ${said}`);
  };
  const ready = expect('ready');
  ready.catch(() => undefined);
  return {
    child,
    ready,
    async prepare(job) {
      await ready;
      busy = false;
      child.stdin!.write(`${JSON.stringify(job)}\n`);
      await expect('started');
    },
    async go() {
      child.stdin!.write('go\n');
      return JSON.parse(await nextLine()) as TokenWorkerResult;
    },
    sawBusy: () => busy,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

/**
 * Worker processes for one test file, started together once and reused (a start costs seconds of
 * CPU). `take(n)` hands out the first n live ones: start spares for the processes tests will kill.
 */
export class TokenWorkerPool {
  private readonly workers: TokenWorker[];
  private readonly compiled = compileWorker();

  constructor(size: number) {
    this.workers = Array.from({ length: size }, () => spawnTokenWorker(this.compiled));
  }

  async ready(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.ready));
  }

  take(n: number): TokenWorker[] {
    const alive = this.workers.filter((worker) => worker.alive());
    while (alive.length < n) {
      const spawned = spawnTokenWorker(this.compiled);
      this.workers.push(spawned);
      alive.push(spawned);
    }
    return alive.slice(0, n);
  }

  close(): void {
    for (const worker of this.workers) if (worker.alive()) worker.child.kill('SIGKILL');
    rmSync(this.compiled, { recursive: true, force: true });
  }
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}
