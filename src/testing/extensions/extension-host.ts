import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { PipedriveEmulatorError } from '../emulator.errors.js';
import type { PipedriveEmulatorApp } from '../emulator.options.js';
import type { Exchange } from '../emulator.server.js';
import type { PipedriveClock } from '../../pipedrive.clock.js';
import { hostPage } from './host-page.js';

/** Where Pipedrive shows an extension and for whom: what the iframe URL and its token say. */
export interface PipedriveEmulatorExtensionView {
  /** The app's page (custom panel, modal...) or JSON panel endpoint, as registered in Developer Hub. */
  appUrl: string;
  companyId: number;
  userId: number;
  /** @default 'deal' */
  resource?: string;
  /** @default 'details' */
  view?: string;
  /** The record(s) the panel is shown for. @default [] */
  selectedIds?: Array<number | string>;
  /** @default false */
  isShared?: boolean;
  /** @default 'light' */
  theme?: 'light' | 'dark';
  /** The OAuth app whose extension this is. @default the only registered client */
  clientId?: string;
}

/** A command the app sent to the host page through `@pipedrive/app-extensions-sdk`, as the host answered it. */
export interface PipedriveEmulatorExtensionCommand {
  /** Extension instance id (`id` query parameter). */
  extensionId: string;
  command: string;
  args: unknown;
  /** `ok`, or the error the SDK promise rejected with. */
  outcome: 'ok' | string;
}

/** What `callJsonPanel` got back from the app, as Pipedrive's server would. */
export interface PipedriveEmulatorJsonPanelAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
}

/** Lifetime of the tokens Pipedrive signs for extensions (the SDK's README: 5 minutes). */
const TOKEN_TTL_SECONDS = 300;

interface HostSession {
  clientId: string;
  companyId: number;
  userId: number;
  extensionId: string;
}

/**
 * Pipedrive's side of app extensions: signs extension JWTs (HS256 with the extension's JWT secret,
 * or the client secret when none is set), serves a host page that frames an app URL with the query
 * Pipedrive sends and answers the app-extensions SDK (initialize, resize, get_signed_token,
 * show_snackbar) over postMessage, and calls JSON-panel endpoints as Pipedrive's server does.
 * Reached as `emulator.extensions`.
 */
