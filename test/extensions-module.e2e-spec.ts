import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PIPEDRIVE_MIGRATIONS,
  PipedriveAuthModule,
  PipedriveConfigurationError,
  PipedriveExceptionFilter,
  PipedriveExtension,
  type PipedriveExtensionContext,
  PipedriveExtensionPage,
  PipedriveExtensionsModule,
  type PipedriveExtensionsModuleOptions,
} from '../src/index.js';
import { send } from './support/browser-flow.js';
import { freePort } from './support/free-port.js';

const JWT_SECRET = 'extension-jwt-secret-from-developer-hub';

@Controller('settings')
class SettingsController {
  /** An app settings page: shown to users who have not connected yet too. */
  @Get()
  @PipedriveExtensionPage()
  settings(@PipedriveExtension({ connected: false }) extension: PipedriveExtensionContext) {
    return { companyId: extension.companyId, userId: extension.userId, connected: extension.connection !== null, theme: extension.theme };
  }
}

@Controller('plain')
class PlainController {
  @Get()
  plain() {
    return { ok: true };
  }
}

async function boot(extensions: PipedriveExtensionsModuleOptions, dir: string) {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'sqlite',
        database: join(dir, `db-${randomBytes(4).toString('hex')}.sqlite`),
        autoLoadEntities: true,
        migrations: PIPEDRIVE_MIGRATIONS,
        migrationsRun: true,
      }),
      PipedriveAuthModule.forRoot({
        clientId: 'module-client',
        clientSecret: 'module-client-secret',
        redirectUri: 'http://127.0.0.1:1/auth/pipedrive/callback',
        encryptionKey: randomBytes(32).toString('base64'),
        sessionSecret: randomBytes(32).toString('hex'),
        isGlobal: true,
      }),
      PipedriveExtensionsModule.forRoot({ ...extensions, isGlobal: true }),
    ],
    controllers: [SettingsController, PlainController],
  })
  class ExtensionsTestModule {}
  const app = await NestFactory.create(ExtensionsTestModule, { logger: false, abortOnError: false });
  app.useGlobalFilters(new PipedriveExceptionFilter(app.get(HttpAdapterHost)));
  const port = await freePort();
  await app.listen(port, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}` };
}

const sign = (secret: string, claims: Record<string, unknown>) =>
  new SignJWT({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));

/** PipedriveExtensionsModule in an app of its own: its options, as README shows them. */
describe('PipedriveExtensionsModule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npd-ext-module-'));
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await boot(
      { jwtSecret: JWT_SECRET, frameAncestors: ['http://127.0.0.1:4000', 'https://*.example.com'], denyFramingElsewhere: false },
      dir,
    ));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies with jwtSecret, lets an unconnected user through with connected: false, and frames for the configured origins', async () => {
    const answer = await send(`${url}/settings?theme=dark&token=${await sign(JWT_SECRET, { companyId: 12, userId: 34 })}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ companyId: 12, userId: 34, connected: false, theme: 'dark' });
    expect(answer.headers['content-security-policy']).toBe(
      'frame-ancestors https://*.pipedrive.com http://127.0.0.1:4000 https://*.example.com',
    );
    const clientSigned = await send(`${url}/settings?token=${await sign('module-client-secret', { companyId: 12, userId: 34 })}`);
    expect(clientSigned.status).toBe(401);
  });

  it('leaves other routes alone with denyFramingElsewhere: false', async () => {
    const answer = await send(`${url}/plain`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-security-policy']).toBeUndefined();
    expect(answer.headers['x-frame-options']).toBeUndefined();
  });

  it('refuses to start with a wrong option, naming it', async () => {
    const failure = await boot({ frameAncestors: ['*'] }, dir).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PipedriveConfigurationError);
    expect((failure as Error).message).toMatch(/option "frameAncestors"/);
  });
});
