/**
 * The seller's path in a real browser (Debian's Chromium driven by playwright-core), the way OTTO connects
 * an app (docs/otto-api.md §2): the shop's backend opens an assistant session (admin API) and the browser
 * follows the one-time link; the assistant, "Allow access", OTTO's installation page (OPC login, the
 * consent screen listing the app's scopes, Confirm), OTTO's parameterless redirect to our callback, OTTO's
 * login (identity), the code callback, back to the assistant, and after a reload "authorization
 * completed"; the same for a private app's invitation link (single use); and a user without "Dienstleister
 * Freigaben" stopped by OPC itself. Everything runs for real: API on a socket, OTTO emulator, workers on
 * the shared Temporal dev server. Screenshots of each end state go to test-artifacts/.
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
import { apiConfigSchema } from '../../api/config';
import { createApp } from '../../api/create-app';
import { createTemporalSellerConnections } from '../../api/seller-connections';
import { defaultApps } from '../../emulator/options';
import { startEmulator, type RunningEmulator } from '../../emulator/start-emulator';
import { createWorkers, runWorkers } from '../../worker/create-workers';
import { connectTestEnv, uniqueName, workflowBundleCode } from '../support/temporal';

/** A Chromium or Chrome binary: CHROMIUM_PATH, else Debian's package (README, Prerequisites). */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
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
/** The emulator's apps as OTTO_APPS sees them. */
let apps: OttoApp[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      process.env.CHROMIUM_PATH
        ? `CHROMIUM_PATH names ${CHROMIUM}, which does not exist: point it at a Chromium or Chrome binary.`
        : `The browser test needs Chromium at ${CHROMIUM}: install Debian's package ("apt-get update && apt-get install -y chromium") or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
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

  // v1 public (an installation link), v2 private (invitation links only).
  emulator = await startEmulator({
    port: 0,
    apps: defaultApps([redirectUri]).map((app) =>
      app.version === 'v2' ? { ...app, visibility: 'private' as const } : app,
    ),
  });
  apps = (await (await fetch(`${emulator.url}/__admin/apps`)).json()) as OttoApp[];
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
    OTTO_CONNECT_ENV: 'dev',
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

const ADMIN = { Authorization: 'Bearer browser-admin-key-01', 'content-type': 'application/json' };

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

/**
 * The shop's backend opens the assistant for its logged-in seller: an assistant session with the app
 * version (and a private app's invitation link) it offers; answers the one-time link for the browser.
 */
async function assistantLink(
  sellerId: string,
  body: { appVersion: 'v1' | 'v2'; invitationUrl?: string },
): Promise<string> {
  const res = await fetch(`${apiUrl}/api/sellers/${sellerId}/assistant-sessions`, {
    method: 'POST',
    headers: ADMIN,
    body: JSON.stringify(body),
  });
  if (res.status !== 201)
    throw new Error(`creating an assistant session failed: ${res.status} ${await res.text()}`);
  const { url } = (await res.json()) as { url: string };
  return url;
}

/** The assistant's own URL, also with the seller id an older callback redirect appended. */
const assistantUrl = (sellerId: string) => (url: URL) =>
  url.origin === apiUrl &&
  url.pathname === '/assistant/otto' &&
  (url.search === '' || url.search === `?sellerId=${sellerId}`);

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

async function atOtto(page: Page, what: string): Promise<void> {
  await page.waitForURL(`${emulator.url}/**`, { timeout: 5000 }).catch(async (err) => {
    throw new Error(`not at ${what}: ${page.url()} says ${await page.locator('body').innerText()}`, {
      cause: err,
    });
  });
}

async function logIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.locator('input[name="username"]').fill(user.username);
  await page.locator('input[name="password"]').fill(user.password);
  await page.getByRole('button', { name: 'Anmelden' }).click();
}

/** The shop's link → the assistant → "Allow access" → OTTO's installation (or invitation) page → OPC login. */
async function allowAccessAndLogInAtOpc(
  page: Page,
  link: string,
  sellerId: string,
  user: { username: string; password: string },
) {
  // The one-time link sets the session cookie and redirects to the assistant of that seller.
  await page.goto(link);
  expect(page.url()).toBe(`${apiUrl}/assistant/otto`);
  await expectText(page, 'h1', 'Base settings – OTTO Market');
  await expectText(page, 'body', `Seller ${sellerId}`);
  await expectText(page, '#step-access h2', 'Allow access to OTTO');
  await page.getByRole('button', { name: 'Allow access' }).click();
  await atOtto(page, "OTTO's installation page");
  const consentPageUrl = page.url();
  await logIn(page, user);
  return consentPageUrl;
}

/** OPC's consent screen → Confirm → our callback → OTTO's login → code → back at the assistant. */
async function confirmInstallAndLogIn(
  page: Page,
  sellerId: string,
  user: { username: string; password: string },
  appScopes: string[],
) {
  await expectText(page, 'h1', 'App installieren');
  // The consent screen lists every scope of the app: all or nothing.
  expect(await page.locator('#scopes li').allInnerTexts()).toEqual(appScopes);
  await page.getByRole('button', { name: 'Confirm' }).click();
  // OTTO redirects to our callback without parameters; we send the browser on to OTTO's login.
  await page.waitForURL(`${emulator.url}/oauth2/auth?**`, { timeout: 5000 });
  await expectText(page, 'h1', 'Login');
  await logIn(page, user);
  await page.waitForURL(assistantUrl(sellerId));
  await expectText(page, 'h1', 'Base settings – OTTO Market');
  await reloadUntil(page, '#authorization-status');
  await expectText(page, '#authorization-status', 'authorization completed');
  await expectText(page, '#finalise', 'Done');
}

async function expectText(page: Page, selector: string, text: string): Promise<void> {
  expect(await page.locator(selector).first().innerText()).toContain(text);
}

const scopesOf = (version: string) => apps.find((a) => a.version === version)!.scopes;

describe('the assistant in a browser', () => {
  it('Allow access → OTTO installation (login, scopes, Confirm) → OTTO login → back → "authorization completed"', async () => {
    const page = await browser.newPage();
    const sellerId = uniqueName('browser-seller');
    const user = await createPartner({ dienstleisterFreigaben: true });
    // The shop offers the public v1 app to this seller, in an assistant session for this seller only.
    const link = await assistantLink(sellerId, { appVersion: 'v1' });
    expect(await allowAccessAndLogInAtOpc(page, link, sellerId, user)).toBe(
      apps.find((a) => a.version === 'v1')!.installationUrl,
    );
    await confirmInstallAndLogIn(page, sellerId, user, scopesOf('v1'));
    await page.screenshot({ path: join(ARTIFACTS, 'assistant-authorization-completed.png'), fullPage: true });

    // The same browser cannot open the assistant of another seller: not by naming it …
    const otherSeller = uniqueName('browser-seller');
    const other = await page.goto(`${apiUrl}/assistant/otto?sellerId=${otherSeller}`);
    expect(other?.status()).toBe(403);
    await expectText(page, '#error-message', 'belong to another seller');
    expect(await page.getByRole('button', { name: 'Allow access' }).count()).toBe(0);
    // … nor by posting "Allow access" naming it from the assistant's own origin: the seller comes from
    // the session, a seller id in the form is refused.
    // (The browser context's request API sends this browser's cookies, as a form post would.)
    const posted = await page.context().request.post(`${apiUrl}/assistant/otto/allow-access`, {
      form: { sellerId: otherSeller, appVersion: 'v1' },
      headers: { Origin: apiUrl },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(400);
    const statusOfOther = await fetch(`${apiUrl}/api/sellers/${otherSeller}/connection`, { headers: ADMIN });
    expect(statusOfOther.status).toBe(404);

    // The link worked once: opening it again is refused, and the session it set still shows this seller.
    const again = await page.goto(link);
    expect(again?.status()).toBe(410);
    await expectText(page, '#error-message', 'already been opened');
    await page.screenshot({ path: join(ARTIFACTS, 'assistant-link-used.png'), fullPage: true });
    await page.goto(`${apiUrl}/assistant/otto`);
    await expectText(page, '#authorization-status', 'authorization completed');
    await expectText(page, 'body', `Seller ${sellerId}`);

    // A browser without a session sees nobody's assistant, only where to open it.
    const stranger = await browser.newPage();
    const refused = await stranger.goto(`${apiUrl}/assistant/otto?sellerId=${sellerId}`);
    expect(refused?.status()).toBe(401);
    await expectText(stranger, '#error-message', 'open the OTTO Market settings from your shop');
    expect(await stranger.locator('body').innerText()).not.toContain('authorization completed');
    await stranger.screenshot({ path: join(ARTIFACTS, 'assistant-no-session.png'), fullPage: true });
    await stranger.close();
    await page.close();
  });

  it("a private app's invitation link works once: a second use is refused by OTTO", async () => {
    const page = await browser.newPage();
    const sellerId = uniqueName('browser-seller');
    const user = await createPartner({ dienstleisterFreigaben: true });
    const v2 = apps.find((a) => a.version === 'v2')!;
    const invitation = await fetch(`${emulator.url}/__admin/apps/${v2.appId}/invitations`, {
      method: 'POST',
    });
    expect(invitation.status).toBe(201);
    const { url: invitationUrl } = (await invitation.json()) as { url: string };
    // The shop hands the invitation link to the assistant session; "Allow access" opens it.
    const link = await assistantLink(sellerId, { appVersion: 'v2', invitationUrl });

    expect(await allowAccessAndLogInAtOpc(page, link, sellerId, user)).toBe(invitationUrl);
    await confirmInstallAndLogIn(page, sellerId, user, scopesOf('v2'));

    // The link was used up by the installation.
    const again = await page.goto(invitationUrl);
    expect(again?.status()).toBe(410);
    expect(await page.locator('body').innerText()).not.toContain('Anmelden');
    await page.screenshot({ path: join(ARTIFACTS, 'invitation-used.png'), fullPage: true });
    await page.close();
  });

  it('an OTTO user without "Dienstleister Freigaben" is stopped by OPC, which names the missing right', async () => {
    const page = await browser.newPage();
    const sellerId = uniqueName('browser-seller');
    const link = await assistantLink(sellerId, { appVersion: 'v1' });
    await allowAccessAndLogInAtOpc(
      page,
      link,
      sellerId,
      await createPartner({ dienstleisterFreigaben: false }),
    );

    const refusal = await page.locator('#refusal').innerText();
    expect(refusal).toContain('Dienstleister Freigaben');
    expect(refusal).not.toContain('admin rights');
    // OPC sends the browser nowhere: the seller's connection is still waiting for consent.
    await page.goto(`${apiUrl}/assistant/otto`);
    await expect(page.getByRole('button', { name: 'Allow access' }).count()).resolves.toBe(1);
    expect(await page.locator('#authorization-status').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'opc-missing-right.png'), fullPage: true });
    await page.close();
  });
});
