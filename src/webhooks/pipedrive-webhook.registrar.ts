import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { PipedriveClient } from '../client/pipedrive.client.js';
import { PipedriveConnectionEntity } from '../database/pipedrive-connection.entity.js';
import type { PipedriveWebhookEntity } from '../database/pipedrive-webhook.entity.js';
import { WebhookStore } from '../database/webhook.store.js';
import { PipedriveApiError } from '../errors/pipedrive.errors.js';
import { PipedriveWebhookLimitError, PipedriveWebhookRegistrationError } from '../errors/pipedrive-webhook.errors.js';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { PIPEDRIVE_EVENTS, PipedriveEvents } from '../tokens/pipedrive-events.js';
import type { PipedriveConnection } from '../tokens/pipedrive-token.types.js';
import { TokenService } from '../tokens/token.service.js';
import { InjectPipedriveWebhooksOptions } from './pipedrive-webhooks.constants.js';
import { MAX_WEBHOOKS_PER_USER, type ResolvedPipedriveWebhooksOptions } from './pipedrive-webhooks.options.js';
import { generateCredentials } from './webhook-credentials.js';
import { parseEventPattern } from './webhook-event-pattern.js';

/** How long a reconciliation owns its connection without renewing (it renews before each webhook it creates). */
const RECONCILE_LEASE_MS = 60_000;
/** How often a reconciliation that must run (connect, an explicit call) checks whether another instance's ended. */
const RECONCILE_WAIT_MS = 250;

/** Pipedrive needs this scope for app webhooks. */
export const ADMIN_SCOPE = 'admin';

/** A webhook as `GET /v1/webhooks` lists it (the fields this module reads). */
interface RemoteWebhook {
  id: number;
  event_action: string;
  event_object: string;
  subscription_url: string;
  type?: string;
  user_id?: number;
  owner_id?: number;
  is_active?: boolean | number;
}

/** What one registration or reconciliation of a connection did. */
export interface PipedriveWebhookReport {
  connectionId: string;
  /**
   * `skipped`: the connection lacks the `admin` scope (or is not active, or no events are configured, or
   * another instance is reconciling it right now).
   */
  outcome: 'registered' | 'partial' | 'failed' | 'skipped';
  /** Why it was skipped. */
  reason?: 'admin_scope_missing' | 'connection_not_active' | 'no_events' | 'reconciling_elsewhere';
  /** Events whose webhook was created now. */
  created: string[];
  /** Events whose webhook was already in place at Pipedrive. */
  kept: string[];
  /** Pipedrive ids of webhooks deleted: stale ones, or for events no longer configured. */
  deleted: number[];
  failed: { event: string; error: PipedriveWebhookRegistrationError }[];
}

/** The webhooks of one connection as the module knows them. */
export interface PipedriveConnectionWebhooks {
  connectionId: string;
  /**
   * `registering`: Pipedrive has not confirmed every webhook yet; `registered`: every configured event has a live webhook; `partial`/`failed`: some/all were refused
   * (see `webhooks[].lastError`); `admin_scope_missing`: the app lacks the `admin` scope, nothing was
   * registered; `revoked`: uninstalled or disconnected, deliveries are refused; `none`: nothing registered yet.
   */
  state: 'registering' | 'registered' | 'partial' | 'failed' | 'admin_scope_missing' | 'revoked' | 'none';
  webhooks: { event: string; pipedriveId: number | null; status: PipedriveWebhookEntity['status']; lastError: string | null }[];
}

const eventName = (row: { eventAction: string; eventObject: string }) => `${row.eventAction}.${row.eventObject}`;

/**
 * Keeps one Pipedrive app webhook per configured event for every connection with the `admin` scope:
 * created on connect, reconciled against `GET /v1/webhooks` (no duplicates, missing ones re-created),
 * deleted on disconnect while the tokens still work, refused after uninstall. Never throws into the
 * OAuth flow: failures become typed errors in the report, a log line and the webhook's status.
 */
