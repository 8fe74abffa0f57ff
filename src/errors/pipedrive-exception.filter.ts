import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { PipedriveError } from './pipedrive.errors.js';
import { PipedriveAuthException } from './pipedrive-auth.exception.js';
import { pipedriveErrorResponse } from './pipedrive-error.response.js';

/**
 * Answers library errors with a status and a JSON reason instead of Nest's generic 500:
 * re-authorization needed and unknown connection -> 401, Pipedrive down -> 502/504, rate limit -> 429,
 * database down -> 503.
 * Also performs the `failureRedirect` of OAuth callback failures.
 * Needs no injection: `app.useGlobalFilters(new PipedriveExceptionFilter())`, or `@UseFilters()` on a controller.
 */
@Catch(PipedriveError, PipedriveAuthException)
export class PipedriveExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('PipedriveExceptionFilter');

  catch(exception: PipedriveError | PipedriveAuthException, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<Response>();
    if (exception instanceof PipedriveAuthException) {
      if (exception.redirectTo) return response.redirect(302, exception.redirectTo);
      response.status(exception.getStatus()).json(exception.body);
      return;
    }
    const { body, headers } = pipedriveErrorResponse(exception);
    // Library messages hold no secrets (see PipedriveError), so they are safe to log.
    if (body.statusCode === 500) this.logger.error(`${exception.name}: ${exception.message}`, exception.stack);
    else if (body.statusCode > 500) this.logger.warn(`${exception.name}: ${exception.message}`);
    response.status(body.statusCode).set(headers ?? {}).json(body);
  }
}
