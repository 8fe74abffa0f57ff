import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse, serialize } from 'cookie';

/** Attributes every cookie of this library gets: out of reach of scripts, sent on top-level navigations only. */
export interface CookieAttributes {
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
}

/** Value of one cookie of the request; parses the header itself so no cookie-parser is needed. */
export function readCookie(request: IncomingMessage, name: string): string | undefined {
  const header = request.headers.cookie;
  return header ? parse(header)[name] : undefined;
}

/** Adds a Set-Cookie header, keeping any set earlier in the same response. */
export function writeCookie(response: ServerResponse, name: string, value: string, attributes: CookieAttributes): void {
  response.appendHeader(
    'Set-Cookie',
    serialize(name, value, { ...attributes, httpOnly: true, sameSite: 'lax', path: '/' }),
  );
}

/** Tells the browser to drop the cookie (same attributes, Max-Age=0). */
export function clearCookie(response: ServerResponse, name: string, secure: boolean): void {
  writeCookie(response, name, '', { secure, maxAge: 0 });
}
