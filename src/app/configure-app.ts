import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PipedriveExceptionFilter } from '../index.js';

/** What main.ts and the tests both apply to the app. */
export function configureApp<T extends INestApplication>(app: T): T {
  app.useGlobalFilters(new PipedriveExceptionFilter(app.get(HttpAdapterHost)));
  app.enableShutdownHooks();
  return app;
}
