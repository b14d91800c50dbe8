/** A createApp() wired to the recording fake, with test configuration through the real config schema. */
import { connect } from 'node:net';
import request from 'supertest';
import type { App } from 'supertest/types';
import { createPkcePair } from '../../common/oauth';
import { loadConfig } from '../../common/config';
import { createSealer, generateSealKey } from '../../common/seal';
import { apiConfigSchema, type ApiConfig } from '../../api/config';
import { createApp } from '../../api/create-app';
import { createOpsApp } from '../../api/create-ops-app';
import { createMetrics } from '../../api/metrics';
import { createConsentCookies } from '../../api/consent-cookie';
import { createStateSigner } from '../../api/oauth-state';
import type { SellerStore } from '../../store/seller-store';
import type { Logger } from '../../common/logger';
import { FakeSellerConnections } from './fake-seller-connections';

export const ADMIN_KEY = 'test-admin-key-0001';
export const SUPPORT_KEY = 'test-support-key-0001';
export const SHOP_KEY = 'test-shop-key-0001';
export const STATE_KEY = 'test-state-signing-key-0123456789abcdef';
export const OTTO_AUTH = 'https://otto-auth.test';
/** The default OTTO_ISSUER: the Keycloak realm URL on the auth host. */
export const OTTO_ISSUER = `${OTTO_AUTH}/sec-api/auth/realms/otto-partner`;
export const INSTALL_V1 = 'https://otto-auth.test/opc/apps/app-v1/install';
export const PUBLIC_BASE_URL = 'https://connect.shop.test';
export const TEST_APPS = [
  {
    version: 'v1',
    appId: 'app-v1',
    clientId: 'client-v1',
    clientSecret: 'secret-v1',
    scopes: ['orders'],
    installationUrl: INSTALL_V1,
  },
  {
    // Private: consent needs an invitation link.
    version: 'v2',
    appId: 'app-v2',
    clientId: 'client-v2',
    clientSecret: 'secret-v2',
    scopes: ['orders', 'shipping-profiles'],
  },
];

export function testConfig(env: Record<string, string> = {}): ApiConfig {
  return loadConfig(apiConfigSchema, {
    NODE_ENV: 'test',
    OTTO_CONNECT_ENV: 'dev',
    API_KEYS: `admin:${ADMIN_KEY},support:${SUPPORT_KEY},shop:${SHOP_KEY}`,
    SEAL_KEYS: generateSealKey('t1'),
    STATE_SIGNING_KEY: STATE_KEY,
    OTTO_AUTH_BASE_URL: OTTO_AUTH,
    PUBLIC_BASE_URL,
    OTTO_APPS: JSON.stringify(TEST_APPS),
    ...env,
  });
}

