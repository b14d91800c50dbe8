/** The real API (createApp + the Temporal adapter) wired to a TestStack's emulator, queues and sealer. */
import type { Express } from 'express';
import request from 'supertest';
import { apiConfigSchema, type ApiConfig } from '../../api/config';
import { createTemporalSellerConnections, type SellerConnections } from '../../api/seller-connections';
import { loadConfig } from '../../common/config';
import type { SettingsOverrides } from '../../workflows/definitions';
import { PUBLIC_BASE_URL, REDIRECT_URI, type TestStack } from './stack';
import { assistantSession as openAssistantSession, type TestAssistantSession } from '../api/test-app';

export function stackApiConfig(
  stack: TestStack,
  keys: { admin: string; support?: string; stateKey: string },
): ApiConfig {
  return loadConfig(apiConfigSchema, stackApiEnv(stack, keys));
}

/** The API's environment for this stack (also what `api/index.ts` needs to serve it from a process). */
export function stackApiEnv(
  stack: TestStack,
  keys: { admin: string; support?: string; stateKey: string },
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    OTTO_CONNECT_ENV: 'dev',
    API_KEYS: [`admin:${keys.admin}`, ...(keys.support ? [`support:${keys.support}`] : [])].join(','),
    SEAL_KEYS: stack.sealKeys,
    STATE_SIGNING_KEY: keys.stateKey,
    TASK_QUEUE: stack.taskQueue,
    PUBLIC_BASE_URL,
    OTTO_AUTH_BASE_URL: stack.emulatorUrl,
    OTTO_API_BASE_URL: stack.emulatorUrl,
    OTTO_APPS: JSON.stringify(stack.apps),
    TEMPORAL_ADDRESS: stack.temporalAddress,
  };
}

/**
 * The real Temporal adapter on this stack: every seller workflow it starts carries `overrides` (default
 * none: the stack's workers resolve the rest).
 */
export function stackConnections(
  stack: TestStack,
  config: ApiConfig,
  overrides: SettingsOverrides = {},
): SellerConnections {
  return createTemporalSellerConnections({
    client: stack.env.client,
    taskQueue: stack.taskQueue,
    uiUrl: config.TEMPORAL_UI_URL,
    overrides,
    callTimeoutMs: 10_000,
  });
}

/** What a browser holds after walking the consent through the real API and OTTO (emulator). */
export interface BrowserConsent {
  /** The browser-binding cookie, as a `Cookie` header value. */
  cookie: string;
  /** OTTO's installation (or invitation) page the browser was sent to. */
  consentUrl: string;
  /** The `/oauth2/auth` URL our consent callback sent the browser to. */
  oauthUrl: string;
  /** The code callback's query parameters (code or error, state, iss). */
  params: Record<string, string>;
}

/**
 * A seller's browser, step by step, as the seller sees it: our consent link (the admin's authorizeUrl)
 * sets the cookie and sends the browser to OPC; the seller logs in and confirms the installation; OTTO
 * redirects to our callback without parameters; we send the browser to OTTO's login; the seller logs in;
 * OTTO redirects back with the code. Returns before the code callback, so a test decides how to deliver it.
 */
export async function walkConsent(
  stack: TestStack,
  app: Express,
  authorizeUrl: string,
  user: { username: string; password: string },
  options: { install?: boolean; decision?: 'confirm' | 'deny' } = {},
): Promise<BrowserConsent> {
  const start = new URL(authorizeUrl);
  const started = await request(app).get(`${start.pathname}${start.search}`);
  if (started.status !== 303) throw new Error(`consent link answered ${started.status}: ${started.text}`);
  const cookie = cookieOf(started.headers['set-cookie']);
  const consentUrl = String(started.headers.location);
  if (options.install !== false) {
    const { redirectTo } = await stack.admin<{ redirectTo: string }>('POST', '/consent', {
      authorizeUrl: consentUrl,
      username: user.username,
      password: user.password,
      decision: 'confirm',
    });
    if (redirectTo !== REDIRECT_URI) throw new Error(`OPC redirected to ${redirectTo}, not ${REDIRECT_URI}`);
  }
  const forwarded = await request(app).get('/oauth/callback').set('Cookie', cookie);
  if (forwarded.status !== 303)
    throw new Error(`consent callback answered ${forwarded.status}: ${forwarded.text}`);
  const oauthUrl = String(forwarded.headers.location);
  const params = await stack.consentAtOtto(oauthUrl, user, options.decision ?? 'confirm');
  return { cookie, consentUrl, oauthUrl, params };
}

/**
 * An assistant session for `sellerId` as the shop opens it on the real API: POST …/assistant-sessions
 * with the admin key, the browser opens the one-time link. `cookie` is the session cookie (a `Cookie`
 * header value); `formToken` the session's "Allow access" form token ('' when the page shows no form).
 */
export async function assistantSession(
  app: Express,
  sellerId: string,
  adminKey: string,
): Promise<TestAssistantSession> {
  return await openAssistantSession(app, sellerId, { adminKey });
}

/** The `name=value` of the first Set-Cookie header. */
export function cookieOf(setCookie: unknown): string {
  const first = Array.isArray(setCookie) ? (setCookie[0] as unknown) : setCookie;
  if (typeof first !== 'string') throw new Error('no cookie was set');
  return first.split(';')[0]!;
}
