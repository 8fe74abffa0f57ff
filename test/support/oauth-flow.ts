import { request } from 'undici';
import type { ReferenceApp } from './reference-app.js';

export const SESSION_COOKIE = 'pipedrive_session';

export interface Connected {
  /** `name=value` of the session cookie, ready for a Cookie header. */
  session: string;
  body: { companyId: number; userId: number; apiDomain: string; scopes: string[]; status: string };
}

/** `name=value` pairs from Set-Cookie headers. */
export function cookiesOf(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const raw = headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return Object.fromEntries(
    list.map((line) => {
      const pair = line.split(';')[0]!;
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

export interface AuthorizeStep {
  /** Cookie header value the browser would send back (the state cookie). */
  cookie: string;
  /** The callback URL Pipedrive sent the browser to, with code and state (or error). */
  callbackUrl: string;
}

/** What a browser does up to Pipedrive's redirect back: start at the app, approve (or deny) at the emulator. */
export async function authorize(app: ReferenceApp): Promise<AuthorizeStep> {
  const start = await request(`${app.url}/auth/pipedrive`);
  await start.body.dump();
  if (start.statusCode !== 302) throw new Error(`GET /auth/pipedrive answered ${start.statusCode}`);
  const cookie = Object.entries(cookiesOf(start.headers))
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
  const approve = await request(String(start.headers.location));
  await approve.body.dump();
  if (approve.statusCode !== 302) throw new Error(`authorize answered ${approve.statusCode}`);
  return { cookie, callbackUrl: String(approve.headers.location) };
}

/** The whole browser flow; returns the session cookie and the callback's JSON. */
export async function connect(app: ReferenceApp): Promise<Connected> {
  const step = await authorize(app);
  const callback = await request(step.callbackUrl, { headers: { cookie: step.cookie } });
  const body = (await callback.body.json()) as Connected['body'];
  if (callback.statusCode !== 200) throw new Error(`callback answered ${callback.statusCode}: ${JSON.stringify(body)}`);
  const session = cookiesOf(callback.headers)[SESSION_COOKIE];
  if (!session) throw new Error('callback set no session cookie');
  return { session: `${SESSION_COOKIE}=${session}`, body };
}
