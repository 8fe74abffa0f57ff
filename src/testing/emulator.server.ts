import { createServer, type Server } from 'node:http';
import { Exchange } from './http-exchange.js';
import type { RequestLog } from './request-log.js';

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
export function createEmulatorServer(routes: EmulatorRoutes, log: RequestLog, now: () => number): Server {
  return createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q + 1);
    const record = log.open(req.method ?? 'GET', path, search, req.headers, now());
    const ex = new Exchange(req, res, path, search, record);
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