@Injectable()
export class PipedriveWebhookRegistrar implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PipedriveWebhooks');
  /** One registration at a time per connection in this process (connect and a scheduled reconcile may meet). */
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly unsubscribe: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectPipedriveWebhooksOptions() private readonly options: ResolvedPipedriveWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly tokens: TokenService,
    private readonly pipedrive: PipedriveClient,
    private readonly events: PipedriveEvents,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
    @InjectRepository(PipedriveConnectionEntity) private readonly connections: Repository<PipedriveConnectionEntity>,
  ) {}

  onModuleInit(): void {
    this.unsubscribe.push(
      this.events.on((event) => {
        if (event.type === PIPEDRIVE_EVENTS.created || event.type === PIPEDRIVE_EVENTS.reauthorized) {
          return this.register(event.connectionId).then(() => undefined);
        }
        if (event.type === PIPEDRIVE_EVENTS.revoked) return this.store.revokeConnection(event.connectionId, this.clock.now());
        return undefined;
      }),
      this.tokens.onBeforeDisconnect((connection) => this.deleteAll(connection)),
    );
    const every = this.options.reconcileIntervalSeconds;
    if (every) {
      this.timer = setInterval(
        () => void this.reconcileAll().catch((e: Error) => this.logger.error(`Reconciliation failed: ${e.name}`)),
        every * 1000,
      );
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe) off();
    clearInterval(this.timer);
  }

  /**
   * Creates the missing webhooks of a connection and removes stale ones; what it did. When another
   * instance is reconciling the same connection, waits for it to finish, then checks again.
   */
  register(connectionId: string): Promise<PipedriveWebhookReport> {
    return this.serialised(connectionId, 'wait');
  }

  /**
   * One reconciliation of a connection at a time: in this process by chaining, across instances by
   * the connection's lease (`busy`: wait for another instance's to end, or skip the connection).
   */
  private serialised(connectionId: string, busy: 'wait' | 'skip'): Promise<PipedriveWebhookReport> {
    const previous = this.running.get(connectionId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.reconcileOne(connectionId, busy));
    this.running.set(connectionId, next);
    void next.finally(() => this.running.get(connectionId) === next && this.running.delete(connectionId)).catch(() => undefined);
    return next;
  }

  /**
   * {@link register} for every active connection; apps may schedule it (or set `reconcileIntervalSeconds`).
   * Several instances may run it at once: a connection another instance is reconciling is skipped
   * (`reconciling_elsewhere`), not waited for.
   */
  async reconcileAll(): Promise<PipedriveWebhookReport[]> {
    const rows = await this.connections.find({ select: { id: true }, where: { status: 'active' } });
    const reports: PipedriveWebhookReport[] = [];
    for (const { id } of rows) reports.push(await this.serialised(id, 'skip'));
    return reports;
  }

  async status(connectionId: string): Promise<PipedriveConnectionWebhooks> {
    const [connection, rows] = await Promise.all([this.tokens.findConnection(connectionId), this.store.listByConnection(connectionId)]);
    const webhooks = rows.map((row) => ({
      event: eventName(row),
      pipedriveId: row.pipedriveId,
      status: row.status,
      lastError: row.lastError,
    }));
    const live = rows.filter((row) => row.status === 'active').length;
    const failed = rows.filter((row) => row.status === 'failed').length;
    let state: PipedriveConnectionWebhooks['state'];
    if (connection && !connection.scopes.includes(ADMIN_SCOPE)) state = 'admin_scope_missing';
    else if (this.running.has(connectionId)) state = 'registering';
    else if (connection?.status === 'revoked' || (rows.length > 0 && rows.every((row) => row.status === 'revoked'))) state = 'revoked';
    else if (rows.length === 0) state = 'none';
    else if (rows.some((row) => row.status === 'active' && row.pipedriveId === null)) state = 'registering';
    else if (failed === 0) state = 'registered';
    else state = live > 0 ? 'partial' : 'failed';
    return { connectionId, state, webhooks };
  }

  private async reconcileOne(connectionId: string, busy: 'wait' | 'skip'): Promise<PipedriveWebhookReport> {
    const report: PipedriveWebhookReport = { connectionId, outcome: 'registered', created: [], kept: [], deleted: [], failed: [] };
    const owner = randomUUID();
    const lease = () => this.store.leaseConnection(connectionId, owner, this.clock.now(), this.clock.now() + RECONCILE_LEASE_MS);
    const giveUp = this.clock.now() + 2 * RECONCILE_LEASE_MS;
    for (;;) {
      const connection = await this.tokens.findConnection(connectionId);
      if (!connection || connection.status !== 'active') return { ...report, outcome: 'skipped', reason: 'connection_not_active' };
      if (await lease()) break;
      if (busy === 'skip' || this.clock.now() >= giveUp) return { ...report, outcome: 'skipped', reason: 'reconciling_elsewhere' };
      await this.clock.sleep(RECONCILE_WAIT_MS, undefined, { ref: false });
    }
    try {
      return await this.reconcileLeased(connectionId, report, lease);
    } finally {
      await this.store.releaseConnection(connectionId, owner).catch(() => undefined);
    }
  }

  /** {@link reconcileOne} once this run holds the connection's lease; `lease()` renews it, false when lost. */
  private async reconcileLeased(
    connectionId: string,
    report: PipedriveWebhookReport,
    lease: () => Promise<boolean>,
  ): Promise<PipedriveWebhookReport> {
    // Read again under the lease: what the previous holder created is in the rows now.
    const connection = await this.tokens.findConnection(connectionId);
    if (!connection || connection.status !== 'active') return { ...report, outcome: 'skipped', reason: 'connection_not_active' };
    if (!connection.scopes.includes(ADMIN_SCOPE)) {
      this.logger.warn(
        `Connection ${connectionId} (company ${connection.companyId}) was granted no "admin" scope, so no Pipedrive webhooks were registered. ` +
          'Add the admin scope to the app in Pipedrive Developer Hub and have the user reinstall it.',
      );
      return { ...report, outcome: 'skipped', reason: 'admin_scope_missing' };
    }
    const wanted = this.options.events;
    const rows = await this.store.listByConnection(connectionId);
    if (wanted.length === 0 && rows.length === 0) return { ...report, outcome: 'skipped', reason: 'no_events' };
    const client = this.pipedrive.forConnection(connectionId);
    let remote: RemoteWebhook[];
    try {
      remote = ((await client.get<RemoteWebhook[] | null>('/v1/webhooks')) ?? []).filter((w) => this.ownedBy(w, connection));
    } catch (error) {
      const failure = this.registrationError(error, connectionId, undefined, 'list the webhooks');
      return { ...report, outcome: 'failed', failed: wanted.map((event) => ({ event, error: failure })) };
    }
    const remoteIds = new Set(remote.map((w) => w.id));
    const keep = new Set<PipedriveWebhookEntity>();
    for (const event of wanted) {
      const row = rows.find(
        (r) =>
          r.status === 'active' &&
          eventName(r) === event &&
          r.pipedriveId !== null &&
          remoteIds.has(r.pipedriveId) &&
          r.subscriptionUrl === this.options.subscriptionUrl,
      );
      if (row) {
        keep.add(row);
        report.kept.push(event);
      }
    }
    // Webhooks at our URL we hold no credentials for (or no longer want) would deliver what we must refuse.
    const keptIds = new Set([...keep].map((row) => row.pipedriveId));
    for (const stale of remote.filter((w) => !keptIds.has(w.id) && w.subscription_url === this.options.subscriptionUrl)) {
      try {
        await client.delete(`/v1/webhooks/${stale.id}`);
        report.deleted.push(stale.id);
        remoteIds.delete(stale.id);
      } catch (error) {
        this.registrationError(error, connectionId, `${stale.event_action}.${stale.event_object}`, `delete stale webhook ${stale.id}`);
      }
    }
    await this.store.remove(rows.filter((row) => !keep.has(row)).map((row) => row.id));
    let count = remote.filter((w) => remoteIds.has(w.id)).length;
    for (const event of wanted.filter((e) => !report.kept.includes(e))) {
      if (count >= MAX_WEBHOOKS_PER_USER) {
        const error = new PipedriveWebhookLimitError(
          `Connection ${connectionId} already has ${count} Pipedrive webhooks, Pipedrive's maximum of ${MAX_WEBHOOKS_PER_USER} per user: "${event}" was not registered.`,
          { connectionId, event },
        );
        this.logger.warn(error.message);
        await this.recordFailure(connection, event, error);
        report.failed.push({ event, error });
        continue;
      }
      // A run slower than its lease lost the connection to another instance, which creates the rest.
      if (!(await lease())) return { ...report, outcome: 'skipped', reason: 'reconciling_elsewhere' };
      const error = await this.create(connection, event);
      if (error) report.failed.push({ event, error });
      else {
        report.created.push(event);
        count++;
      }
    }
    if (report.failed.length > 0) report.outcome = report.failed.length === wanted.length ? 'failed' : 'partial';
    if (report.created.length > 0 || report.deleted.length > 0 || report.failed.length > 0) {
      this.logger.log(
        `Webhooks of connection ${connectionId}: ${report.created.length} created, ${report.kept.length} kept, ${report.deleted.length} deleted, ${report.failed.length} failed.`,
      );
    }
    return report;
  }

  /** Creates one webhook; the row (and so its credentials) exists before Pipedrive can deliver to it. */
  private async create(connection: PipedriveConnection, event: string): Promise<PipedriveWebhookRegistrationError | undefined> {
    const pattern = parseEventPattern(event)!;
    const credentials = generateCredentials();
    await this.store.insert(this.newRow(connection, event, credentials, 'active', null));
    try {
      const created = await this.pipedrive.forConnection(connection.id).post<{ id: number }>('/v1/webhooks', {
        subscription_url: this.options.subscriptionUrl,
        event_action: pattern.action,
        event_object: pattern.object,
        version: '2.0',
        http_auth_user: credentials.user,
        http_auth_password: credentials.password,
      });
      await this.store.update(credentials.user, { pipedriveId: created.id, updatedAt: this.clock.now() });
      return undefined;
    } catch (cause) {
      const error = this.registrationError(cause, connection.id, event, `create the "${event}" webhook`);
      await this.store.update(credentials.user, { status: 'failed', lastError: error.message, updatedAt: this.clock.now() });
      return error;
    }
  }

  private async recordFailure(connection: PipedriveConnection, event: string, error: Error): Promise<void> {
    await this.store.insert(this.newRow(connection, event, generateCredentials(), 'failed', error.message));
  }

  /** The row of one webhook: who it belongs to, what it subscribes to, and only the hash of its password. */
  private newRow(
    connection: PipedriveConnection,
    event: string,
    credentials: { user: string; passwordHash: string },
    status: 'active' | 'failed',
    lastError: string | null,
  ): PipedriveWebhookEntity {
    const pattern = parseEventPattern(event)!;
    const now = this.clock.now();
    return {
      id: credentials.user,
      connectionId: connection.id,
      companyId: connection.companyId,
      userId: connection.userId,
      eventAction: pattern.action,
      eventObject: pattern.object,
      subscriptionUrl: this.options.subscriptionUrl!,
      pipedriveId: null,
      passwordHash: credentials.passwordHash,
      status,
      lastError,
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Deletes the connection's webhooks at Pipedrive; runs inside TokenService.disconnect() before the
   * tokens are revoked. Failures are logged only: revoking uninstalls the app, and Pipedrive then
   * deletes its webhooks anyway.
   */
  private async deleteAll(connection: PipedriveConnection): Promise<void> {
    const rows = await this.store.listByConnection(connection.id);
    const client = this.pipedrive.forConnection(connection.id);
    for (const row of rows.filter((r) => r.pipedriveId !== null && r.status === 'active')) {
      try {
        await client.delete(`/v1/webhooks/${row.pipedriveId}`);
      } catch (error) {
        this.registrationError(error, connection.id, eventName(row), `delete webhook ${row.pipedriveId} on disconnect`);
      }
    }
    await this.store.revokeConnection(connection.id, this.clock.now());
  }

  /** Pipedrive lists every webhook the token may see; ours are the app webhooks of this user. */
  private ownedBy(webhook: RemoteWebhook, connection: PipedriveConnection): boolean {
    const user = webhook.user_id ?? webhook.owner_id;
    return (webhook.type === undefined || webhook.type === 'application') && (user === undefined || Number(user) === connection.userId);
  }

  private registrationError(
    cause: unknown,
    connectionId: string,
    event: string | undefined,
    what: string,
  ): PipedriveWebhookRegistrationError {
    const api = cause instanceof PipedriveApiError ? cause : undefined;
    const reason = api ? `HTTP ${api.status}${api.details.error ? `: ${api.details.error}` : ''}` : ((cause as Error)?.name ?? 'Error');
    const limit = api && /limit|maximum|too many/i.test(`${api.details.error ?? ''} ${api.details.errorInfo ?? ''}`);
    const Type = limit ? PipedriveWebhookLimitError : PipedriveWebhookRegistrationError;
    const error = new Type(
      `Could not ${what} for connection ${connectionId} (${reason}).`,
      {
        connectionId,
        event,
        status: api?.status,
        pipedriveError: api?.details.error,
      },
      { cause },
    );
    this.logger.warn(error.message);
    return error;
  }
}