export function testApp(
  options: {
    env?: Record<string, string>;
    now?: () => number;
    authLimit?: { maxFailures?: number; windowMs?: number };
    consentStartLimit?: { max: number; windowMs: number };
    /** The seller store behind the shop routes (none: they answer 503) and the spent assistant links. */
    store?: SellerStore;
    /** Structured logs (request lines, warnings) go here when given. */
    logger?: Logger;
  } = {},
) {
  const config = testConfig(options.env);
  const connections = new FakeSellerConnections();
  const sealer = createSealer(config.SEAL_KEYS);
  const metrics = createMetrics();
  const now = options.now ?? Date.now;
  const stateSigner = createStateSigner(STATE_KEY, { ttlMs: config.STATE_TTL, now });
  /** The same cookie codec the app uses (same key, TTL, name and clock): to read what it sets. */
  const consentCookies = createConsentCookies(config.STATE_SIGNING_KEY, {
    ttlMs: config.CONSENT_COOKIE_TTL,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    now,
  });
  const errors: unknown[] = [];
  const app = createApp({
    config,
    connections,
    sealer,
    metrics,
    stateSigner,
    now,
    ...(options.authLimit ? { authLimit: options.authLimit } : {}),
    ...(options.consentStartLimit ? { consentStartLimit: options.consentStartLimit } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    log: { error: (...args: unknown[]) => errors.push(args) },
  });
  /** The ops server's app (/healthz, /readyz, /metrics), sharing the metrics and connections. */
  const opsApp = createOpsApp({
    connections,
    metrics,
    ...(options.logger ? { logger: options.logger } : {}),
    log: { error: (...args: unknown[]) => errors.push(args) },
  });
  return { app, opsApp, config, connections, sealer, metrics, stateSigner, consentCookies, errors };
}

const consentCookies = createConsentCookies(STATE_KEY, { ttlMs: 3_600_000, publicBaseUrl: PUBLIC_BASE_URL });

/** The `Set-Cookie` headers of a response (supertest gives a string, an array or nothing). */
export function setCookiesOf(res: { headers: Record<string, unknown> }): string[] {
  const raw = res.headers['set-cookie'] as string | string[] | undefined;
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

/** The consent cookie a response sets, as name, value and attributes; undefined when it sets none. */
export function consentCookieSet(
  res: { headers: Record<string, unknown> },
  name = consentCookies.name,
): { value: string; attributes: string[]; header: string; cookie: string } | undefined {
  const header = setCookiesOf(res).find((h) => h.startsWith(`${name}=`));
  if (header === undefined) return undefined;
  const [pair, ...attributes] = header.split(';').map((p) => p.trim());
  const value = pair!.slice(name.length + 1);
  return { value, attributes, header, cookie: `${name}=${value}` };
}

/** The browser-binding cookie "Allow access" would have set, as a `Cookie` request header value. */
export function consentCookie(
  sellerId: string,
  nonce: string,
  appVersion: 'v1' | 'v2' = 'v1',
  extra: { codeChallenge?: string; consentUrl?: string } = {},
): string {
  const { value } = consentCookies.issue({
    sellerId,
    appVersion,
    nonce,
    consentUrl: extra.consentUrl ?? INSTALL_V1,
    ...(extra.codeChallenge === undefined ? {} : { codeChallenge: extra.codeChallenge }),
  });
  return `${consentCookies.name}=${value}`;
}

/**
 * A fresh, valid state for a seller, as the consent callback would have issued it, and the cookie of
 * the browser that clicked "Allow access" (send it with `.set('Cookie', cookie)`).
 */
export function validState(
  signer: ReturnType<typeof createStateSigner>,
  sellerId: string,
  appVersion: 'v1' | 'v2' = 'v1',
) {
  const nonce = createPkcePair().verifier.slice(0, 32);
  return {
    nonce,
    state: signer.sign({ sellerId, appVersion, nonce }),
    cookie: consentCookie(sellerId, nonce, appVersion),
  };
}

/** A browser's assistant session: the shop's one-time link, opened. */
export interface TestAssistantSession {
  /** The session cookie as a `Cookie` request header value (`name=value`). */
  cookie: string;
  /** The `Set-Cookie` header the link answered with. */
  setCookie: string;
  /** The form token of the session's "Allow access" forms, read from the assistant page. */
  formToken: string;
  /** The one-time link (already spent). */
  url: string;
  expiresAt: string;
}

/**
 * What the shop's backend and the seller's browser do to open the assistant: POST …/assistant-sessions
 * with the admin key, open the one-time link (sets the session cookie), load the assistant page and read
 * the form token from its "Allow access" form.
 */
export async function assistantSession(
  app: App,
  sellerId: string,
  options: { adminKey?: string; body?: Record<string, unknown> } = {},
): Promise<TestAssistantSession> {
  const created = await request(app)
    .post(`/api/sellers/${encodeURIComponent(sellerId)}/assistant-sessions`)
    .set('Authorization', `Bearer ${options.adminKey ?? ADMIN_KEY}`)
    .send(options.body ?? {});
  if (created.status !== 201)
    throw new Error(`creating an assistant session answered ${created.status}: ${created.text}`);
  const { url, expiresAt } = created.body as { url: string; expiresAt: string };
  const link = new URL(url);
  const opened = await request(app).get(`${link.pathname}${link.search}`);
  if (opened.status !== 303) throw new Error(`the assistant link answered ${opened.status}: ${opened.text}`);
  const setCookie = setCookiesOf(opened).find((h) => /^(__Host-)?otto-assistant=/.test(h));
  if (!setCookie) throw new Error('the assistant link set no session cookie');
  const cookie = setCookie.split(';')[0]!;
  const page = await request(app).get('/assistant/otto').set('Cookie', cookie);
  return { cookie, setCookie, formToken: formTokenOf(page.text), url, expiresAt };
}

/** The form token of an assistant page's "Allow access" form ('' when the page has no form). */
export function formTokenOf(page: string): string {
  return /name="formToken" value="([^"]*)"/.exec(page)?.[1] ?? '';
}

/** supertest types bodies as `any`; these give tests a typed view of the two shapes we answer. */
export interface ErrorJson {
  error: { code: string; message: string; details?: unknown };
}
export const errorOf = (res: { body: unknown }): ErrorJson['error'] => (res.body as ErrorJson).error;
export const bodyOf = <T>(res: { body: unknown }): T => res.body as T;

/** A raw HTTP answer: the status, the head (status line and headers) and the body, as text. */
export interface RawResponse {
  status: number;
  head: string;
  body: string;
}

/**
 * Sends `bytes` to `port` exactly as given (requests supertest and fetch would not send) and reads
 * until the server closes the connection.
 */
export async function rawRequest(port: number, bytes: string): Promise<RawResponse> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${bytes.split('\r\n')[0]}`)));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const split = text.indexOf('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]),
        head: text.slice(0, split),
        body: text.slice(split + 4),
      });
    });
  });
}
