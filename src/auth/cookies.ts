import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse, serialize } from 'cookie';

/** Attributes every cookie of this library gets: out of reach of scripts, sent on top-level navigations only. */
export interface CookieAttributes {
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

/**
 * The name a cookie is sent under: `__Host-<name>` when Secure, so the browser only accepts it from this
 * exact host over https, with Path=/ and no Domain: a sibling subdomain or a plain-http page cannot plant
 * or overwrite it (cookie tossing). Plain `<name>` over http, where browsers refuse the prefix.
 */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

/**
 * Value of one cookie of the request; parses the header itself so no cookie-parser is needed.
 * A name sent twice (a planted cookie beside ours, from a sibling domain or another path) counts as
 * missing: which one the browser lists first is not ours to trust.
 */
export function readCookie(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  let found: string | undefined;
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = pair.slice(at + 1).trim();
  }
  // The library decodes the value as it would in a whole header (quotes, %-escapes).
  return found === undefined ? undefined : parse(`${name}=${found}`)[name];
}

/** Adds a Set-Cookie header, keeping any set earlier in the same response. */
export function writeCookie(response: ServerResponse, name: string, value: string, attributes: CookieAttributes): void {
  response.appendHeader('Set-Cookie', serialize(name, value, { ...attributes, httpOnly: true, sameSite: 'lax', path: '/' }));
}

/** Tells the browser to drop the cookie (same attributes, Max-Age=0). */
export function clearCookie(response: ServerResponse, name: string, secure: boolean): void {
  writeCookie(response, name, '', { secure, maxAge: 0 });
}
