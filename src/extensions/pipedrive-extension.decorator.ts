import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { PipedriveConnectionClient } from '../client/pipedrive-connection.client.js';
import { PipedriveConfigurationError, PipedriveExtensionNotConnectedError } from '../errors/pipedrive.errors.js';
import type { PipedriveConnection } from '../tokens/pipedrive-token.types.js';
import { PIPEDRIVE_EXTENSION_CONTEXT } from './pipedrive-extensions.constants.js';
import type { PipedriveExtensionClaims, PipedriveExtensionPayload } from './pipedrive-extension-token.js';

/** A request that passed PipedriveExtensionGuard: the verified context rides on it for `@PipedriveExtension()`. */
export type RequestWithExtension = IncomingMessage & { [PIPEDRIVE_EXTENSION_CONTEXT]?: PipedriveExtensionContext };

/** What Pipedrive told a verified extension request: who, where, and which records. */
export interface PipedriveExtensionContext {
  /** The Pipedrive company, from the verified token. */
  companyId: number;
  /** The Pipedrive user, from the verified token. */
  userId: number;
  /** `id` query parameter: the extension instance; the SDK needs it to talk to Pipedrive. */
  extensionId?: string;
  /** `resource` query parameter: `deal`, `person`, `organization`... */
  resource?: string;
  /** `view` query parameter: `details`, `list`... */
  view?: string;
  /** `selectedIds` query parameter, split on commas (the record the panel shows, or the list's selection). */
  selectedIds: string[];
  /** `isShared` query parameter: whether the app is installed for the whole company. */
  isShared?: boolean;
  /** `theme` query parameter. */
  theme?: 'light' | 'dark';
  /** The verified claims. */
  claims: PipedriveExtensionClaims;
  /** The whole verified payload. */
  payload: PipedriveExtensionPayload;
  /** The stored OAuth connection of this (company, user); null when the user never connected the app. */
  connection: PipedriveConnection | null;
  /** Pipedrive's API as that connection; null when there is none. */
  client: PipedriveConnectionClient | null;
}

/** The context of a user who has connected the app: connection and client are there. */
export interface PipedriveConnectedExtensionContext extends PipedriveExtensionContext {
  connection: PipedriveConnection;
  client: PipedriveConnectionClient;
}

/** Options of {@link PipedriveExtension}. */
export interface PipedriveExtensionDecoratorOptions {
  /**
   * Require a stored connection: without one the route fails with PipedriveExtensionNotConnectedError
   * (HTTP 403 `pipedrive_not_connected` through PipedriveExceptionFilter, or your own filter's "connect first" page).
   * @default true
   */
  connected?: boolean;
}

/**
 * The verified {@link PipedriveExtensionContext} of the request. Needs {@link PipedriveExtensionGuard}
 * (or `@PipedriveExtensionPage()`) on the route, e.g.
 * `panel(@PipedriveExtension() ext: PipedriveConnectedExtensionContext) { return ext.client.deals.get(...); }`.
 */
export const PipedriveExtension = createParamDecorator(
  (options: PipedriveExtensionDecoratorOptions | undefined, context: ExecutionContext): PipedriveExtensionContext => {
    const extension = context.switchToHttp().getRequest<RequestWithExtension>()[PIPEDRIVE_EXTENSION_CONTEXT];
    if (extension === undefined) {
      throw new PipedriveConfigurationError(
        '@PipedriveExtension() needs @UseGuards(PipedriveExtensionGuard) or @PipedriveExtensionPage() on the route.',
      );
    }
    if ((options?.connected ?? true) && extension.connection === null) {
      throw new PipedriveExtensionNotConnectedError(extension.companyId, extension.userId);
    }
    return extension;
  },
);
