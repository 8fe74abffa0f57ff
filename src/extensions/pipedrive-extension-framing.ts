import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InjectPipedriveExtensionsOptions, PIPEDRIVE_FRAME_ANCESTOR } from './pipedrive-extensions.constants.js';
import type { ResolvedPipedriveExtensionsOptions } from './pipedrive-extensions.options.js';

/** Sets the framing policy of an answer; keeps the other directives of a CSP set earlier (e.g. by helmet). */
export function setFrameAncestors(response: ServerResponse, sources: readonly string[]): void {
  const existing = response.getHeader('content-security-policy');
  const others = String(existing ?? '')
    .split(';')
    .map((directive) => directive.trim())
    .filter((directive) => directive && !/^frame-ancestors\b/i.test(directive));
  response.setHeader('Content-Security-Policy', [...others, `frame-ancestors ${sources.join(' ')}`].join('; '));
  // X-Frame-Options cannot name several origins; CSP frame-ancestors overrides it in every current browser.
  if (sources[0] === "'none'") response.setHeader('X-Frame-Options', 'DENY');
  else response.removeHeader('X-Frame-Options');
}

/** Origins allowed to frame extension pages under these options. */
export function extensionFrameAncestors(options: ResolvedPipedriveExtensionsOptions): string[] {
  return [PIPEDRIVE_FRAME_ANCESTOR, ...options.frameAncestors];
}

/**
 * Makes every answer unframeable unless its route is an extension page (which widens the policy in
 * its guard, after this runs). Applied to all routes by PipedriveExtensionsModule.
 */
@Injectable()
export class PipedriveFramingMiddleware implements NestMiddleware {
  constructor(@InjectPipedriveExtensionsOptions() private readonly options: ResolvedPipedriveExtensionsOptions) {}

  use(_request: IncomingMessage, response: ServerResponse, next: () => void): void {
    if (this.options.denyFramingElsewhere) setFrameAncestors(response, ["'none'"]);
    next();
  }
}
