import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { PipedriveExceptionFilter } from '../index.js';

/** What main.ts and the tests both apply to the app. */
export function configureApp<T extends INestApplication>(app: T): T {
  // helmet runs before routing, so its headers reach every answer: errors and 404s included. Its
  // X-Frame-Options and CSP are off: PipedriveExtensionsModule owns the framing policy (frame-ancestors
  // 'none' everywhere but the extension pages Pipedrive frames), and one app-wide CSP would fight it.
  app.use(helmet({ contentSecurityPolicy: false, frameguard: false }));
  app.use(noStore);
  app.useGlobalFilters(new PipedriveExceptionFilter(app.get(HttpAdapterHost)));
  app.enableShutdownHooks();
  return app;
}

/**
 * Every answer of this app is about a connected account (or an error about one), so none may be kept
 * by a browser or proxy cache; a route that serves something cacheable sets its own Cache-Control.
 */
function noStore(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
}
