import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PipedriveEmulator } from 'nestjs-pipedrive/testing';
import pg from 'pg';
import { AppModule } from '../src/app.module.js';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const COMPANY_ID = 7;
const USER_ID = 70;

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

  beforeAll(async () => {
    await withAdmin((admin) => admin.query(`CREATE DATABASE ${database}`));
    const credentials = {
      clientId: 'consumer-app',
      clientSecret: 'consumer-secret',
      redirectUri: 'http://localhost:3000/auth/pipedrive/callback',
    };
    emulator = await PipedriveEmulator.start({ apps: [credentials] });
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
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
    await emulator?.close();
    await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  it('connects a Pipedrive user through OAuth and lists their deals as that user', async () => {
    const { cookie, connection } = await emulator.connect(app, { companyId: COMPANY_ID, userId: USER_ID });
    expect(connection).toMatchObject({ companyId: COMPANY_ID, userId: USER_ID, status: 'active' });

    const deals = await fetch(`${await app.getUrl()}/deals`, { headers: { cookie } });
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
    const answer = await fetch(`${await app.getUrl()}/deals`);
    expect(answer.status).toBe(401);
  });
});
