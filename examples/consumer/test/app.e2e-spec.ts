import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PipedriveEmulator } from 'nestjs-pipedrive/testing';
import pg from 'pg';
import { AppModule } from '../src/app.module.js';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const COMPANY_ID = 7;
const USER_ID = 70;

/** `name=value` pairs of an answer's Set-Cookie headers, as a browser would send them back. */
function cookiesOf(answer: Response): string {
  return answer.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0])
    .join('; ');
}

async function withAdmin(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

describe('a Nest app using nestjs-pipedrive from its tarball', () => {
  const database = `consumer_${randomBytes(6).toString('hex')}`;
  let emulator: PipedriveEmulator;
  let app: INestApplication;
  let appUrl: string;

  beforeAll(async () => {
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${database}`));
    // The redirect URI names the app's port, so the app listens on a port picked first.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    appUrl = `http://127.0.0.1:${port}`;
    const credentials = { clientId: 'consumer-app', clientSecret: 'consumer-secret', redirectUri: `${appUrl}/auth/pipedrive/callback` };
    emulator = await PipedriveEmulator.start({ clients: [credentials] });
    emulator.setAuthorizeUser({ companyId: COMPANY_ID, userId: USER_ID });
    emulator.seed(COMPANY_ID, { deals: 3 });

    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          ...credentials,
          databaseUrl: ADMIN_URL.replace(/\/[^/]*$/, `/${database}`),
          oauthBaseUrl: emulator.url,
          encryptionKey: randomBytes(32).toString('base64'),
          sessionSecret: randomBytes(32).toString('hex'),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication();
    await app.listen(port, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await emulator?.close();
    await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  it('connects a Pipedrive user through OAuth and lists their deals as that user', async () => {
    // TODO: one call, `emulator.connect(app, { companyId, userId })`, once the testing kit has it.
    const start = await fetch(`${appUrl}/auth/pipedrive`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const stateCookie = cookiesOf(start);
    const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    expect(authorize.status).toBe(302);
    const callback = await fetch(authorize.headers.get('location')!, { headers: { cookie: stateCookie }, redirect: 'manual' });
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ companyId: COMPANY_ID, userId: USER_ID, status: 'active' });
    const session = cookiesOf(callback);

    const deals = await fetch(`${appUrl}/deals`, { headers: { cookie: session } });
    expect(deals.status).toBe(200);
    const titles = ((await deals.json()) as Array<{ title: string }>).map((deal) => deal.title).sort();
    const seeded = emulator
      .records(COMPANY_ID, 'deals')
      .map((deal) => String(deal.title))
      .sort();
    expect(titles).toEqual(seeded);
    expect(titles).toHaveLength(3);
  });

  it('answers 401 to a browser without a session', async () => {
    const answer = await fetch(`${appUrl}/deals`);
    expect(answer.status).toBe(401);
  });
});
