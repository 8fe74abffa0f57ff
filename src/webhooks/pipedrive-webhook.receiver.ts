import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type InboxRow, WebhookInboxStore } from '../database/webhook-inbox.store.js';
import type { PipedriveWebhookEntity } from '../database/pipedrive-webhook.entity.js';
import { WebhookStore } from '../database/webhook.store.js';
import { PipedriveConfigurationError, PipedriveStorageError } from '../errors/pipedrive.errors.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { PIPEDRIVE_EVENTS, PipedriveEvents } from '../tokens/pipedrive-events.js';
import { PipedriveWebhookDispatcher } from './pipedrive-webhook.dispatcher.js';
import { InjectPipedriveWebhooksOptions, WEBHOOK_REALM } from './pipedrive-webhooks.constants.js';
import type { ResolvedPipedriveWebhooksOptions } from './pipedrive-webhooks.options.js';
import { parseBasicAuth, verifyPassword } from './webhook-credentials.js';
import { parseDelivery } from './webhook-delivery.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * Webhook rows read for deliveries are reused for `credentialsCacheMs`: saves a read per delivery in a
 * burst. A revoke on this instance forgets them at once; other instances refuse at most that much later.
 */
const CREDENTIALS_CACHE_SIZE = 10_000;

/** A refusal: the status and the JSON error body the sender gets. Nothing is stored. */
class Refusal {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly message: string,
  ) {}
}

/**
 * The delivery endpoint. Mounted on the HTTP adapter ahead of the body parsers, because the order of
 * checks is the point: HTTP Basic first (constant time, against the webhook the user name claims),
 * then the body is read (size-limited), parsed and checked as a v2 delivery of that connection's
 * company, then stored in the inbox, then answered 200. Handlers run after the answer.
 */
@Injectable()
export class PipedriveWebhookReceiver implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PipedriveWebhooks');
  private readonly known = new Map<string, { webhook: PipedriveWebhookEntity; until: number }>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    @InjectPipedriveWebhooksOptions() private readonly options: ResolvedPipedriveWebhooksOptions,
    private readonly webhooks: WebhookStore,
    private readonly inbox: WebhookInboxStore,
    private readonly dispatcher: PipedriveWebhookDispatcher,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
    private readonly events: PipedriveEvents,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Stops listening to connection events. */
  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Forgets a revoked connection's cached credentials, and mounts the receiver route ahead of the body parser. */
  onModuleInit(): void {
    this.unsubscribe = this.events.on((event) => {
      if (event.type !== PIPEDRIVE_EVENTS.revoked) return;
      for (const [user, entry] of this.known) if (entry.webhook.connectionId === event.connectionId) this.known.delete(user);
    });
    const path = this.options.receiverPath;
    const adapter = this.adapterHost?.httpAdapter;
    if (path === false || !adapter) return;
    if (adapter.getType() !== 'express') {
      throw new PipedriveConfigurationError(
        `PipedriveWebhooksModule mounts its receiver on Express only (this app runs ${adapter.getType()}); set receiverPath: false and call PipedriveWebhookReceiver.handle() from your own route.`,
      );
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    adapter.post(path, handler);
    // Nest registered its JSON parser before any module ran: move our route in front of it, so the
    // body is read by us, after the credentials were checked, and within our size limit.
    const stack = (adapter.getInstance() as { router?: { stack?: { route?: { stack?: { handle?: unknown }[] } }[] } }).router?.stack;
    const index = stack?.findIndex((layer) => layer.route?.stack?.some((inner) => inner.handle === handler)) ?? -1;
    if (stack && index > 0) stack.unshift(...stack.splice(index, 1));
  }

  /** Handles one delivery from a raw Node request whose body was not read yet. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const webhook = await this.authenticate(req.headers.authorization);
      const body = await readBody(req, this.options.maxBodyBytes);
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        throw new Refusal(400, 'invalid_json', 'The body is not valid JSON.');
      }
      const delivery = parseDelivery(json);
      if (!delivery)
        throw new Refusal(
          400,
          'not_a_v2_delivery',
          'The body is not a Pipedrive webhooks v2 delivery (meta.version "2.0", action, entity, entity_id, id, timestamp).',
        );
      if (delivery.meta.companyId !== webhook.companyId) {
        throw new Refusal(403, 'company_mismatch', 'meta.company_id is not the company of the webhook these credentials belong to.');
      }
      const now = this.clock.now();
      const row: InboxRow = {
        eventId: delivery.meta.id,
        connectionId: webhook.connectionId,
        webhookId: webhook.id,
        companyId: webhook.companyId,
        action: delivery.meta.action,
        entity: delivery.meta.entity,
        entityId: delivery.meta.entity_id,
        eventTime: delivery.meta.timestampMs,
        receivedAt: now,
        payload: body.toString('utf8'),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        leaseOwner: null,
        leaseUntil: null,
        completedHandlers: '',
        lastError: null,
        handledAt: null,
      };
      await this.inbox.insert(row);
      send(res, 200, RECEIVED);
      this.dispatcher.wake(row);
    } catch (error) {
      if (error instanceof Refusal)
        return send(res, error.status, { statusCode: error.status, error: error.error, message: error.message });
      if (error instanceof PipedriveStorageError) {
        this.logger.error(`Webhook delivery not stored: ${error.message}`);
        // Not stored: a 5xx makes Pipedrive retry it later.
        return send(res, 503, { statusCode: 503, error: 'storage_unavailable', message: 'The delivery could not be stored; retry later.' });
      }
      this.logger.error(`Webhook delivery failed: ${(error as Error)?.name ?? 'Error'}`, (error as Error)?.stack);
      send(res, 500, { statusCode: 500, error: 'internal_error', message: 'The delivery could not be handled.' });
    }
  }

  private async authenticate(header: string | undefined): Promise<PipedriveWebhookEntity> {
    const credentials = parseBasicAuth(header);
    const webhook = credentials && UUID.test(credentials.user) ? await this.findWebhook(credentials.user) : null;
    const valid = verifyPassword(credentials?.password ?? '', webhook?.passwordHash);
    if (!credentials || !webhook || !valid || webhook.status !== 'active') {
      throw new Refusal(401, 'invalid_credentials', 'Missing or wrong webhook credentials.');
    }
    return webhook;
  }

  private async findWebhook(id: string): Promise<PipedriveWebhookEntity | null> {
    const now = this.clock.now();
    const cached = this.known.get(id);
    if (cached && cached.until > now) return cached.webhook;
    const webhook = await this.webhooks.findForDelivery(id);
    if (webhook?.status === 'active' && this.options.credentialsCacheMs > 0) {
      if (this.known.size >= CREDENTIALS_CACHE_SIZE) this.known.clear();
      this.known.set(id, { webhook, until: now + this.options.credentialsCacheMs });
    } else this.known.delete(id);
    return webhook;
  }
}

/** Reads the body up to `limit` bytes; a larger one is refused as soon as it is known to be larger. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function tooLarge(limit: number): Refusal {
  return new Refusal(413, 'payload_too_large', `The body is larger than ${limit} bytes.`);
}

const RECEIVED = JSON.stringify({ received: true });

function send(res: ServerResponse, status: number, body: object | string): void {
  if (res.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  // With its length known the answer goes out in one write, not chunked.
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  };
  if (status === 401) headers['www-authenticate'] = `Basic realm="${WEBHOOK_REALM}"`;
  // A refused body is not read: close the connection instead of draining it.
  if (status === 401 || status === 413) headers.connection = 'close';
  res.writeHead(status, headers).end(text);
}