export class PipedriveEmulatorExtensions {
  /** Every SDK command the host pages answered, oldest first. */
  readonly commands: PipedriveEmulatorExtensionCommand[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly sessions = new Map<string, HostSession>();

  constructor(
    private readonly apps: { app(clientId: string): Required<PipedriveEmulatorApp> | undefined; appIds(): string[] },
    private readonly clock: PipedriveClock,
    private readonly baseUrl: () => string,
  ) {}

  /** Sets the "JWT secret" of a client's extensions, as in Developer Hub; unset, tokens are signed with the client secret. */
  setJwtSecret(clientId: string, secret: string | undefined): void {
    this.clientOf(clientId);
    if (secret === undefined) this.secrets.delete(clientId);
    else this.secrets.set(clientId, secret);
  }

  /** A freshly signed extension token for this user, as `get_signed_token` gives it. */
  signToken(owner: { companyId: number; userId: number; clientId?: string; ttlSeconds?: number }): Promise<string> {
    const clientId = this.clientOf(owner.clientId);
    const iat = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ userId: owner.userId, companyId: owner.companyId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(iat)
      .setExpirationTime(iat + (owner.ttlSeconds ?? TOKEN_TTL_SECONDS))
      .sign(new TextEncoder().encode(this.secrets.get(clientId) ?? this.apps.app(clientId)!.clientSecret));
  }

  /** The URL Pipedrive loads in the iframe: the app URL with id, resource, view, userId, companyId, selectedIds, isShared, theme and token. */
  async frameUrl(view: PipedriveEmulatorExtensionView, extensionId: string = randomUUID()): Promise<string> {
    const url = new URL(view.appUrl);
    const token = await this.signToken(view);
    const params = {
      id: extensionId,
      resource: view.resource ?? 'deal',
      view: view.view ?? 'details',
      userId: String(view.userId),
      companyId: String(view.companyId),
      selectedIds: (view.selectedIds ?? []).join(','),
      isShared: String(view.isShared ?? false),
      theme: view.theme ?? 'light',
      token,
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  }

  /** The emulator's page showing this extension inside Pipedrive-like chrome; open it in a browser. */
  hostUrl(view: PipedriveEmulatorExtensionView): string {
    const url = new URL('/app-extensions/host', this.baseUrl());
    url.searchParams.set('appUrl', view.appUrl);
    url.searchParams.set('companyId', String(view.companyId));
    url.searchParams.set('userId', String(view.userId));
    if (view.resource) url.searchParams.set('resource', view.resource);
    if (view.view) url.searchParams.set('view', view.view);
    if (view.selectedIds) url.searchParams.set('selectedIds', view.selectedIds.join(','));
    if (view.isShared !== undefined) url.searchParams.set('isShared', String(view.isShared));
    if (view.theme) url.searchParams.set('theme', view.theme);
    if (view.clientId) url.searchParams.set('clientId', view.clientId);
    return url.toString();
  }

  /**
   * Fetches a JSON panel as Pipedrive's server does: GET with the panel query and a signed `token`,
   * or with HTTP Basic credentials when `basicAuth` is given (the panel's "HTTP Auth" in Developer Hub).
   */
  async callJsonPanel(
    view: PipedriveEmulatorExtensionView,
    options: { basicAuth?: { username: string; password: string } } = {},
  ): Promise<PipedriveEmulatorJsonPanelAnswer> {
    const url = new URL(await this.frameUrl(view));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'Pipedrive-JSON-panels (emulator)' };
    if (options.basicAuth) {
      url.searchParams.delete('token');
      const { username, password } = options.basicAuth;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    const answer = await request(url, { headers });
    const text = await answer.body.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: answer.statusCode, headers: answer.headers, body };
  }

  /** `GET /app-extensions/host`, `POST /app-extensions/token`, `POST /app-extensions/commands`. */
  async handle(ex: Exchange): Promise<void> {
    const route = `${ex.req.method} ${ex.path}`;
    if (route === 'GET /app-extensions/host') return this.host(ex);
    if (route === 'POST /app-extensions/token') return this.token(ex);
    if (route === 'POST /app-extensions/commands') return this.record(ex);
    ex.json(404, { success: false, error: 'Not found', data: null });
  }

  private async host(ex: Exchange): Promise<void> {
    const q = ex.query;
    const companyId = Number(q.get('companyId'));
    const userId = Number(q.get('userId'));
    const appUrl = q.get('appUrl') ?? '';
    if (!/^https?:\/\//.test(appUrl) || !URL.canParse(appUrl) || !(companyId > 0) || !(userId > 0)) {
      return ex.json(400, { success: false, error: 'appUrl (absolute http(s) URL), companyId and userId are required', data: null });
    }
    let clientId: string;
    try {
      clientId = this.clientOf(q.get('clientId') ?? undefined);
    } catch (error) {
      return ex.json(400, { success: false, error: (error as Error).message, data: null });
    }
    const extensionId = randomUUID();
    const session = randomBytes(16).toString('base64url');
    this.sessions.set(session, { clientId, companyId, userId, extensionId });
    const view: PipedriveEmulatorExtensionView = {
      appUrl,
      companyId,
      userId,
      clientId,
      resource: q.get('resource') ?? undefined,
      view: q.get('view') ?? undefined,
      selectedIds: q.get('selectedIds')?.split(',').filter(Boolean),
      isShared: q.has('isShared') ? q.get('isShared') === 'true' : undefined,
      theme: q.get('theme') === 'dark' ? 'dark' : undefined,
    };
    const frameUrl = await this.frameUrl(view, extensionId);
    const html = hostPage({
      frameUrl,
      extensionId,
      session,
      companyId,
      userId,
      resource: view.resource ?? 'deal',
      selectedIds: (view.selectedIds ?? []).map(String),
    });
    ex.send(200, html, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  }

  /** The host page's `get_signed_token`: a token only for the user the page was opened for. */
  private async token(ex: Exchange): Promise<void> {
    const session = this.sessions.get(ex.query.get('session') ?? '');
    if (!session) return ex.json(401, { success: false, error: 'Unknown host session', data: null });
    const token = await this.signToken(session);
    ex.json(200, { token }, { 'cache-control': 'no-store' });
  }

  private async record(ex: Exchange): Promise<void> {
    const session = this.sessions.get(ex.query.get('session') ?? '');
    if (!session) return ex.json(401, { success: false, error: 'Unknown host session', data: null });
    let entry: { command?: unknown; args?: unknown; outcome?: unknown };
    try {
      entry = JSON.parse((await ex.readBody()) ?? '');
    } catch {
      return ex.json(400, { success: false, error: 'Body must be JSON', data: null });
    }
    this.commands.push({
      extensionId: session.extensionId,
      command: String(entry.command),
      args: entry.args,
      outcome: typeof entry.outcome === 'string' ? entry.outcome : 'ok',
    });
    ex.json(200, { success: true });
  }

  private clientOf(clientId: string | undefined): string {
    if (clientId !== undefined) {
      if (!this.apps.app(clientId)) throw new PipedriveEmulatorError(`Unknown clientId ${clientId}: register it first.`);
      return clientId;
    }
    const ids = this.apps.appIds();
    if (ids.length !== 1) throw new PipedriveEmulatorError(`Name the clientId: ${ids.length} clients are registered.`);
    return ids[0]!;
  }
}
