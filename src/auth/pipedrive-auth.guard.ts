import { type ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import type { PipedriveConnection } from '../tokens/pipedrive-token.types.js';
import { toAuthException } from './auth-failure.js';
import { PIPEDRIVE_STRATEGY, PipedriveStrategy } from './pipedrive.strategy.js';

/**
 * Runs the Pipedrive OAuth flow on a route: without `code` it redirects to Pipedrive's authorize
 * page (setting the state cookie); with `code` it checks the state, exchanges the code, stores the
 * connection and puts it on `request.user`. Failures become JSON `{ statusCode, error, message }`
 * (`toAuthException`); add `@UseFilters(PipedriveExceptionFilter)` to honour `failureRedirect`.
 * Extend it and override `handleRequest` to map failures differently.
 */
@Injectable()
export class PipedriveAuthGuard extends AuthGuard('pipedrive') {
  constructor(
    @InjectPipedriveOptions() private readonly pipedriveOptions: ResolvedPipedriveOptions,
    private readonly strategy: PipedriveStrategy,
  ) {
    super();
  }

  /** Passport options of this request: the state store and, on the callback, the redirect target. */
  override getAuthenticateOptions(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<Request & { [PIPEDRIVE_STRATEGY]?: PipedriveStrategy }>();
    request[PIPEDRIVE_STRATEGY] = this.strategy;
    // No session: the connection travels in the signed cookie set by the controller.
    return { session: false };
  }

  /** Turns Passport's outcome into the connection, or throws the `PipedriveAuthException` it maps to. */
  override handleRequest<TUser = PipedriveConnection>(error: unknown, user: unknown, info: unknown): TUser {
    if (error || !user) throw toAuthException(error, info, this.pipedriveOptions.failureRedirect);
    return user as TUser;
  }
}
