import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type INestApplication, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  OnPipedriveWebhook,
  PIPEDRIVE_MIGRATIONS,
  PipedriveAuthModule,
  PipedriveClock,
  PipedriveWebhooksService,
  TokenService,
  type PipedriveConnection,
  type PipedriveWebhookEvent,
  type PipedriveWebhooksModuleOptions,
  PipedriveWebhooksModule,
} from '../../src/index.js';
import type { ManualClock, PipedriveEmulator } from '../../src/testing/index.js';
import { freePort } from './free-port.js';

export type WebhookTestDatabase = { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };

/** What the recording handler saw, in the order handlers started. */
export interface HandledEvent {
  id: string;
  action: string;
  entity: string;
  entityId: string;
  changeSource: unknown;
  attempt: number;
  connectionId: string;
  /** Number of this app's handler calls running when this one started (1 = alone). */
  running: number;
}

/** What a test makes the handler do for an event; a throw makes it fail. */
export type HandlerBehaviour = (event: PipedriveWebhookEvent) => unknown;

const BEHAVIOUR = Symbol('BEHAVIOUR');

export class Recorder {
  readonly handled: HandledEvent[] = [];
  running = 0;
  behaviour: HandlerBehaviour = () => undefined;
}

@Injectable()
class RecordingHandler {
  constructor(@Inject(BEHAVIOUR) private readonly recorder: Recorder) {}

  @OnPipedriveWebhook('*.*')
  async onAny(event: PipedriveWebhookEvent): Promise<void> {
    const r = this.recorder;
    r.running++;
    r.handled.push({
      id: event.id,
      action: event.action,
      entity: event.entity,
      entityId: event.meta.entity_id,
      changeSource: event.meta.change_source,
      attempt: event.attempt,
      connectionId: event.connection.id,
      running: r.running,
    });
    try {
      await r.behaviour(event);
    } finally {
      r.running--;
    }
  }
}

export interface WebhookAppOptions {
  database: WebhookTestDatabase;
  emulator: PipedriveEmulator;
  /** Registered with the emulator by the caller (with or without the admin scope). */
  client: { clientId: string; clientSecret: string };
  /** Shared by instances on one database. */
  encryptionKey: string;
  webhooks?: Partial<PipedriveWebhooksModuleOptions>;
  clock?: ManualClock;
  /** Reuse a port (a restart of "the same" instance). */
  port?: number;
}

export interface WebhookApp {
  url: string;
  port: number;
  /** The URL Pipedrive posts to. */
  receiverUrl: string;
  app: INestApplication;
  tokens: TokenService;
  webhooks: PipedriveWebhooksService;
  dataSource: DataSource;
  recorder: Recorder;
  /** Stores tokens from the emulator for this user, as the OAuth callback would (emits `created`/`reauthorized`). */
  connect(user: { companyId: number; userId: number }): Promise<PipedriveConnection>;
  close(): Promise<void>;
}

/** An app with PipedriveAuthModule and PipedriveWebhooksModule, a recording `*.*` handler, on a real port. */
export async function startWebhookApp(options: WebhookAppOptions): Promise<WebhookApp> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const receiverUrl = `${url}/webhooks/pipedrive`;
  const recorder = new Recorder();
  const { database, emulator, client } = options;
  const common = { migrations: PIPEDRIVE_MIGRATIONS, migrationsRun: true, autoLoadEntities: true, synchronize: false } as const;
  @Module({
    imports: [
      TypeOrmModule.forRoot(
        database.type === 'postgres'
          ? { ...common, type: 'postgres', url: database.url, extra: { max: 20 } }
          : { ...common, type: 'sqlite', database: database.path, enableWAL: true, busyTimeout: 5_000 },
      ),
      PipedriveAuthModule.forRoot({
        ...client,
        redirectUri: `${url}/auth/pipedrive/callback`,
        oauthBaseUrl: emulator.url,
        encryptionKey: options.encryptionKey,
        sessionSecret: randomBytes(32).toString('hex'),
        isGlobal: true,
      }),
      PipedriveWebhooksModule.forRoot({ events: ['*.deal'], subscriptionUrl: receiverUrl, ...options.webhooks }),
    ],
    providers: [RecordingHandler, { provide: BEHAVIOUR, useValue: recorder }],
  })
  class WebhookTestModule {}
  let builder = Test.createTestingModule({ imports: [WebhookTestModule] });
  if (options.clock) builder = builder.overrideProvider(PipedriveClock).useValue(options.clock);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  const tokens = app.get(TokenService);
  return {
    url,
    port,
    receiverUrl,
    app,
    tokens,
    webhooks: app.get(PipedriveWebhooksService),
    dataSource: app.get<DataSource>(getDataSourceToken()),
    recorder,
    connect: (user) => tokens.saveConnection(user, emulator.grant({ clientId: client.clientId, ...user })),
    close: () => app.close(),
  };
}

/** A v2 delivery body as Pipedrive sends it. */
export function v2Delivery(fields: {
  id?: string;
  action?: 'create' | 'change' | 'delete';
  entity?: string;
  entityId?: string | number;
  companyId: number;
  userId?: number;
  timestamp?: string | number;
  data?: Record<string, unknown> | null;
  previous?: Record<string, unknown> | null;
}): Record<string, unknown> {
  const entityId = String(fields.entityId ?? 1);
  return {
    meta: {
      action: fields.action ?? 'change',
      entity: fields.entity ?? 'deal',
      entity_id: entityId,
      company_id: String(fields.companyId),
      user_id: String(fields.userId ?? 1),
      id: fields.id ?? crypto.randomUUID(),
      correlation_id: crypto.randomUUID(),
      timestamp: fields.timestamp ?? new Date().toISOString(),
      type: 'application',
      version: '2.0',
      webhook_id: '1',
      change_source: 'api',
      attempt: 1,
      is_bulk_edit: false,
    },
    data: fields.data === undefined ? { id: Number(entityId), title: 'Deal' } : fields.data,
    previous: fields.previous === undefined ? null : fields.previous,
  };
}

/** POSTs a delivery with Basic credentials; the status and JSON answer. */
export async function deliver(
  receiverUrl: string,
  auth: { user: string; password: string } | undefined,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(receiverUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(auth && { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}` }),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> };
}
