/**
 * (1) Jobs against the emulator's strict rolling window (Pipedrive's lowest OAuth tier, 80 requests per
 * 2 s per token), all calls issued at once: 1, 2 and 4 app instances sharing one token, pacing from the
 * rate-limit headers alone and then sharing the window in Redis; and 4 instances on 4 different tokens
 * (no interference). Per row: achieved / allowed rate, 429s and errors reaching callers.
 * (2) What one client call costs with the Redis window on versus off, and with Prometheus metrics
 * (prom-client) on, against raw undici, in one run: a local Pipedrive-shaped server, 32 in flight;
 * client-process CPU per call and p99 latency.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { Pool } from 'undici';
import { PipedriveEmulator } from '../src/testing/index.js';
import { CLIENT_APP, fixedTokenSet, startClientContext, type ClientContext } from '../test/support/client-context.js';
import { startChildServer } from './support/child-server.js';
import { load, type LoadResult } from './support/load.js';

const LIMIT = 80;
const WINDOW_MS = 2_000;
const CALLS_PER_INSTANCE = 300;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Outcome {
  calls: number;
  seconds: number;
  errors: number;
}

/** Calls spread round-robin over the (instance, connection) pairs, all issued at once. */
async function job(pairs: Array<[ClientContext, string]>, calls: number): Promise<Outcome> {
  let errors = 0;
  const started = performance.now();
  const call = (i: number) => {
    const [context, connectionId] = pairs[i % pairs.length]!;
    return context.client
      .forConnection(connectionId)
      .deals.get((i % 20) + 1)
      .catch(() => void errors++);
  };
  await Promise.all(Array.from({ length: calls }, (_, i) => call(i)));
  return { calls, seconds: (performance.now() - started) / 1000, errors };
}

function row(outcome: Outcome, emu: PipedriveEmulator, tokens: number) {
  const allowedPerSecond = (LIMIT / WINDOW_MS) * 1000 * tokens;
  const achieved = outcome.calls / outcome.seconds;
  return {
    calls: outcome.calls,
    seconds: outcome.seconds.toFixed(1),
    'achieved / allowed rate': `${achieved.toFixed(1)} / ${allowedPerSecond} per s = ${((achieved / allowedPerSecond) * 100).toFixed(0)}%`,
    '429s': `${emu.counts.rateLimited} (${((emu.counts.rateLimited / outcome.calls) * 100).toFixed(1)}%)`,
    'errors to caller': outcome.errors,
  };
}

async function connectRedis(): Promise<Redis> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect().catch((error: unknown) => {
    throw new Error(`Redis is unreachable at ${REDIS_URL} (${(error as Error).message}); the Redis rows need it.`);
  });
  return redis;
}

