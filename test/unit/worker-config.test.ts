/**
 * The worker's configuration fails closed like the API's: without OTTO_CONNECT_ENV=dev (whatever
 * NODE_ENV says) SEAL_KEYS and OTTO_APPS are required, the OTTO hosts and PUBLIC_BASE_URL have no default
 * and must be https, weak seal keys are refused; each refusal names the variable, never the value.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../common/config';
import { generateSealKey } from '../../common/seal';
import { loadWorkerConfig, workerConfigSchema } from '../../worker/config';
import { tempDirs } from '../support/temp-dirs';

const CLIENT_SECRET = 'otto-client-secret-7f3a9c1e07b2d485';
const APPS = JSON.stringify([
  { version: 'v1', appId: 'a1', clientId: 'c1', clientSecret: CLIENT_SECRET },
  {
    version: 'v2',
    appId: 'a2',
    clientId: 'c2',
    clientSecret: 's2',
    installationUrl: 'https://portal.otto.market/apps/a2/install',
  },
]);
const tempDir = tempDirs('worker-config-');

function productionEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    SEAL_KEYS: generateSealKey('prod1'),
    OTTO_APPS: APPS,
    OTTO_AUTH_BASE_URL: 'https://api.otto.market',
    OTTO_API_BASE_URL: 'https://api.otto.market',
    PUBLIC_BASE_URL: 'https://connect.shop.example',
  };
}

function messageOf(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('worker config', () => {
  it('without the dev flag refuses to start without secrets or OTTO hosts, and generates nothing', () => {
    for (const NODE_ENV of [undefined, 'development', 'production']) {
      const dataDir = tempDir();
      const message = messageOf(() => loadWorkerConfig({ NODE_ENV, DATA_DIR: dataDir }));
      for (const name of [
        'SEAL_KEYS',
        'OTTO_APPS',
        'OTTO_AUTH_BASE_URL',
        'OTTO_API_BASE_URL',
        'PUBLIC_BASE_URL',
      ])
        expect(message).toMatch(new RegExp(`^  ${name}: required`, 'm'));
      expect(message).toContain('SEAL_KEYS: required (set SEAL_KEYS or SEAL_KEYS_FILE');
      expect(readdirSync(dataDir)).toEqual([]);
    }
  });

  it('in dev fills the emulator URLs and generates the shared seal key ring once', () => {
    const dataDir = tempDir();
    const config = loadWorkerConfig({ OTTO_CONNECT_ENV: 'dev', OTTO_APPS: APPS, DATA_DIR: dataDir });
    expect(config.OTTO_AUTH_BASE_URL).toBe('http://localhost:3900');
    expect(config.OTTO_API_BASE_URL).toBe('http://localhost:3900');
    expect(config.PUBLIC_BASE_URL).toBe('http://localhost:3000');
    expect(config.SEAL_KEYS).toBe(readFileSync(join(dataDir, 'seal-keys'), 'utf8').trim());
    // Dev relaxations: an all-zero key and http URLs are accepted there (tests use them).
    expect(() =>
      loadWorkerConfig({
        OTTO_CONNECT_ENV: 'dev',
        OTTO_APPS: APPS,
        SEAL_KEYS: `k1:${Buffer.alloc(32).toString('base64')}`,
        OTTO_AUTH_BASE_URL: 'http://emulator:3900',
      }),
    ).not.toThrow();
  });

  it('accepts a production environment and keeps the client secrets (the worker exchanges codes)', () => {
    const config = loadWorkerConfig(productionEnv());
    expect(config.OTTO_CONNECT_ENV).toBe('production');
    expect(config.OTTO_APPS.map((a) => a.clientSecret)).toEqual([CLIENT_SECRET, 's2']);
    expect(loadConfig(workerConfigSchema, productionEnv()).OTTO_API_BASE_URL).toBe('https://api.otto.market');
  });

  it('OTTO_RATE_LIMIT_BACKOFF, OTTO_RATE_LIMIT_WAITS, OTTO_ORDERS_PAGE_SIZE: defaults 1 s, 3, 128; bounded', () => {
    const defaults = loadWorkerConfig(productionEnv());
    expect([
      defaults.OTTO_RATE_LIMIT_BACKOFF,
      defaults.OTTO_RATE_LIMIT_WAITS,
      defaults.OTTO_ORDERS_PAGE_SIZE,
    ]).toEqual([1_000, 3, 128]);
    const set = loadWorkerConfig({
      ...productionEnv(),
      OTTO_RATE_LIMIT_BACKOFF: '2s',
      OTTO_RATE_LIMIT_WAITS: '0',
      OTTO_ORDERS_PAGE_SIZE: '256',
    });
    expect([set.OTTO_RATE_LIMIT_BACKOFF, set.OTTO_RATE_LIMIT_WAITS, set.OTTO_ORDERS_PAGE_SIZE]).toEqual([
      2_000, 0, 256,
    ]);
    expect(messageOf(() => loadWorkerConfig({ ...productionEnv(), OTTO_ORDERS_PAGE_SIZE: '512' }))).toContain(
      'OTTO_ORDERS_PAGE_SIZE',
    );
    expect(messageOf(() => loadWorkerConfig({ ...productionEnv(), OTTO_RATE_LIMIT_WAITS: '-1' }))).toContain(
      'OTTO_RATE_LIMIT_WAITS',
    );
  });

  it('RETURN_STATUSES: any case, blanks and duplicates dropped; unset or empty reads every status; an unknown one is named', () => {
    expect(loadWorkerConfig(productionEnv()).RETURN_STATUSES).toBeUndefined();
    expect(loadWorkerConfig({ ...productionEnv(), RETURN_STATUSES: ' , ' }).RETURN_STATUSES).toEqual([]);
    expect(
      loadWorkerConfig({ ...productionEnv(), RETURN_STATUSES: 'announced, ACCEPTED,,Announced' })
        .RETURN_STATUSES,
    ).toEqual(['ANNOUNCED', 'ACCEPTED']);
    expect(
      messageOf(() => loadWorkerConfig({ ...productionEnv(), RETURN_STATUSES: 'ANNOUNCED,SENT' })),
    ).toMatch(
      /RETURN_STATUSES.*unknown return status "SENT" \(use ANNOUNCED, ACCEPTED, REJECTED, MISDIRECTED\)/,
    );
  });

  it.each([
    ['SEAL_KEYS', `k1:${Buffer.alloc(32).toString('base64')}`, /SEAL_KEYS: key k1 is all zero bytes/],
    [
      'SEAL_KEYS',
      `k1:${Buffer.alloc(32, 0x5a).toString('base64')}`,
      /SEAL_KEYS: key k1 is one repeated byte/,
    ],
    ['SEAL_KEYS', 'k1:c2hvcnQ=', /SEAL_KEYS: /],
    ['PUBLIC_BASE_URL', 'http://connect.shop.example', /PUBLIC_BASE_URL: must be an https:\/\/ URL/],
    ['OTTO_AUTH_BASE_URL', 'http://emulator:3900', /OTTO_AUTH_BASE_URL: must be an https:\/\/ URL/],
    ['OTTO_API_BASE_URL', 'http://emulator:3900', /OTTO_API_BASE_URL: must be an https:\/\/ URL/],
    [
      'OTTO_APPS',
      APPS.replace('https://portal', 'http://portal'),
      /OTTO_APPS: 1.installationUrl: must be an https:\/\/ URL/,
    ],
    ['OTTO_CONNECT_ENV', 'staging', /OTTO_CONNECT_ENV: must be dev or production/],
  ])('in production refuses %s = %s, naming it without echoing the value', (name, value, expected) => {
    const message = messageOf(() => loadWorkerConfig({ ...productionEnv(), [name]: value }));
    expect(message).toMatch(expected);
    for (const part of value.split(/[,:]/)) if (part.length >= 8) expect(message).not.toContain(part);
    expect(message).not.toContain(CLIENT_SECRET);
  });

  it('WEBHOOK_SECRET: one secret, or several (spaces or commas) while rotating; each checked, none echoed', () => {
    const secret = (fill: number, bytes = 32) => `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`;
    const hooks = { WEBHOOK_URL: 'https://shop.example/hooks' };
    const load = (value: string) => loadWorkerConfig({ ...productionEnv(), ...hooks, WEBHOOK_SECRET: value });
    expect(load(secret(1)).WEBHOOK_SECRET).toBe(secret(1));
    expect(load(`${secret(1)} ${secret(2)}`).WEBHOOK_SECRET).toBe(`${secret(1)} ${secret(2)}`);
    expect(load(`${secret(1)},${secret(2)}`).WEBHOOK_SECRET).toBe(`${secret(1)},${secret(2)}`);
    const refusals: Array<[string, RegExp]> = [
      ['whsec-not-base64', /WEBHOOK_SECRET: must be whsec_<base64> \(the Standard Webhooks format\)/],
      [secret(1, 16), /WEBHOOK_SECRET: must hold 24–64 random bytes \(Standard Webhooks\); it holds 16/],
      [`${secret(1)} ${secret(2, 80)}`, /WEBHOOK_SECRET: secret 2 of 2 must hold 24–64 random bytes/],
      [`${secret(1)}, nope`, /WEBHOOK_SECRET: secret 2 of 2 must be whsec_<base64>/],
      [`${secret(1)} ${secret(1)}`, /WEBHOOK_SECRET: names the same secret twice/],
      [[1, 2, 3, 4, 5].map((n) => secret(n)).join(' '), /WEBHOOK_SECRET: holds 5 secrets; at most 4/],
      [' , ', /WEBHOOK_SECRET: holds no secret/],
    ];
    for (const [value, expected] of refusals) {
      const message = messageOf(() => load(value));
      expect(message).toMatch(expected);
      for (const part of value.split(/[\s,]+/)) if (part.length >= 8) expect(message).not.toContain(part);
    }
  });

  it('WEBHOOK_URL: http(s) without credentials (fetch refuses to send to such a URL), never echoed', () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const load = (url: string) =>
      loadWorkerConfig({ ...productionEnv(), WEBHOOK_URL: url, WEBHOOK_SECRET: secret });
    expect(load('https://shop.example/hooks?x=1').WEBHOOK_URL).toBe('https://shop.example/hooks?x=1');
    const message = messageOf(() => load('https://shop:hunter2secret@shop.example/hooks'));
    expect(message).toMatch(/WEBHOOK_URL: must not carry a user name or password/);
    expect(message).not.toContain('hunter2secret');
    expect(messageOf(() => load('ftp://shop.example/hooks'))).toMatch(/WEBHOOK_URL/);
    // Not a URL at all: the config error names the variable (not a bare TypeError from the check above).
    expect(() => load('shop.example/hooks')).toThrow(ConfigError);
    expect(messageOf(() => load('shop.example/hooks'))).toMatch(/WEBHOOK_URL/);
  });

  it('reads SEAL_KEYS and OTTO_APPS from *_FILE, refusing both set or an unreadable file', () => {
    const dir = tempDir();
    const env = productionEnv();
    const sealFile = join(dir, 'seal-keys');
    const appsFile = join(dir, 'otto-apps.json');
    writeFileSync(sealFile, `${env.SEAL_KEYS}\n`);
    writeFileSync(appsFile, `${APPS}\r\n`);
    const { SEAL_KEYS, OTTO_APPS, ...rest } = env;
    const config = loadWorkerConfig({ ...rest, SEAL_KEYS_FILE: sealFile, OTTO_APPS_FILE: appsFile });
    expect(config.SEAL_KEYS).toBe(SEAL_KEYS);
    expect(config.OTTO_APPS.map((a) => a.clientId)).toEqual(['c1', 'c2']);
    expect(messageOf(() => loadWorkerConfig({ ...env, OTTO_APPS_FILE: appsFile }))).toContain(
      'OTTO_APPS: set either OTTO_APPS or OTTO_APPS_FILE, not both',
    );
    const unreadable = messageOf(() => loadWorkerConfig({ ...rest, OTTO_APPS, SEAL_KEYS_FILE: dir }));
    expect(unreadable).toMatch(/SEAL_KEYS_FILE: cannot read the file for SEAL_KEYS \(EISDIR\)/);
    expect(OTTO_APPS).toBe(APPS);
  });
});
