import { applyDecorators, type CanActivate, type ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { PipedriveClient } from '../client/pipedrive.client.js';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { TokenService } from '../tokens/token.service.js';
import {
  InjectPipedriveExtensionsOptions,
  PIPEDRIVE_EXTENSION_CONTEXT,
  PIPEDRIVE_EXTENSION_PAGE,
} from './pipedrive-extensions.constants.js';
import type { ResolvedPipedriveExtensionsOptions } from './pipedrive-extensions.options.js';
import { extensionFrameAncestors, setFrameAncestors } from './pipedrive-extension-framing.js';
import type { RequestWithExtension } from './pipedrive-extension.decorator.js';
import { PipedriveExtensionTokenVerifier, positiveId } from './pipedrive-extension-token.js';

/**
 * Lets a request through only with a valid Pipedrive extension token (see
 * {@link PipedriveExtensionTokenVerifier}) whose `companyId`/`userId` equal the query's, when the
 * query names them. Loads the stored connection of that (company, user) and leaves the context for
 * `@PipedriveExtension()`. Refusals are 401 `{ error: 'extension_token_required' | 'invalid_extension_token'
 * | 'extension_token_expired' | 'extension_token_not_yet_valid' | 'extension_token_mismatch' }`.
 * Use it directly on JSON panels and the iframe's API routes; `@PipedriveExtensionPage()` adds it to pages.
 * Extend it and override {@link getRequest} for other transports.
 */
@Injectable()
export class PipedriveExtensionGuard implements CanActivate {
  constructor(
    protected readonly verifier: PipedriveExtensionTokenVerifier,
    protected readonly tokens: TokenService,
    protected readonly pipedrive: PipedriveClient,
    protected readonly reflector: Reflector,
    @InjectPipedriveExtensionsOptions() protected readonly options: ResolvedPipedriveExtensionsOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = this.getRequest(context);
    if (this.reflector.getAllAndOverride<boolean>(PIPEDRIVE_EXTENSION_PAGE, [context.getHandler(), context.getClass()])) {
      // Before verifying, so the refusal itself can show inside Pipedrive's frame (it holds no data).
      const response = context.switchToHttp().getResponse<ServerResponse>();
      setFrameAncestors(response, extensionFrameAncestors(this.options));
      // The page's URL carries the token: keep it out of Referer headers to other sites and out of caches.
      response.setHeader('Referrer-Policy', 'same-origin');
      response.setHeader('Cache-Control', 'no-store');
    }
    const { claims, payload } = await this.verifier.verify(this.verifier.read(request));
    const query = new URL(request.url ?? '/', 'http://request.invalid').searchParams;
    for (const name of ['companyId', 'userId'] as const) {
      if (query.has(name) && positiveId(query.get(name)) !== claims[name]) {
        throw PipedriveAuthException.of(401, 'extension_token_mismatch', `The ${name} of the query does not match the extension token.`);
      }
    }
    const stored = await this.tokens.findConnectionByUser(claims.companyId, claims.userId);
    // A connection revoked (disconnect, uninstall) holds no tokens: the user has to connect again.
    const connection = stored && stored.status !== 'revoked' ? stored : null;
    const theme = query.get('theme');
    request[PIPEDRIVE_EXTENSION_CONTEXT] = {
      companyId: claims.companyId,
      userId: claims.userId,
      extensionId: query.get('id') ?? undefined,
      resource: query.get('resource') ?? undefined,
      view: query.get('view') ?? undefined,
      selectedIds: (query.get('selectedIds') ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
      isShared: query.has('isShared') ? query.get('isShared') === 'true' || query.get('isShared') === '1' : undefined,
      theme: theme === 'dark' || theme === 'light' ? theme : undefined,
      claims,
      payload,
      connection,
      client: connection ? this.pipedrive.forConnection(connection.id) : null,
    };
    return true;
  }

  /** The request carrying the token; override for non-HTTP contexts. */
  protected getRequest(context: ExecutionContext): RequestWithExtension {
    return context.switchToHttp().getRequest<RequestWithExtension>();
  }
}

/**
 * Marks a route as a page Pipedrive shows in an iframe (custom panel, modal, floating window,
 * settings page): the extension token is verified ({@link PipedriveExtensionGuard}) and the answer
 * carries `Content-Security-Policy: frame-ancestors https://*.pipedrive.com` (plus the configured
 * `frameAncestors`), so Pipedrive may frame it and no other site can.
 */
export const PipedriveExtensionPage = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PIPEDRIVE_EXTENSION_PAGE, true), UseGuards(PipedriveExtensionGuard));