async function sharedWindow(redisClients: Redis[]): Promise<void> {
  const emu = await PipedriveEmulator.start({
    apps: [CLIENT_APP],
    rateLimit: { limit: LIMIT, windowMs: WINDOW_MS },
    maxRecordedRequests: 0,
  });
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const plain: ClientContext[] = [];
  const withRedis: ClientContext[] = [];
  for (let i = 0; i < 4; i++) plain.push(await startClientContext(emu.url));
  for (let i = 0; i < 4; i++)
    withRedis.push(await startClientContext(emu.url, { client: { redis: redisClients[i]!, redisKeyPrefix: prefix } }));
  let company = 0;
  /** A fresh company (so a fresh token and fresh limiters) stored on each of the instances. */
  const shareOneToken = async (instances: ClientContext[]): Promise<Array<[ClientContext, string]>> => {
    const user = { companyId: ++company, userId: 1 };
    emu.seed(user.companyId, { deals: 20 });
    const grant = emu.grant({ clientId: CLIENT_APP.clientId, ...user });
    return Promise.all(instances.map(async (context) => [context, (await context.connect(user, grant)).id] as [ClientContext, string]));
  };
  try {
    const rows: Record<string, ReturnType<typeof row>> = {};
    const run = async (name: string, pairs: Array<[ClientContext, string]>, tokens: number) => {
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS)); // the previous row's window empties
      emu.resetCounts();
      rows[name] = row(await job(pairs, CALLS_PER_INSTANCE * pairs.length), emu, tokens);
    };
    for (const n of [1, 2, 4])
      await run(`${n} instance${n > 1 ? 's' : ''}, 1 token, headers only`, await shareOneToken(plain.slice(0, n)), 1);
    for (const n of [1, 2, 4])
      await run(`${n} instance${n > 1 ? 's' : ''}, 1 token, Redis window`, await shareOneToken(withRedis.slice(0, n)), 1);
    const ownTokens: Array<[ClientContext, string]> = [];
    for (const context of plain) ownTokens.push(...(await shareOneToken([context])));
    await run('4 instances, 4 tokens, headers only', ownTokens, 4);
    console.log(
      `Emulator window: ${LIMIT} requests per ${WINDOW_MS / 1000} s per token; ${CALLS_PER_INSTANCE} calls per instance, all issued at once.\n` +
        'Targets: headers only, 2 instances >= 90% with <= 2% 429s; Redis, 4 instances >= 95% with <= 0.5% 429s; 0 errors everywhere.',
    );
    console.table(rows);
  } finally {
    for (const context of [...plain, ...withRedis]) await context.close();
    await emu.close();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function callCost(redis: Redis): Promise<void> {
  const CONCURRENCY = 32;
  const REQUESTS = 5_000;
  const ROUNDS = 3;
  const TOKEN = 'bench-access-token';
  const server = await startChildServer('pipedrive-shaped-server.ts');
  const plain = await startClientContext('http://127.0.0.1:9', { client: { connectionsPerOrigin: CONCURRENCY } });
  const shared = await startClientContext('http://127.0.0.1:9', {
    client: { connectionsPerOrigin: CONCURRENCY, redis, redisKeyPrefix: `bench:${randomBytes(4).toString('hex')}:` },
  });
  const measured = await startClientContext('http://127.0.0.1:9', {
    client: { connectionsPerOrigin: CONCURRENCY },
    metrics: { registry: new Registry() },
  });
  const pool = new Pool(server.url, { connections: CONCURRENCY });
  try {
    const grant = fixedTokenSet(server.url, TOKEN);
    const user = { companyId: 1, userId: 1 };
    const plainId = (await plain.connect(user, grant)).id;
    const sharedId = (await shared.connect(user, grant)).id;
    const measuredId = (await measured.connect(user, grant)).id;
    const contenders: Record<string, () => Promise<unknown>> = {
      'undici Pool.request': async () => {
        const response = await pool.request({ method: 'GET', path: '/api/v2/deals/1', headers: { authorization: `Bearer ${TOKEN}` } });
        return ((await response.body.json()) as { data: unknown }).data;
      },
      'PipedriveClient, headers only': () => plain.client.forConnection(plainId).deals.get(1),
      'PipedriveClient, Redis window': () => shared.client.forConnection(sharedId).deals.get(1),
      'PipedriveClient, headers only, metrics on': () => measured.client.forConnection(measuredId).deals.get(1),
    };
    const results: Record<string, LoadResult[]> = {};
    for (const [name, call] of Object.entries(contenders)) {
      await load(2_000, CONCURRENCY, call); // warm-up: JIT, sockets, the Redis script
      results[name] = [];
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call] of Object.entries(contenders)) results[name]!.push(await load(REQUESTS, CONCURRENCY, call));
    }
    const rows = Object.fromEntries(
      Object.entries(results).map(([name, r]) => [
        name,
        {
          'req/s': Math.round(median(r.map((x) => x.perSecond))),
          'p99 ms': median(r.map((x) => x.p99Ms)).toFixed(2),
          'CPU µs/call': median(r.map((x) => x.cpuUsPerRequest)).toFixed(1),
        },
      ]),
    );
    console.log(
      `\nOne call's cost, GET /api/v2/deals/1, ${CONCURRENCY} in flight, median of ${ROUNDS} rounds (client-process CPU; Redis's own CPU not included):`,
    );
    console.table(rows);
  } finally {
    await pool.close();
    await plain.close();
    await shared.close();
    await measured.close();
    await server.close();
  }
}

const redisClients = await Promise.all(Array.from({ length: 4 }, connectRedis));
try {
  await sharedWindow(redisClients);
  await callCost(redisClients[0]!);
} finally {
  for (const redis of redisClients) redis.disconnect();
}
