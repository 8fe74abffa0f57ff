import 'reflect-metadata';
import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  PIPEDRIVE_MIGRATIONS,
  PipedriveAuthModule,
  PipedriveClient,
  PipedriveClock,
  PipedriveConnectionId,
  PipedriveSessionGuard,
} from '../src/index.js';
import { ManualClock, PipedriveEmulator, PipedriveEmulatorError } from '../src/testing/index.js';

// The README's "Testing with the emulator" example, run as written (imports aside).

@Controller('deals')
@UseGuards(PipedriveSessionGuard)
class DealsController {
  constructor(private readonly pipedrive: PipedriveClient) {}

  @Get()
  list(@PipedriveConnectionId() connectionId: string) {
    return this.pipedrive.forConnection(connectionId).deals.all();
  }
}

const APP = { clientId: 'test-app', clientSecret: 'test-secret', redirectUri: 'http://localhost/auth/pipedrive/callback' };

describe('deals, as a connected Pipedrive user', () => {
  const clock = new ManualClock();
  let emulator: PipedriveEmulator;
  let app: INestApplication;

  beforeAll(async () => {
    emulator = await PipedriveEmulator.start({ apps: [APP], clock });
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          type: 'sqlite',
          database: ':memory:',
          autoLoadEntities: true,
          migrations: PIPEDRIVE_MIGRATIONS,
          migrationsRun: true,
        }),
        PipedriveAuthModule.forRoot({
          ...APP,
          oauthBaseUrl: emulator.url, // OAuth at the emulator; API calls follow its api_domain
          encryptionKey: Buffer.alloc(32, 1).toString('base64'),
          sessionSecret: 'a session secret of at least 32 characters',
        }),
      ],
      controllers: [DealsController],
    })
      .overrideProvider(PipedriveClock)
      .useValue(clock) // one notion of time for the app and the emulator
      .compile();
    app = moduleRef.createNestApplication();
    await app.listen(0, '127.0.0.1');
  });
  afterEach(() => emulator.reset());
  afterAll(async () => {
    await app?.close();
    await emulator?.close();
  });

  it('lists the company deals, and refreshes the token an hour later', async () => {
    emulator.seed(7, { deals: 3 });
    const { cookie, connection } = await emulator.connect(app, { companyId: 7, userId: 1 });
    expect(connection).toMatchObject({ companyId: 7, userId: 1, status: 'active' });

    const deals = await fetch(`${await app.getUrl()}/deals`, { headers: { cookie } });
    expect(deals.status).toBe(200);
    expect(await deals.json()).toHaveLength(3);

    await clock.advance(60 * 60 * 1000); // the access token (3599 s) has expired
    const later = await fetch(`${await app.getUrl()}/deals`, { headers: { cookie } });
    expect(later.status).toBe(200);
    expect(emulator.counts.refreshToken).toBe(1);
  });

  it('connects several users in parallel, each as themselves', async () => {
    const [a, b] = await Promise.all([
      emulator.connect(app, { companyId: 8, userId: 1 }),
      emulator.connect(app, { companyId: 9, userId: 2 }),
    ]);
    expect(a.connection).toMatchObject({ companyId: 8, userId: 1 });
    expect(b.connection).toMatchObject({ companyId: 9, userId: 2 });
    expect(a.cookie).not.toBe(b.cookie);
    expect(emulator.counts.authorizationCode).toBe(2);
  });

  it('takes the app base URL as well, and needs no switch: the authorize user stays as it was', async () => {
    const { connection } = await emulator.connect(await app.getUrl(), { companyId: 10, userId: 3 });
    expect(connection).toMatchObject({ companyId: 10, userId: 3 });
    expect(emulator.authorizeUser).toEqual({ companyId: 1, userId: 1 });
  });

  it('says what to fix when the app does not send the browser to this emulator', async () => {
    const other = await PipedriveEmulator.start({ apps: [APP] });
    try {
      await expect(other.connect(app, { companyId: 1, userId: 1 })).rejects.toThrow(PipedriveEmulatorError);
      await expect(other.connect(app, { companyId: 1, userId: 1 })).rejects.toThrow(/oauthBaseUrl/);
    } finally {
      await other.close();
    }
  });

  it('says what went wrong when the start route is not there', async () => {
    await expect(emulator.connect(app, { companyId: 1, userId: 1, startPath: '/nowhere' })).rejects.toThrow(/answered 404/);
  });
});
