import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { PipedriveConfigurationError } from '../errors/pipedrive.errors.js';
import { PIPEDRIVE_CONNECTION_ID, type RequestWithConnection } from './pipedrive-session.guard.js';

/**
 * The signed-in user's connection id, for `PipedriveClient.forConnection()`.
 * Needs {@link PipedriveSessionGuard} on the route or controller, e.g.
 * `deals(@PipedriveConnectionId() id: string) { return this.pipedrive.forConnection(id).deals.all(); }`.
 */
export const PipedriveConnectionId = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const connectionId = context.switchToHttp().getRequest<RequestWithConnection>()[PIPEDRIVE_CONNECTION_ID];
  if (connectionId === undefined) {
    throw new PipedriveConfigurationError('@PipedriveConnectionId() needs @UseGuards(PipedriveSessionGuard) on the route.');
  }
  return connectionId;
});
