import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PipedriveConnectService } from './pipedrive-connect.service.js';
import { carriesAnswer } from './pipedrive-passport.adapter.js';

/**
 * The OAuth flow on routes of your own (`controller: false`), one guard for both ends as
 * `@nestjs/passport`'s AuthGuard would: a request without Pipedrive's answer is sent to Pipedrive's
 * authorize page (the handler does not run); a request with `code` or `error` is completed by
 * {@link PipedriveConnectService.complete} (connection stored, session cookie set) and reaches the
 * handler with the connection on `request.user`. Failures answer `{ statusCode, error, message }` on
 * their own; add `@UseFilters(PipedriveExceptionFilter)` to honour `failureRedirect`.
 * For separate start and callback routes, inject PipedriveConnectService instead.
 */
@Injectable()
export class PipedriveAuthGuard implements CanActivate {
  constructor(private readonly connect: PipedriveConnectService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const [request, response] = [http.getRequest<Request>(), http.getResponse<Response>()];
    if (carriesAnswer(request)) {
      request.user = await this.connect.complete(request, response);
      return true;
    }
    await this.connect.start(request, response);
    // The redirect is sent: like AuthGuard, keep the handler (and Nest's own answer) from running.
    return new Promise<boolean>(() => {});
  }
}
