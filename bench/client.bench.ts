/**
 * (1) GET throughput and latency against one local keep-alive server (a child process answering a
 * Pipedrive-shaped deal), same concurrency and pool size for all: raw undici Pool.request, PipedriveClient
 * with a stored token, and the official `pipedrive` SDK. Rounds are interleaved and the median kept.
 * (2) Cost of TokenService.getAccessToken on random connections with 10,000 stored, and the SQL it runs.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { v2 } from 'pipedrive';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, Logger } from 'typeorm';
import { Pool } from 'undici';
import { fixedTokenSet, startClientContext } from '../test/support/client-context.js';
import { startChildServer } from './support/child-server.js';
import { load, type LoadResult } from './support/load.js';

const CONCURRENCY = 32;
const REQUESTS = 10_000;
const SDK_REQUESTS = 2_500;
const ROUNDS = 5;
const CONNECTIONS = 10_000;
const TOKEN_LOOKUPS = 1_000_000;
const TOKEN = 'bench-access-token';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function summarize(results: LoadResult[]) {
  return {
    'req/s': Math.round(median(results.map((r) => r.perSecond))),
    'p50 ms': median(results.map((r) => r.p50Ms)).toFixed(2),
    'p99 ms': median(results.map((r) => r.p99Ms)).toFixed(2),
    'CPU µs/req': median(results.map((r) => r.cpuUsPerRequest)).toFixed(1),
  };
}

async function throughput(): Promise<void> {
  const server = await startChildServer('pipedrive-shaped-server.ts');
  const context = await startClientContext('http://127.0.0.1:9', { client: { connectionsPerOrigin: CONCURRENCY } });
  const pool = new Pool(server.url, { connections: CONCURRENCY });
  try {
    const grant = fixedTokenSet(server.url, TOKEN);
    const { id } = await context.connect({ companyId: 1, userId: 1 }, grant);
    const sdk = new v2.DealsApi(new v2.Configuration({ basePath: `${server.url}/api/v2`, accessToken: TOKEN }));
    const contenders: Record<string, { requests: number; call: () => Promise<unknown> }> = {
      'undici Pool.request': {
        requests: REQUESTS,
        call: async () => {
          const response = await pool.request({ method: 'GET', path: '/api/v2/deals/1', headers: { authorization: `Bearer ${TOKEN}` } });
          return ((await response.body.json()) as { data: unknown }).data;
        },
      },
      PipedriveClient: { requests: REQUESTS, call: () => context.client.forConnection(id).deals.get(1) },
      'pipedrive SDK v2': { requests: SDK_REQUESTS, call: () => sdk.getDeal({ id: 1 }) },
    };
    const results: Record<string, LoadResult[]> = {};
    for (const [name, { requests, call }] of Object.entries(contenders)) {
      await load(Math.min(requests, 3_000), CONCURRENCY, call); // warm-up: JIT, sockets
      results[name] = [];
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, { requests, call }] of Object.entries(contenders)) results[name]!.push(await load(requests, CONCURRENCY, call));
    }
    const rows = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, summarize(r)]));
    console.log(`GET /api/v2/deals/1, ${CONCURRENCY} in flight, ${CONCURRENCY} keep-alive connections, median of ${ROUNDS} rounds:`);
    console.table(rows);
    const rate = (name: string) => rows[name]!['req/s'];
    const cpu = (name: string) => Number(rows[name]!['CPU µs/req']);
    console.table({
      'PipedriveClient / undici': {
        throughput: `${(rate('PipedriveClient') / rate('undici Pool.request')).toFixed(2)}x`,
        target: '>= 0.90x',
        'CPU per request': `${(cpu('PipedriveClient') / cpu('undici Pool.request')).toFixed(2)}x`,
      },
      'PipedriveClient / SDK': {
        throughput: `${(rate('PipedriveClient') / rate('pipedrive SDK v2')).toFixed(2)}x`,
        target: '>= 2x',
        'CPU per request': `${(cpu('PipedriveClient') / cpu('pipedrive SDK v2')).toFixed(2)}x`,
      },
    });
  } finally {
    await pool.close();
    await context.close();
    await server.close();
  }
}

async function tokenLookups(): Promise<void> {
  let queries = 0;
  const counter = { logQuery: () => void queries++ } as unknown as Logger;
  for (const method of ['logQueryError', 'logQuerySlow', 'logSchemaBuild', 'logMigration', 'log'] as const)
    (counter as unknown as Record<string, () => void>)[method] = () => undefined;
  const context = await startClientContext('http://127.0.0.1:9', {}, counter);
  try {
    // Bulk-loading 10,000 rows: skip the per-commit fsync; lookups are what is measured.
    await context.app.get<DataSource>(getDataSourceToken()).query('PRAGMA synchronous = OFF');
    const ids: string[] = [];
    const started = performance.now();
    for (let i = 1; i <= CONNECTIONS; i++) {
      const grant = fixedTokenSet('http://127.0.0.1:9', `token-${i}`, `refresh-${i}`);
      ids.push((await context.connect({ companyId: i, userId: i }, grant)).id);
    }
    const storeMs = performance.now() - started;
    const picks = Uint32Array.from({ length: TOKEN_LOOKUPS }, () => Math.floor(Math.random() * CONNECTIONS));
    for (let i = 0; i < 100_000; i++) await context.tokens.getAccessToken(ids[picks[i]!]!); // warm-up
    queries = 0;
    const t0 = performance.now();
    for (let i = 0; i < TOKEN_LOOKUPS; i++) await context.tokens.getAccessToken(ids[picks[i]!]!);
    const nsPerOp = ((performance.now() - t0) * 1e6) / TOKEN_LOOKUPS;
    const lookupQueries = queries;
    const t1 = performance.now();
    for (let i = 0; i < 2_000; i++) await context.tokens.findConnection(ids[picks[i]!]!);
    const dbNs = ((performance.now() - t1) * 1e6) / 2_000;
    console.log(`\nTokenService.getAccessToken on random connections, ${CONNECTIONS} stored (stored in ${(storeMs / 1000).toFixed(1)} s):`);
    console.table({
      'getAccessToken (valid token)': { 'ns/op': Math.round(nsPerOp), 'SQL queries': lookupQueries, calls: TOKEN_LOOKUPS },
      'one DB read (findConnection)': { 'ns/op': Math.round(dbNs), 'SQL queries': queries - lookupQueries, calls: 2_000 },
    });
    console.log(`DB read / cached token: ${(dbNs / nsPerOp).toFixed(0)}x`);
  } finally {
    await context.close();
  }
}

if (!process.argv.includes('--tokens-only')) await throughput();
await tokenLookups();
