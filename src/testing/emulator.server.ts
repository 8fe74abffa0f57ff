import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { PipedriveClock } from '../pipedrive.clock.js';
import type { PipedriveEmulatorRequest } from './emulator.types.js';
import type { RequestLog } from './request-log.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_BODY_BYTES = 1_048_576;

/** What a route decided to send: a status and a JSON body (none when `body` is undefined). */
export interface Reply {
  status: number;
  body: unknown;
  headers?: OutgoingHttpHeaders;
}

/** One handler per endpoint family; each answers through the Exchange it is given. */
export interface EmulatorRoutes {
  authorize(ex: Exchange): void;
  token(ex: Exchange): Promise<void>;
  revoke(ex: Exchange): Promise<void>;
  api(ex: Exchange): Promise<void>;
  /** The app-extensions host page and its helpers, under `/app-extensions/`. */
  extensions(ex: Exchange): Promise<void>;
}

/** The HTTP server: records each request, then dispatches on path and method. */
export function createEmulatorServer(routes: EmulatorRoutes, log: RequestLog, clock: PipedriveClock): Server {
  return createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q + 1);
    const entry = log.open(req.method ?? 'GET', path, search, req.headers, clock.now());
    const ex = new Exchange(req, res, path, search, entry);
    dispatch(routes, ex).catch(() => ex.json(500, { success: false, error: 'Internal emulator error', data: null }));
  });
}

async function dispatch(routes: EmulatorRoutes, ex: Exchange): Promise<void> {
  const method = ex.req.method;
  if (ex.path.startsWith('/api/')) return routes.api(ex);
  if (ex.path.startsWith('/app-extensions/')) return routes.extensions(ex);
  const expected = OAUTH_METHODS[ex.path];
  if (expected === undefined) return ex.json(404, { success: false, error: 'Not found', data: null });
  if (method !== expected) return ex.json(405, { success: false, error: 'Method not allowed', data: null }, { allow: expected });
  if (ex.path === '/oauth/authorize') return routes.authorize(ex);
  return ex.path === '/oauth/token' ? routes.token(ex) : routes.revoke(ex);
}

const OAUTH_METHODS: Record<string, string> = { '/oauth/authorize': 'GET', '/oauth/token': 'POST', '/oauth/revoke': 'POST' };

/** One request and its answer; records the status it was answered with. */
export class Exchange {
  private params?: URLSearchParams;

  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly path: string,
    private readonly search: string,
    readonly entry: PipedriveEmulatorRequest,
  ) {}

  get query(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.search));
  }

  /** The media type without parameters, lower-cased. */
  get mediaType(): string {
    return (this.req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  }

  /** Resolves to undefined when the body is larger than Pipedrive would take. */
  readBody(): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      this.req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
      this.req.on('error', reject);
    });
  }

  send(status: number, body: string, headers: OutgoingHttpHeaders): void {
    this.entry.status = status;
    if (this.res.destroyed) return;
    headers['content-length'] = Buffer.byteLength(body);
    this.res.writeHead(status, headers);
    this.res.end(body);
  }

  json(status: number, value: unknown, headers: OutgoingHttpHeaders = {}): void {
    headers['content-type'] = JSON_TYPE;
    this.send(status, JSON.stringify(value), headers);
  }

  /** Sends a route's decision, its own headers first, then `headers` on top. */
  reply(reply: Reply, headers: OutgoingHttpHeaders = {}): void {
    const all = { ...reply.headers, ...headers };
    if (reply.body === undefined) return this.send(reply.status, '', all);
    this.json(reply.status, reply.body, all);
  }

  redirect(location: string): void {
    this.send(302, '', { location, 'cache-control': 'no-store' });
  }

  /** Drops the connection without an answer, as a crashed proxy would. */
  reset(): void {
    this.entry.status = 0;
    this.req.socket.destroy();
  }
}
