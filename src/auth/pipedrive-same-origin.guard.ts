import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { PipedriveAuthException } from '../errors/pipedrive-auth.exception.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';

/** Methods that must not change state, so a cross-site request may make them (links, images, top-level navigations). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a state-changing request is refused as cross-site, or undefined when it may go on. Refused: a
 * browser saying `Sec-Fetch-Site: cross-site`, or an `Origin` other than one of `allowedOrigins` (`null`,
 * another scheme, host or port included). A request with neither header (server to server, curl) is not a
 * browser's cross-site request and goes on. Safe methods always go on.
 */
export function crossSiteRefusal(request: IncomingMessage, allowedOrigins: readonly string[]): string | undefined {
  if (SAFE_METHODS.has(request.method ?? 'GET')) return undefined;
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite === 'cross-site') return 'The browser says this request comes from another site.';
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedOrigins.includes(origin)) {
    return 'The request comes from another origin than this app.';
  }
  return undefined;
}

/**
 * Refuses cross-site state-changing requests (403 `cross_site_request`): put it on your own POST/PUT/PATCH/
 * DELETE routes that act on a browser's cookies. PipedriveSessionGuard runs the same check, so routes behind
 * the session are covered already. The app's own origins are `allowedOrigins` (default: the origin of
 * `redirectUri`). SameSite=Lax cookies already keep most cross-site requests cookieless; this also covers
 * same-site attackers (a sibling subdomain) and browsers without SameSite.
 */
@Injectable()
export class PipedriveSameOriginGuard implements CanActivate {
  constructor(@InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions) {}

  canActivate(context: ExecutionContext): boolean {
    assertSameOrigin(context.switchToHttp().getRequest<IncomingMessage>(), this.options.allowedOrigins);
    return true;
  }
}

/** Throws the 403 of {@link PipedriveSameOriginGuard} for a refused request. */
export function assertSameOrigin(request: IncomingMessage, allowedOrigins: readonly string[]): void {
  const refusal = crossSiteRefusal(request, allowedOrigins);
  if (refusal) throw PipedriveAuthException.of(403, 'cross_site_request', refusal);
}
