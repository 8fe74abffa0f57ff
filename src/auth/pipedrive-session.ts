import { Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InjectPipedriveClock, type PipedriveClock } from '../pipedrive.clock.js';
import { InjectPipedriveOptions } from '../pipedrive.constants.js';
import type { ResolvedPipedriveOptions } from '../pipedrive-auth.options.js';
import { clearCookie, readCookie, writeCookie } from './cookies.js';
import { signSessionToken, verifySessionToken } from './session-token.js';

/**
 * The browser session: a signed, httpOnly, SameSite=Lax cookie naming the connection id.
 * No server-side state, so any instance with the same `sessionSecret` serves it.
 */
@Injectable()
export class PipedriveSession {
  constructor(
    @InjectPipedriveOptions() private readonly options: ResolvedPipedriveOptions,
    @InjectPipedriveClock() private readonly clock: PipedriveClock,
  ) {}

  /** Sets the session cookie for `connectionId` on the response. */
  start(response: ServerResponse, connectionId: string): void {
    const maxAge = this.options.sessionMaxAgeSeconds;
    const token = signSessionToken(connectionId, new Date(this.clock.now() + maxAge * 1000), this.options.sessionSecret);
    writeCookie(response, this.options.sessionCookieName, token, { secure: this.options.secureCookies, maxAge });
  }

  /** The connection id of a valid session cookie; undefined when absent, tampered with or expired. */
  connectionIdOf(request: IncomingMessage): string | undefined {
    const token = readCookie(request, this.options.sessionCookieName);
    return token ? verifySessionToken(token, this.options.sessionSecret, new Date(this.clock.now())) : undefined;
  }

  /** Whether the request carries a session cookie at all (valid or not). */
  hasCookie(request: IncomingMessage): boolean {
    return readCookie(request, this.options.sessionCookieName) !== undefined;
  }

  /** Deletes the session cookie in the browser. */
  end(response: ServerResponse): void {
    clearCookie(response, this.options.sessionCookieName, this.options.secureCookies);
  }
}
