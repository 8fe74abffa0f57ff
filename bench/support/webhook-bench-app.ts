import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  Body,
  Controller,
  Headers,
  HttpCode,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  OnPipedriveWebhook,
  PIPEDRIVE_MIGRATIONS,
  PipedriveAuthModule,
  PipedriveWebhookEntity,
  PipedriveWebhookEventEntity,
  PipedriveWebhooksModule,
  type PipedriveWebhookEvent,
  type PipedriveWebhooksModuleOptions,
} from '../../src/index.js';
import { WebhookInboxStore } from '../../src/database/webhook-inbox.store.js';
import { PipedriveConnectionEntity } from '../../src/database/pipedrive-connection.entity.js';
import { WebhookStore } from '../../src/database/webhook.store.js';
import { hashPassword, parseBasicAuth, verifyPassword } from '../../src/webhooks/webhook-credentials.js';

export type BenchDatabase = { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };
export type BenchHandler = (event: PipedriveWebhookEvent) => unknown;

const HANDLER = Symbol('HANDLER');

@Injectable()
class BenchWebhookHandler {
  constructor(@Inject(HANDLER) private readonly handler: { fn: BenchHandler }) {}

  @OnPipedriveWebhook('*.*')
  handle(event: PipedriveWebhookEvent): unknown {
    return this.handler.fn(event);
  }
}

/**
 * The baseline the receiver is compared with: a plain Nest route (Nest's own JSON body parser) doing
 * the same Basic check against the same webhook row and the same insert into the same table, nothing else.
 */
@Controller('baseline')
class BaselineController {
  constructor(
    private readonly webhooks: WebhookStore,
    private readonly inbox: WebhookInboxStore,
  ) {}

  @Post()
  @HttpCode(200)
  async receive(@Headers('authorization') authorization: string | undefined, @Body() body: { meta: { id: string; entity_id: string } }) {
    const credentials = parseBasicAuth(authorization);
    const webhook = credentials ? await this.webhooks.findForDelivery(credentials.user) : null;
    if (!credentials || !webhook || !verifyPassword(credentials.password, webhook.passwordHash)) throw new UnauthorizedException();
    const now = Date.now();
    await this.inbox.insert({
      eventId: body.meta.id,
      connectionId: webhook.connectionId,
      webhookId: webhook.id,
      companyId: webhook.companyId,
      action: 'change',
      entity: 'deal',
      entityId: body.meta.entity_id,
      eventTime: now,
      receivedAt: now,
      payload: JSON.stringify(body),
      status: 'done', // the dispatcher leaves it alone: the baseline does no handling
      attempts: 0,
      nextAttemptAt: now,
      leaseOwner: null,
      leaseUntil: null,
      completedHandlers: '',
      lastError: null,
      handledAt: now,
    });
    return { received: true };
  }
}

export interface BenchApp {
  url: string;
  app: INestApplication;
  dataSource: DataSource;
  close(): Promise<void>;
}

/** The module as an app uses it, on a real port, with one `*.*` handler the bench supplies. */
export async function startBenchApp(
  database: BenchDatabase,
  handler: BenchHandler,
  webhooks: Partial<PipedriveWebhooksModuleOptions> = {},
  port = 0,
): Promise<BenchApp> {
  const common = { migrations: PIPEDRIVE_MIGRATIONS, migrationsRun: true, autoLoadEntities: true, synchronize: false } as const;
  @Module({
    imports: [
      TypeOrmModule.forRoot(
        database.type === 'postgres'
          ? { ...common, type: 'postgres', url: database.url, extra: { max: 16 } }
          : { ...common, type: 'sqlite', database: database.path, enableWAL: true, busyTimeout: 10_000 },
      ),
      PipedriveAuthModule.forRoot({
        clientId: 'bench',
        clientSecret: 'bench-secret',
        redirectUri: 'http://127.0.0.1/auth/pipedrive/callback',
        oauthBaseUrl: 'http://127.0.0.1:9',
        encryptionKey: Buffer.alloc(32, 1).toString('base64'),
        sessionSecret: 'bench-session-secret-0123456789-0123456789',
        isGlobal: true,
        controller: false,
      }),
      PipedriveWebhooksModule.forRoot({ pollIntervalMs: 200, ...webhooks }),
      TypeOrmModule.forFeature([PipedriveConnectionEntity, PipedriveWebhookEntity, PipedriveWebhookEventEntity]),
    ],
    controllers: [BaselineController],
    providers: [BenchWebhookHandler, { provide: HANDLER, useValue: { fn: handler } }, WebhookStore, WebhookInboxStore],
  })
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, { logger: ['error'] });
  await app.listen(port, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, app, dataSource: app.get<DataSource>(getDataSourceToken()), close: () => app.close() };
}

export interface BenchWebhook {
  user: string;
  password: string;
  companyId: number;
  connectionId: string;
}

/** A connection and one of its webhooks, written straight to the tables (no Pipedrive needed to receive). */
export async function seedWebhook(dataSource: DataSource, companyId = 4242): Promise<BenchWebhook> {
  const connectionId = randomUUID();
  const user = randomUUID();
  const password = randomBytes(32).toString('base64url');
  const now = Date.now();
  await dataSource.query(
    `INSERT INTO pipedrive_connections (id, company_id, user_id, api_domain, scopes, access_token, refresh_token, token_issued_at, expires_at, status, version, refresh_failures, created_at, updated_at)
     VALUES ('${connectionId}', ${companyId}, 1, 'http://127.0.0.1:9', 'base,admin', 'x', 'x', ${now}, ${now + 3_600_000}, 'active', 0, 0, ${now}, ${now})`,
  );
  await dataSource.query(
    `INSERT INTO pipedrive_webhooks (id, connection_id, company_id, user_id, event_action, event_object, subscription_url, pipedrive_id, password_hash, status, created_at, updated_at)
     VALUES ('${user}', '${connectionId}', ${companyId}, 1, '*', 'deal', 'http://127.0.0.1/webhooks/pipedrive', 1, '${hashPassword(password)}', 'active', ${now}, ${now})`,
  );
  return { user, password, companyId, connectionId };
}

/** A v2 delivery body of `deal` `entityId`. */
export function benchDelivery(webhook: BenchWebhook, id: string, entityId: number): string {
  return JSON.stringify({
    meta: {
      action: 'change',
      entity: 'deal',
      entity_id: String(entityId),
      company_id: String(webhook.companyId),
      user_id: '1',
      id,
      timestamp: new Date().toISOString(),
      type: 'application',
      version: '2.0',
      webhook_id: '1',
      change_source: 'app',
      attempt: 1,
    },
    data: { id: entityId, title: `Deal ${entityId}`, value: 100, currency: 'EUR', custom_fields: {} },
    previous: { title: 'Before' },
  });
}

export function basicHeader(webhook: BenchWebhook): string {
  return `Basic ${Buffer.from(`${webhook.user}:${webhook.password}`).toString('base64')}`;
}
