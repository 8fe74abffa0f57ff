/**
 * An unauthenticated flood of `GET /auth/pipedrive` against the reference app on one SQLite file:
 * what 10,000 starts leave in the database, and how the callback's latency holds during the flood
 * compared with the same callbacks on a quiet app (the baseline, measured first in this run).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { startReferenceApp, type ReferenceApp } from '../test/support/reference-app.js';

const FLOOD = 10_000;
const FLOOD_CONCURRENCY = 64;
const CALLBACKS = 40;
const STATE_COOKIE = 'pipedrive_session_state';
const agent = new Agent({ connections: FLOOD_CONCURRENCY + 8 });
let nextCompany = 1;

/** One whole connect flow; returns the callback's own latency in ms. */
async function timedCallback(app: ReferenceApp): Promise<number> {
  app.emulator.setAuthorizeUser({ companyId: nextCompany++, userId: 1 });
  const start = await request(`${app.url}/auth/pipedrive`, {
    dispatcher: agent,
  });
  await start.body.dump();
  const line = ([] as string[]).concat(start.headers['set-cookie'] ?? []).find((l) => l.startsWith(`${STATE_COOKIE}=`))!;
  const approve = await request(String(start.headers.location), {
    dispatcher: agent,
  });
  await approve.body.dump();
  const began = performance.now();
  const answer = await request(String(approve.headers.location), {
    headers: { cookie: line.split(';')[0]! },
    dispatcher: agent,
  });
  await answer.body.dump();
  const took = performance.now() - began;
  if (answer.statusCode !== 200) throw new Error(`callback answered ${answer.statusCode}`);
  return took;
}

async function callbacks(app: ReferenceApp): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CALLBACKS; i++) times.push(await timedCallback(app));
  return times.sort((a, b) => a - b);
}

async function flood(app: ReferenceApp): Promise<number> {
  let sent = 0;
  let non302 = 0;
  const worker = async () => {
    while (sent < FLOOD) {
      sent++;
      const answer = await request(`${app.url}/auth/pipedrive`, {
        dispatcher: agent,
      });
      await answer.body.dump();
      if (answer.statusCode !== 302) non302++;
    }
  };
  await Promise.all(Array.from({ length: FLOOD_CONCURRENCY }, worker));
  return non302;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'npd-flood-'));
  const file = join(dir, 'app.sqlite');
  const app = await startReferenceApp({ databaseUrl: `sqlite:${file}` });
  const rows = async () => Number((await app.dataSource.query('SELECT COUNT(*) AS n FROM pipedrive_oauth_states'))[0].n);
  const size = () => statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  try {
    const quiet = await callbacks(app);
    const [rowsBefore, sizeBefore] = [await rows(), size()];
    const started = performance.now();
    const flooding = flood(app);
    const during = await callbacks(app);
    const refused = await flooding;
    const floodSeconds = (performance.now() - started) / 1000;
    console.log(
      `${FLOOD} unauthenticated GET /auth/pipedrive (${FLOOD_CONCURRENCY} at a time, ${(FLOOD / floodSeconds).toFixed(0)}/s, ${refused} not 302) on one SQLite file:`,
    );
    console.table([
      { what: 'oauth state rows', before: rowsBefore, after: await rows() },
      { what: 'SQLite file + WAL bytes', before: sizeBefore, after: size() },
    ]);
    console.log(`Callback latency, ${CALLBACKS} full connects each (ms):`);
    console.table([
      {
        when: 'quiet app (baseline)',
        p50: pct(quiet, 50),
        p95: pct(quiet, 95),
        max: pct(quiet, 100),
      },
      {
        when: 'during the flood',
        p50: pct(during, 50),
        p95: pct(during, 95),
        max: pct(during, 100),
      },
    ]);
  } finally {
    await app.close();
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
