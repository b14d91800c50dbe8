/**
 * The seller's path in a real browser (Debian's Chromium driven by playwright-core): the assistant,
 * "Allow access", the emulator's OPC login and consent pages, back to the assistant, and after a reload
 * "authorization completed"; and a user without "Dienstleister Freigaben" sees which right is missing.
 * Everything runs for real: API on a socket, OTTO emulator, workers on the shared Temporal dev server.
 * Screenshots of each end state go to test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../common/config';
import type { OttoApp } from '../../common/otto-apps';
import { createSealer, generateSealKey, parseSealKeys } from '../../common/seal';
import { apiConfigSchema, workflowSettingsFrom } from '../../api/config';
import { createApp } from '../../api/create-app';
import { createTemporalSellerConnections } from '../../api/seller-connections';
import { startEmulator, type RunningEmulator } from '../../emulator/start-emulator';
import { createWorkers, runWorkers } from '../../worker/create-workers';
import { connectTestEnv, uniqueName, workflowBundleCode } from '../support/temporal';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '..', '..', 'test-artifacts');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

let apiServer: Server;
let apiUrl: string;
let emulator: RunningEmulator;
let env: TestWorkflowEnvironment;
let workers: Worker[] = [];
let running: Promise<void> | undefined;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser test needs Debian's Chromium at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium".`,
    );
  }
  mkdirSync(ARTIFACTS, { recursive: true });

  // The API's port must be known before the emulator registers its callback URL, so listen first and
  // plug the app in once everything it needs exists.
  let handler: RequestListener = (_req, res) => res.writeHead(503).end();
  apiServer = createServer((req, res) => handler(req, res));
  await new Promise<void>((done) => apiServer.listen(0, '127.0.0.1', done));
  apiUrl = `http://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  const redirectUri = `${apiUrl}/oauth/callback`;

  emulator = await startEmulator({ port: 0, redirectUris: [redirectUri] });
  const apps = (await (await fetch(`${emulator.url}/__admin/apps`)).json()) as OttoApp[];
  const sealKeys = generateSealKey('b1');
  const sealer = createSealer(parseSealKeys(sealKeys));
  const taskQueue = uniqueName('browser');
  const tokenTaskQueue = `${taskQueue}-tokens`;

  env = await connectTestEnv();
  workers = await createWorkers({
    connection: env.nativeConnection,
    taskQueue,
    tokenTaskQueue,
    tokenActivitiesPerSecond: 50,
    workflowBundle: { code: workflowBundleCode() },
    deps: { sealer, apps, authBaseUrl: emulator.url, apiBaseUrl: emulator.url, redirectUri },
  });
  running = runWorkers(workers);

  const config = loadConfig(apiConfigSchema, {
    NODE_ENV: 'test',
    API_KEYS: 'admin:browser-admin-key-01,support:browser-support-key-01',
    SEAL_KEYS: sealKeys,
    STATE_SIGNING_KEY: 'browser-test-state-key-0123456789abcdef',
    PUBLIC_BASE_URL: apiUrl,
    OTTO_AUTH_BASE_URL: emulator.url,
    OTTO_API_BASE_URL: emulator.url,
    OTTO_APPS: JSON.stringify(apps),
    TASK_QUEUE: taskQueue,
    TOKEN_TASK_QUEUE: tokenTaskQueue,
  });
  const connections = createTemporalSellerConnections({
    client: env.client,
    taskQueue,
    uiUrl: config.TEMPORAL_UI_URL,
    settings: workflowSettingsFrom(config),
    callTimeoutMs: 10_000,
  });
  handler = createApp({ config, connections });

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  await running;
  await emulator?.close();
  await new Promise<void>((done) => (apiServer ? apiServer.close(() => done()) : done()));
  await env?.teardown();
});

async function createPartner(user: { dienstleisterFreigaben: boolean }) {
  const username = uniqueName('opc');
  const password = `pw-${uniqueName('x')}`;
  const res = await fetch(`${emulator.url}/__admin/partners`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      users: [{ username, password, admin: true, dienstleisterFreigaben: user.dienstleisterFreigaben }],
    }),
  });
  if (!res.ok) throw new Error(`creating a partner failed: ${res.status} ${await res.text()}`);
  return { username, password };
}

/** Reloads until the page shows `selector`, failing with what the page said after `timeoutMs`. */
async function reloadUntil(page: Page, selector: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.reload();
    if ((await page.locator(selector).count()) > 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `${selector} did not appear within ${timeoutMs} ms; the page says: ${await page.locator('body').innerText()}`,
      );
    await page.waitForTimeout(250);
  }
}

async function allowAccessAndLogIn(
  page: Page,
  sellerId: string,
  user: { username: string; password: string },
) {
  await page.goto(`${apiUrl}/assistant/otto?sellerId=${sellerId}`);
  await expectText(page, 'h1', 'Base settings – OTTO Market');
  await expectText(page, '#step-access h2', 'Allow access to OTTO');
  await page.getByRole('button', { name: 'Allow access' }).click();
  // The emulator's OPC login page.
  await page.waitForURL(`${emulator.url}/**`, { timeout: 5000 }).catch(async (err) => {
    throw new Error(`not at OTTO's login: ${page.url()} says ${await page.locator('body').innerText()}`, {
      cause: err,
    });
  });
  await page.locator('input[name="username"]').fill(user.username);
  await page.locator('input[name="password"]').fill(user.password);
  await page.getByRole('button', { name: 'Anmelden' }).click();
}

async function expectText(page: Page, selector: string, text: string): Promise<void> {
  expect(await page.locator(selector).first().innerText()).toContain(text);
}

describe('the assistant in a browser', () => {
  it('Allow access → OTTO login and consent → back → reload → "authorization completed"', async () => {
    const page = await browser.newPage();
    const sellerId = uniqueName('browser-seller');
    await allowAccessAndLogIn(page, sellerId, await createPartner({ dienstleisterFreigaben: true }));

    await expectText(page, 'h1', 'App installieren');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${apiUrl}/assistant/otto?sellerId=${sellerId}`);
    await expectText(page, 'h1', 'Base settings – OTTO Market');

    await reloadUntil(page, '#authorization-status');
    await expectText(page, '#authorization-status', 'authorization completed');
    await expectText(page, '#finalise', 'Done');
    await page.screenshot({ path: join(ARTIFACTS, 'assistant-authorization-completed.png'), fullPage: true });
    await page.close();
  });

  it('an OTTO user without "Dienstleister Freigaben" is told exactly which right is missing', async () => {
    const page = await browser.newPage();
    const sellerId = uniqueName('browser-seller');
    await allowAccessAndLogIn(page, sellerId, await createPartner({ dienstleisterFreigaben: false }));

    // OTTO (the emulator) refuses and links back to us with error=access_denied.
    await expectText(page, '#refusal', 'Dienstleister Freigaben');
    await page.locator('#continue').click();
    await page.waitForURL(`${apiUrl}/assistant/otto?sellerId=${sellerId}`);

    await reloadUntil(page, '#missing-right');
    const note = await page.locator('#missing-right').innerText();
    expect(note).toContain('is missing: the permission “Dienstleister Freigaben”');
    expect(note).not.toContain('missing: admin rights');
    await expect(page.getByRole('button', { name: 'Allow access' }).count()).resolves.toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'assistant-missing-right.png'), fullPage: true });
    await page.close();
  });
});
