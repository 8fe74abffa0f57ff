import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { PipedriveExceptionFilter } from '../index.js';

/** Pages under this path are framed by Pipedrive (app extensions) and set their own frame-ancestors. */
const EXTENSION_PAGES = '/extensions/';

/** What main.ts and the tests both apply to the app. */
export function configureApp<T extends INestApplication>(app: T): T {
  // helmet runs before routing, so its headers reach every answer: errors and 404s included. Its
  // X-Frame-Options and CSP are off: one app-wide policy would forbid the extension pages that Pipedrive
  // frames; framing is refused below instead, for every page but those.
  app.use(helmet({ contentSecurityPolicy: false, frameguard: false }));
  app.use(noStoreNoFraming);
  app.useGlobalFilters(new PipedriveExceptionFilter(app.get(HttpAdapterHost)));
  app.enableShutdownHooks();
  return app;
}

/**
 * Every answer of this app is about a connected account (or an error about one), so none may be kept
 * by a browser or proxy cache; a route that serves something cacheable sets its own Cache-Control.
 */
function noStoreNoFraming(request: Request, response: Response, next: NextFunction): void {
  response.setHeader('Cache-Control', 'no-store');
  if (!request.path.startsWith(EXTENSION_PAGES)) response.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  next();
}
