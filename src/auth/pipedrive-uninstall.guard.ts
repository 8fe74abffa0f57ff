import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { hasClientCredentials } from './uninstall-request.js';

/**
 * Admits only Pipedrive's uninstall call: `Authorization: Basic base64(client_id:client_secret)`
 * of this app. Anything else gets 401 `invalid_client` before the body is even looked at.
 */
@Injectable()
export class PipedriveUninstallGuard implements CanActivate {
  constructor(@InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    if (!hasClientCredentials(request.headers.authorization, this.options.clientId, this.options.clientSecret)) {
      throw PipedriveAuthException.of(401, 'invalid_client', 'Uninstall calls must carry the app client credentials (HTTP Basic).');
    }
    return true;
  }
}
