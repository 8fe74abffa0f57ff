import { request } from 'undici';
import { PipedriveEmulatorError } from '../emulator.errors.js';
import type { PipedriveEmulatorConnectOptions, PipedriveEmulatorConnected, PipedriveEmulatorUser } from '../emulator.types.js';
import type { PipedriveConnectedBody } from '../../auth/pipedrive-auth.controller.js';

/** A Nest application (listening), or anything else that can tell its base URL. */
export interface PipedriveEmulatorAppServer {
  /** The base URL the app listens on, as Nest's `app.getUrl()` gives it. */
  getUrl(): Promise<string>;
}

/** What the dance needs from the emulator. */
export interface ConnectSide {
  url: string;
  /** The authorize request carrying `state` is approved by `user`. */
  approveState(state: string, user: PipedriveEmulatorUser): void;
  forgetState(state: string): void;
  /** For an app whose redirect carries no state: `user` approves the next authorize request. */
  approveNext(user: PipedriveEmulatorUser): void;
}

/**
 * The browser's part of an OAuth connect, over real HTTP: start at the app, follow its redirect to
 * the emulator's authorize page, come back to the callback with the cookies the start set (the state
 * cookie), and keep the cookies the callback sets (the session). The callback goes to the path of the
 * registered redirect URI on the app's own origin. Plain HTTP, no test-runner imports, so it serves
 * Vitest and Jest alike.
 */
export async function connect(
  side: ConnectSide,
  app: PipedriveEmulatorAppServer | string,
  options: PipedriveEmulatorConnectOptions,
): Promise<PipedriveEmulatorConnected> {
  const { startPath = '/auth/pipedrive', ...user } = options;
  const base = (typeof app === 'string' ? app : await app.getUrl()).replace(/\/+$/, '');
  const started = await get(`${base}${startPath.startsWith('/') ? '' : '/'}${startPath}`);
  const authorizeUrl = expectRedirect(started, `GET ${startPath}`, "the emulator's /oauth/authorize");
  if (authorizeUrl.origin !== new URL(side.url).origin || authorizeUrl.pathname !== '/oauth/authorize') {
    throw new PipedriveEmulatorError(
      `GET ${startPath} redirected to ${authorizeUrl.origin}${authorizeUrl.pathname}, not to this emulator: set the module's oauthBaseUrl to emulator.url (${side.url}).`,
    );
  }
  const state = authorizeUrl.searchParams.get('state');
  if (state === null) side.approveNext(user);
  else side.approveState(state, user);
  try {
    const approved = await get(authorizeUrl.toString());
    const redirect = expectRedirect(approved, "The emulator's /oauth/authorize", "the app's callback");
    // Delivered to the app that started the flow, so it may listen on any port whatever its redirectUri says.
    const callbackUrl = new URL(`${redirect.pathname}${redirect.search}`, new URL(base).origin);
    const back = await get(callbackUrl.toString(), cookieHeader(started.setCookies));
    if (back.status !== 200 && (back.status < 300 || back.status > 399)) {
      throw new PipedriveEmulatorError(`The app's callback answered ${back.status}: ${back.text.slice(0, 300)}`);
    }
    const cookie = cookieHeader(back.setCookies);
    if (cookie === '') throw new PipedriveEmulatorError(`The app's callback answered ${back.status} but set no session cookie.`);
    return { cookie, connection: back.status === 200 ? connectionOf(back.text) : undefined };
  } finally {
    if (state !== null) side.forgetState(state);
  }
}

interface Got {
  status: number;
  location: string | undefined;
  setCookies: string[];
  text: string;
}

async function get(url: string, cookie?: string): Promise<Got> {
  const res = await request(url, { headers: cookie ? { cookie } : {} });
  const text = await res.body.text();
  const raw = res.headers['set-cookie'];
  const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const location = res.headers.location;
  return { status: res.statusCode, location: Array.isArray(location) ? location[0] : location, setCookies, text };
}

function expectRedirect(got: Got, what: string, where: string): URL {
  if (got.status < 300 || got.status > 399 || !got.location) {
    throw new PipedriveEmulatorError(`${what} answered ${got.status} instead of a redirect to ${where}: ${got.text.slice(0, 300)}`);
  }
  return new URL(got.location);
}

/** `name=value` of every cookie these Set-Cookie lines set, leaving out the ones they delete. */
function cookieHeader(setCookies: string[]): string {
  const pairs: string[] = [];
  for (const line of setCookies) {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const deleted = attributes.some((a) => /^max-age=(0|-\d+)$/i.test(a)) || pair.endsWith('=');
    if (!deleted && pair.includes('=')) pairs.push(pair);
  }
  return pairs.join('; ');
}

function connectionOf(text: string): PipedriveConnectedBody | undefined {
  try {
    return JSON.parse(text) as PipedriveConnectedBody;
  } catch {
    return undefined;
  }
}
