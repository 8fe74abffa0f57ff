import 'reflect-metadata';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../src/app/app.module.js';
import { configureApp } from '../src/app/configure-app.js';
import { SANDBOX_EMULATOR } from '../src/app/sandbox/sandbox.module.js';
import type { PipedriveEmulator } from '../src/testing/index.js';
import { freePort } from './support/free-port.js';

/** Debian's chromium; CI installs it (.ci/run). Override with CHROMIUM_PATH. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The flags this machine needs for a headless chromium (no sandbox in containers, no background traffic). */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = join(import.meta.dirname, 'artifacts', 'browser');

/**
 * A person using the reference app in sandbox mode, in a real (headless) chromium: connect from `/`,
 * see and add deals, open the deal panel inside the emulator's Pipedrive-like host page, add a note
 * from inside the iframe through the SDK's signed token, disconnect. Screenshots of each step go to
 * test/artifacts/browser/.
 */
describe('the reference app in a browser', () => {
  let app: INestApplication;
  let emulator: PipedriveEmulator;
  let appUrl: string;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  const shot = (name: string, target: Page = page) => target.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH. The browser tests cannot run without it.`,
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'npd-browser-'));
    const port = await freePort();
    // Sandbox mode exactly as `npm start` without credentials: the app starts its own emulator.
    const env = { NODE_ENV: 'test', PORT: String(port), PIPEDRIVE_SANDBOX: 'true', DATABASE_URL: `sqlite:${join(dir, 'app.sqlite')}` };
    app = configureApp(await NestFactory.create(AppModule.forRoot(env), { logger: ['error'] }));
    await app.listen(port);
    emulator = app.get<PipedriveEmulator>(SANDBOX_EMULATOR);
    appUrl = `http://localhost:${port}`;
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 860 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const company = () => emulator.authorizeUser.companyId;

  it('connects from the page at /', async () => {
    await page.goto(`${appUrl}/`);
    const connect = page.getByRole('link', { name: 'Connect Pipedrive' });
    await connect.waitFor();
    await shot('01-not-connected');
    await connect.click();
    // Pipedrive (the emulator) approves and sends the browser back through the callback to `/`.
    await page.locator('#user').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.locator('#company').textContent()).toContain(`company ${company()}`);
    expect(await page.locator('#deals tbody tr').count()).toBe(10);
    await shot('02-connected');
  });

  it('adds a deal', async () => {
    await page.getByLabel('Title').fill('Browser deal: rooftop solar');
    await page.getByLabel('Value').fill('1250');
    await page.getByRole('button', { name: 'Add deal' }).click();
    const row = page.locator('#deals tbody tr').first();
    await expect.poll(() => row.textContent()).toContain('Browser deal: rooftop solar');
    expect(await row.textContent()).toContain('1,250.00 EUR');
    const stored = emulator.records(company(), 'deals').find((deal) => deal.title === 'Browser deal: rooftop solar');
    expect(stored).toMatchObject({ value: 1250, currency: 'EUR' });
    await shot('03-deal-added');
  });

  it('shows the webhook event of the deal just added', async () => {
    const section = page.locator('#webhook-events');
    const newest = emulator.records(company(), 'deals').at(-1)!;
    await page.reload();
    await expect.poll(() => section.textContent()).toContain(`#${newest.id}`);
    await shot('04-webhook-events');
  });

  it('opens the deal panel inside the emulator’s host page and adds a note through the SDK', async () => {
    const deal = emulator.records(company(), 'deals').find((item) => item.title === 'Browser deal: rooftop solar')!;
    const demo = await page.locator('#panel-demo').getAttribute('href');
    expect(demo).toContain(encodeURIComponent(`${appUrl}/extensions/deal-panel`));
    await page.goto(demo!);
    await page.locator('#status[data-state="initialized"]').waitFor();
    const frame = page.frameLocator('#extension');
    expect(await frame.locator('#deal-title').textContent()).toBe(deal.title);
    expect(await frame.locator('#deal-value').textContent()).toContain('1,250.00 EUR');
    await shot('05-deal-panel');

    await frame.getByLabel('Add a note').fill('Site visit booked for Tuesday');
    await frame.getByRole('button', { name: 'Add note' }).click();
    await expect.poll(() => frame.locator('#notes').textContent()).toContain('Site visit booked for Tuesday');
    await expect.poll(() => page.locator('#snackbar').textContent()).toBe('Note added');
    const notes = emulator.records(company(), 'notes').filter((note) => note.deal_id === deal.id);
    expect(notes.map((note) => note.content)).toEqual(['Site visit booked for Tuesday']);
    await expect
      .poll(() => emulator.extensions.commands.map((entry) => `${entry.command}:${entry.outcome}`))
      .toEqual(expect.arrayContaining(['initialize:ok', 'get_signed_token:ok', 'resize:ok', 'show_snackbar:ok']));
    await shot('06-note-added');
  });

  it('disconnects', async () => {
    await page.goto(`${appUrl}/`);
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.getByRole('link', { name: 'Connect Pipedrive' }).waitFor();
    await shot('07-disconnected');
    // Inside Pipedrive the panel now asks to connect first, and shows no data.
    await page.goto(
      emulator.extensions.hostUrl({
        appUrl: `${appUrl}/extensions/deal-panel`,
        companyId: company(),
        userId: emulator.authorizeUser.userId,
        selectedIds: [1],
      }),
    );
    const frame = page.frameLocator('#extension');
    await frame.locator('#connect-first').waitFor();
    expect(await frame.locator('#deal-title').count()).toBe(0);
    await shot('08-panel-connect-first');
  });
});
