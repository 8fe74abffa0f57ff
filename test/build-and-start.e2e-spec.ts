import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookiesOf, SESSION_COOKIE, STATE_COOKIE } from './support/browser-flow.js';
import { freePort } from './support/free-port.js';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist', 'main.js');

/**
 * `npm run build` then `node dist/main.js`, as README and `npm run start:prod` do: the compiled app
 * starts on a fresh directory in sandbox mode and a browser can connect; production refuses to start
 * without credentials. Runs in a temp working directory so no `.env` or `data/` of the checkout is used.
 */
describe('the built reference app', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'npd-dist-'));
  const children: ChildProcess[] = [];

  beforeAll(() => {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'pipe' });
  }, 300_000); // only a guard against a hang: a full compile takes minutes on a loaded 2-core machine
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  });

  function run(env: Record<string, string>) {
    const child = spawn(process.execPath, [MAIN], { cwd, env: { PATH: process.env.PATH ?? '', ...env } });
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    return { output: () => output, exited };
  }

  it('starts in sandbox mode with no configuration, and a browser can connect', async () => {
    const port = await freePort();
    const app = run({ PORT: String(port) });
    const base = `http://localhost:${port}`;
    await waitForHealth(base, app.output);
    expect(app.output()).toContain('SANDBOX MODE');

    const start = await request(`${base}/auth/pipedrive`);
    await start.body.dump();
    const stateCookie = `${STATE_COOKIE}=${cookiesOf(start.headers)[STATE_COOKIE]}`;
    const approve = await request(String(start.headers.location));
    await approve.body.dump();
    const callback = await request(String(approve.headers.location), { headers: { cookie: stateCookie } });
    expect(callback.statusCode, await callback.body.text()).toBe(200);
    const session = `${SESSION_COOKIE}=${cookiesOf(callback.headers)[SESSION_COOKIE]}`;
    const deals = await request(`${base}/pipedrive/deals`, { headers: { cookie: session } });
    expect(deals.statusCode).toBe(200);
    expect(((await deals.body.json()) as unknown[]).length).toBeGreaterThan(0);

    // The page at `/` and its assets are found from dist/ too (they live outside src/, in public/).
    const home = await request(`${base}/`, { headers: { cookie: session } });
    expect(home.statusCode).toBe(200);
    expect(await home.body.text()).toContain('id="disconnect"');
    for (const asset of ['app.css', 'home.js', 'deal-panel.js', 'app-extensions-sdk.js']) {
      const answer = await request(`${base}/assets/${asset}`);
      expect(answer.statusCode, asset).toBe(200);
      expect((await answer.body.text()).length, asset).toBeGreaterThan(100);
    }
  }, 60_000);

  it('refuses to start in production without credentials, naming what to set', async () => {
    const app = run({ NODE_ENV: 'production', PORT: String(await freePort()) });
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/Missing PIPEDRIVE_CLIENT_ID, PIPEDRIVE_CLIENT_SECRET, .*SESSION_SECRET/);
    expect(app.output()).not.toContain('SANDBOX');
  }, 30_000);
});

async function waitForHealth(base: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const health = await request(`${base}/health`);
      if (health.statusCode === 200) return void (await health.body.dump());
      await health.body.dump();
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`the app did not become healthy:\n${output()}`);
}
