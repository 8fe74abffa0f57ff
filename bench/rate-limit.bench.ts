/**
 * A 1,000-call job on one connection against the emulator's strict rolling window (Pipedrive's lowest
 * OAuth tier, 80 requests per 2 s), all calls issued at once: how close PipedriveClient runs to the
 * allowed rate, how many 429s it provokes, and whether any error reaches the caller. Then the same
 * token shared by two app instances, which only know of each other through the rate-limit headers.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { PipedriveEmulator } from '../src/testing/index.js';
import { CLIENT_APP, startClientContext, type ClientContext } from '../test/support/client-context.js';

const LIMIT = 80;
const WINDOW_MS = 2_000;
const USER = { companyId: 1, userId: 1 };

interface Outcome {
  calls: number;
  seconds: number;
  errors: number;
}

/** `calls` GETs spread over the instances (each with its own id for the connection), all issued at once. */
async function job(instances: Array<[ClientContext, string]>, calls: number): Promise<Outcome> {
  let errors = 0;
  const started = performance.now();
  const call = (i: number) => {
    const [context, connectionId] = instances[i % instances.length]!;
    return context.client.forConnection(connectionId).deals.get((i % 20) + 1).catch(() => void errors++);
  };
  await Promise.all(Array.from({ length: calls }, (_, i) => call(i)));
  return { calls, seconds: (performance.now() - started) / 1000, errors };
}

function row(outcome: Outcome, emu: PipedriveEmulator) {
  const allowedPerSecond = (LIMIT / WINDOW_MS) * 1000;
  // A perfect pacer sends `LIMIT` at once, then `LIMIT` more each time the window rolls.
  const idealSeconds = ((Math.ceil(outcome.calls / LIMIT) - 1) * WINDOW_MS) / 1000;
  return {
    calls: outcome.calls,
    seconds: outcome.seconds.toFixed(1),
    'achieved / allowed rate': `${(outcome.calls / outcome.seconds).toFixed(1)} / ${allowedPerSecond} per s = ${((outcome.calls / outcome.seconds / allowedPerSecond) * 100).toFixed(0)}%`,
    'ideal / actual time': `${((idealSeconds / outcome.seconds) * 100).toFixed(0)}%`,
    '429s seen': emu.counts.rateLimited,
    'API requests': emu.counts.api,
    'errors to caller': outcome.errors,
  };
}

async function main(): Promise<void> {
  const emu = await PipedriveEmulator.start({ apps: [CLIENT_APP], rateLimit: { limit: LIMIT, windowMs: WINDOW_MS } });
  emu.seed(USER.companyId, { deals: 20 });
  const first = await startClientContext(emu.url); // default options: 3 waits per call at most
  const second = await startClientContext(emu.url);
  try {
    const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...USER });
    const { id } = await first.connect(USER, grant);
    const { id: secondId } = await second.connect(USER, grant); // same token, stored by the other instance
    const rows: Record<string, ReturnType<typeof row>> = {};
    emu.resetCounts();
    rows['1 instance, 1,000 calls'] = row(await job([[first, id]], 1_000), emu);
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS)); // let the window empty
    emu.resetCounts();
    rows['2 instances, 1 token, 600 calls'] = row(await job([[first, id], [second, secondId]], 600), emu);
    console.log(`Emulator window: ${LIMIT} requests per ${WINDOW_MS / 1000} s per token; all calls issued at once. Target: >= 90% of the allowed rate, 0 errors.`);
    console.table(rows);
  } finally {
    await first.close();
    await second.close();
    await emu.close();
  }
}

await main();
