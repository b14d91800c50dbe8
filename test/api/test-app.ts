/** A createApp() wired to the recording fake, with test configuration through the real config schema. */
import { createPkcePair } from '../../common/oauth';
import { loadConfig } from '../../common/config';
import { createSealer, generateSealKey } from '../../common/seal';
import { apiConfigSchema, type ApiConfig } from '../../api/config';
import { createApp } from '../../api/create-app';
import { createMetrics } from '../../api/metrics';
import { createStateSigner } from '../../api/oauth-state';
import { FakeSellerConnections } from './fake-seller-connections';

export const ADMIN_KEY = 'test-admin-key-0001';
export const SUPPORT_KEY = 'test-support-key-0001';
export const STATE_KEY = 'test-state-signing-key-0123456789abcdef';
export const OTTO_AUTH = 'https://otto-auth.test';
export const PUBLIC_BASE_URL = 'https://connect.shop.test';
export const TEST_APPS = [
  { version: 'v1', appId: 'app-v1', clientId: 'client-v1', clientSecret: 'secret-v1', scopes: ['orders'] },
  {
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
    API_KEYS: `admin:${ADMIN_KEY},support:${SUPPORT_KEY}`,
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
    authLimit?: { maxFailures: number; windowMs: number };
  } = {},
) {
  const config = testConfig(options.env);
  const connections = new FakeSellerConnections();
  const sealer = createSealer(config.SEAL_KEYS);
  const metrics = createMetrics();
  const now = options.now ?? Date.now;
  const stateSigner = createStateSigner(STATE_KEY, { ttlMs: config.STATE_TTL, now });
  const errors: unknown[] = [];
  const app = createApp({
    config,
    connections,
    sealer,
    metrics,
    stateSigner,
    now,
    ...(options.authLimit ? { authLimit: options.authLimit } : {}),
    log: { error: (...args: unknown[]) => errors.push(args) },
  });
  return { app, config, connections, sealer, metrics, stateSigner, errors };
}

/** A fresh, valid state for a seller, as the consent start would have issued it. */
export function validState(
  signer: ReturnType<typeof createStateSigner>,
  sellerId: string,
  appVersion: 'v1' | 'v2' = 'v1',
) {
  const nonce = createPkcePair().verifier.slice(0, 32);
  return { nonce, state: signer.sign({ sellerId, appVersion, nonce }) };
}

/** supertest types bodies as `any`; these give tests a typed view of the two shapes we answer. */
export interface ErrorJson {
  error: { code: string; message: string; details?: unknown };
}
export const errorOf = (res: { body: unknown }): ErrorJson['error'] => (res.body as ErrorJson).error;
export const bodyOf = <T>(res: { body: unknown }): T => res.body as T;
