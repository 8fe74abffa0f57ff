import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  /** The database's name, e.g. `npd_0a1b2c3d4e5f`. */
  name: string;
  /** Takes this database away: no new connections, and every open one is terminated (how many is returned). */
  suspend(): Promise<number>;
  /** Accepts connections again. */
  resume(): Promise<void>;
  drop(): Promise<void>;
}

/**
 * A fresh PostgreSQL database for one test file. Fails (never skips) when PostgreSQL is unreachable:
 * the multi-instance guarantees are only proven on it.
 */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = `npd_${randomBytes(6).toString('hex')}`;
  await withAdmin(ADMIN_URL, async (admin) => {
    await admin.query(`CREATE DATABASE ${name}`);
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    suspend: () =>
      withAdmin(ADMIN_URL, async (admin) => {
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        // In the select list, not the WHERE clause: the planner may call a WHERE function on every row.
        const { rows } = await admin.query<{ terminated: boolean }>(
          'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1',
          [name],
        );
        return rows.filter((row) => row.terminated).length;
      }),
    resume: () =>
      withAdmin(ADMIN_URL, async (admin) => {
        await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
      }),
    drop: () =>
      withAdmin(ADMIN_URL, async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is unreachable at ${url} (${(error as Error).message}). Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set TEST_POSTGRES_URL.',
      { cause: error },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
