/**
 * Four instances (processes) on one PostgreSQL database receive 20,000 deliveries: 18,000 events plus
 * 2,000 duplicates (10%) sent to another instance at about the same moment, and 5% of events hit a
 * handler that fails once. Every successful handling is recorded in `bench_handled`: handled exactly
 * once, 0 lost? Then the same with one instance killed with SIGKILL midway (its deliveries go to the
 * next instance, as a load balancer would send Pipedrive's retry): 0 lost, and how many were handled twice.
 */
import 'reflect-metadata';
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DataSource } from 'typeorm';
import { Agent, request } from 'undici';
import { PIPEDRIVE_ENTITIES } from '../src/index.js';
import { createPostgresDatabase } from '../test/support/postgres.js';
import { basicHeader, benchDelivery, seedWebhook } from './support/webhook-bench-app.js';

const INSTANCES = 4;
const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 18_000);
const DUPLICATES = Math.round(EVENTS / 9); // 10% of all deliveries
const FAIL_ONCE_MOD = 20; // 5% of events
const CONCURRENCY = 64;
const LEASE_MS = Number(process.env.BENCH_WEBHOOK_LEASE_MS ?? 30_000);
const here = dirname(fileURLToPath(import.meta.url));

interface Instance {
  child: ChildProcess;
  url: string;
  alive: boolean;
}

async function startInstance(dbUrl: string): Promise<Instance> {
  const child = fork(join(here, 'support', 'webhook-instance.ts'), [], {
    execArgv: ['--import', '@swc-node/register/esm-register'],
    env: {
      ...process.env,
      BENCH_DB: dbUrl,
      BENCH_RECORD: '1',
      BENCH_FAIL_ONCE_MOD: String(FAIL_ONCE_MOD),
      BENCH_LEASE_MS: String(LEASE_MS),
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
  });
  const instance = { child, url: `http://127.0.0.1:${port}`, alive: true };
  child.once('exit', () => (instance.alive = false));
  return instance;
}

async function run(kill: boolean): Promise<Record<string, string | number>> {
  const pg = await createPostgresDatabase();
  const instances: Instance[] = [];
  let ds: DataSource | undefined;
  try {
    instances.push(await startInstance(pg.url)); // runs the migrations
    ds = await new DataSource({ type: 'postgres', url: pg.url, entities: PIPEDRIVE_ENTITIES }).initialize();
    await ds.query('CREATE TABLE bench_handled (event_id varchar(100) NOT NULL, pid integer NOT NULL)');
    const webhook = await seedWebhook(ds);
    for (let i = 1; i < INSTANCES; i++) instances.push(await startInstance(pg.url));
    // Deliveries: each event once, and every ninth again to the next instance right after it.
    const deliveries: { id: string; entityId: number; target: number }[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const id = randomUUID();
      deliveries.push({ id, entityId: i + 1, target: i % INSTANCES });
      if (i % 9 === 0) deliveries.push({ id, entityId: i + 1, target: (i + 1) % INSTANCES });
    }
    const agent = new Agent({ connections: CONCURRENCY });
    const headers = { authorization: basicHeader(webhook), 'content-type': 'application/json' };
    let next = 0;
    let redirected = 0;
    let killedAt = -1;
    const started = performance.now();
    const send = async (d: (typeof deliveries)[number]): Promise<void> => {
      for (let target = d.target; ; target = (target + 1) % INSTANCES) {
        const instance = instances[target]!;
        if (!instance.alive) continue;
        try {
          const answer = await request(`${instance.url}/webhooks/pipedrive`, {
            method: 'POST',
            headers,
            body: benchDelivery(webhook, d.id, d.entityId),
            dispatcher: agent,
          });
          await answer.body.dump();
          if (answer.statusCode === 200) return;
        } catch {
          // The instance died under this request: Pipedrive retries; the balancer picks another instance.
        }
        redirected++;
      }
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < deliveries.length; i = next++) {
          if (kill && killedAt < 0 && i >= deliveries.length / 2) {
            killedAt = i;
            instances[1]!.child.kill('SIGKILL');
            instances[1]!.alive = false;
          }
          await send(deliveries[i]!);
        }
      }),
    );
    const acked = performance.now() - started;
    for (;;) {
      const [{ pending }] = await ds.query("SELECT COUNT(*) AS pending FROM pipedrive_webhook_events WHERE status <> 'done'");
      const [{ distinct }] = await ds.query('SELECT COUNT(DISTINCT event_id) AS distinct FROM bench_handled');
      if (Number(pending) === 0 && Number(distinct) >= EVENTS) break;
      if (performance.now() - started > 15 * 60_000) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const done = performance.now() - started;
    const [{ total, distinct }] = await ds.query('SELECT COUNT(*) AS total, COUNT(DISTINCT event_id) AS distinct FROM bench_handled');
    const [{ stored }] = await ds.query('SELECT COUNT(*) AS stored FROM pipedrive_webhook_events');
    await agent.close();
    return {
      run: kill ? 'one instance SIGKILLed midway' : 'all instances up',
      deliveries: deliveries.length,
      'unique events': EVENTS,
      'rows in inbox': Number(stored),
      'handled (distinct)': Number(distinct),
      lost: EVENTS - Number(distinct),
      'handled twice': Number(total) - Number(distinct),
      're-sent after a dead instance': redirected,
      'all acked (s)': (acked / 1000).toFixed(1),
      'all handled (s)': (done / 1000).toFixed(1),
    };
  } finally {
    await ds?.destroy();
    for (const instance of instances) if (instance.alive) instance.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await pg.drop();
  }
}

const rows = [await run(false), await run(true)];
console.log(
  `${INSTANCES} instances on one PostgreSQL database, ${EVENTS + DUPLICATES} deliveries (${DUPLICATES} duplicates), 5% of events fail once, lease ${LEASE_MS} ms:`,
);
console.table(rows);
