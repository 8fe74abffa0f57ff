import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PipedriveConfigurationError, PipedriveError } from './pipedrive.errors.js';
import { PipedriveAuthException } from './pipedrive-auth.exception.js';
import { pipedriveErrorResponse } from './pipedrive-error.response.js';

/**
 * Answers library errors with a status and a JSON reason instead of Nest's generic 500:
 * re-authorization needed and unknown connection -> 401, Pipedrive down -> 502/504, rate limit -> 429,
 * database down -> 503. Also performs the `failureRedirect` of OAuth callback failures.
 * The library's own routes and guards answer their 4xx without it; install it for your own calls
 * through PipedriveClient. It answers through Nest's HTTP adapter, so it works on any platform:
 * `{ provide: APP_FILTER, useClass: PipedriveExceptionFilter }`, `@UseFilters(PipedriveExceptionFilter)`,
 * or `app.useGlobalFilters(new PipedriveExceptionFilter(app.get(HttpAdapterHost)))`.
 */
@Catch(PipedriveError, PipedriveAuthException)
export class PipedriveExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('PipedriveExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {
    if (!adapterHost) {
      throw new PipedriveConfigurationError(
        'PipedriveExceptionFilter needs the HTTP adapter: app.useGlobalFilters(new PipedriveExceptionFilter(app.get(HttpAdapterHost))), or register it as APP_FILTER.',
      );
    }
  }

  catch(exception: PipedriveError | PipedriveAuthException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (exception instanceof PipedriveAuthException) {
      if (exception.redirectTo) httpAdapter.redirect(response, 302, exception.redirectTo);
      else httpAdapter.reply(response, exception.body, exception.getStatus());
      return;
    }
    const { body, headers } = pipedriveErrorResponse(exception);
    // Library messages hold no secrets (see PipedriveError), so they are safe to log.
    if (body.statusCode === 500) this.logger.error(`${exception.name}: ${exception.message}`, exception.stack);
    else if (body.statusCode > 500) this.logger.warn(`${exception.name}: ${exception.message}`);
    for (const [name, value] of Object.entries(headers ?? {})) httpAdapter.setHeader(response, name, value);
    httpAdapter.reply(response, body, body.statusCode);
  }
}
