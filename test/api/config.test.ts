/**
 * The API's configuration: dev defaults only with OTTO_CONNECT_ENV=dev; without it (whatever NODE_ENV
 * says) every secret is required, published or weak keys and http:// URLs are refused, each refusal
 * naming the variable and never echoing the value; secrets from `<NAME>_FILE`; no client secret held.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../common/config';
import { generateSealKey } from '../../common/seal';
import { apiConfigSchema, loadApiConfig } from '../../api/config';
import { tempDirs } from '../support/temp-dirs';

const APPS = JSON.stringify([{ version: 'v1', appId: 'a1', clientId: 'c1', clientSecret: 's1' }]);
/** Dev: npm run dev and the tests set it; without it, production rules apply. */
const DEV = { OTTO_CONNECT_ENV: 'dev' } as const;
const tempDir = tempDirs('api-config-');

const ADMIN_KEY = 'f3a9c1e07b2d4856a1c9e3f7b0d2468a9c1e3f5b';
const SUPPORT_KEY = 'Zq8xW2mN5vB7kL0pR4tY6uI9oE3aS1dF';
const STATE_KEY = 'q2W9e4R7t1Y8u3I6o0P5a2S9d4F7g1H8';
const CLIENT_SECRET = 'otto-client-secret-7f3a9c1e07b2d485';
/** What a production deployment sets: strong secrets, https everywhere, no dev flag. */
function productionEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    API_KEYS: `admin:${ADMIN_KEY},support:${SUPPORT_KEY}`,
    SEAL_KEYS: generateSealKey('prod1'),
    STATE_SIGNING_KEY: STATE_KEY,
    PUBLIC_BASE_URL: 'https://connect.shop.example',
    OTTO_AUTH_BASE_URL: 'https://api.otto.market',
    OTTO_API_BASE_URL: 'https://api.otto.market',
    OTTO_APPS: JSON.stringify([
      {
        version: 'v1',
        appId: 'a1',
        clientId: 'c1',
        clientSecret: CLIENT_SECRET,
        installationUrl: 'https://portal.otto.market/apps/a1/install',
      },
    ]),
  };
}

function errorOf(load: () => unknown): Error {
  try {
    load();
  } catch (err) {
    return err as Error;
  }
  throw new Error('the configuration was accepted');
}

describe('api config', () => {
  it('fills dev defaults and generates the state key once into the data dir', () => {
    const dataDir = tempDir();
    const config = loadApiConfig({ ...DEV, OTTO_APPS: APPS, DATA_DIR: dataDir });
    expect(config.PORT).toBe(3000);
    expect(config.API_KEYS).toEqual([
      { role: 'admin', key: 'dev-admin-key' },
      { role: 'support', key: 'dev-support-key' },
      { role: 'shop', key: 'dev-shop-key' },
    ]);
    // OTTO's login is Keycloak: the issuer is the realm URL on the auth host, not the host itself.
    expect(config.OTTO_ISSUER).toBe('http://localhost:3900/sec-api/auth/realms/otto-partner');
    expect(config.OTTO_PORTAL_BASE_URL).toBe('http://localhost:3900');
    expect(config.OTTO_PKCE).toBe(true);
    expect(config.OTTO_SEND_REDIRECT_URI).toBe(true);
    expect(config.OTTO_PARTNER_ID_CLAIM).toEqual(['partner_id', 'partner']);
    expect(config.OTTO_INSTALLATION_TOKEN_SCOPE).toBe('');
    expect(config.CONSENT_COOKIE_TTL).toBe(3_600_000);
    expect(config.STATE_TTL).toBe(15 * 60_000);
    expect(config.STATE_SIGNING_KEY).toBe(readFileSync(join(dataDir, 'state-signing-key'), 'utf8').trim());
    expect(statSync(join(dataDir, 'state-signing-key')).mode & 0o777).toBe(0o600);
    expect(loadApiConfig({ ...DEV, OTTO_APPS: APPS, DATA_DIR: dataDir }).STATE_SIGNING_KEY).toBe(
      config.STATE_SIGNING_KEY,
    );
    // Sellers' workflow settings are the worker's configuration (worker/config.ts): the API reads none.
    for (const name of [
      'TRANSFER_INTERVALS',
      'TOKEN_REFRESH_MARGIN_SECONDS',
      'CONSENT_TIMEOUT',
      'PRICES_EXPORT_HOUR',
      'OTTO_SHIPPING_PROFILES_SCOPE',
      'TOKEN_TASK_QUEUE',
      'WEBHOOK_URL',
    ])
      expect(Object.keys(config)).not.toContain(name);
  });

  it('reads the OTTO flow switches and derives issuer and portal from the auth base URL', () => {
    const config = loadApiConfig({
      ...DEV,
      OTTO_APPS: APPS,
      DATA_DIR: tempDir(),
      OTTO_AUTH_BASE_URL: 'https://api.otto.market/some/path',
      OTTO_PKCE: 'off',
      OTTO_SEND_REDIRECT_URI: 'false',
      OTTO_PARTNER_ID_CLAIM: ' partnerId , sub ',
      OTTO_INSTALLATION_TOKEN_SCOPE: 'orders availability',
      CONSENT_COOKIE_TTL: '30m',
    });
    expect(config.OTTO_ISSUER).toBe('https://api.otto.market/sec-api/auth/realms/otto-partner');
    expect(config.OTTO_PORTAL_BASE_URL).toBe('https://api.otto.market/some/path');
    expect(config.OTTO_PKCE).toBe(false);
    expect(config.OTTO_SEND_REDIRECT_URI).toBe(false);
    expect(config.OTTO_PARTNER_ID_CLAIM).toEqual(['partnerId', 'sub']);
    expect(config.OTTO_INSTALLATION_TOKEN_SCOPE).toBe('orders availability');
    expect(config.CONSENT_COOKIE_TTL).toBe(30 * 60_000);

    const explicit = loadApiConfig({
      ...DEV,
      OTTO_APPS: APPS,
      DATA_DIR: tempDir(),
      OTTO_AUTH_BASE_URL: 'https://api.otto.market',
      OTTO_PORTAL_BASE_URL: 'https://portal.otto.market',
      OTTO_ISSUER: 'https://sso.otto.market/realms/x',
    });
    expect(explicit.OTTO_PORTAL_BASE_URL).toBe('https://portal.otto.market');
    expect(explicit.OTTO_ISSUER).toBe('https://sso.otto.market/realms/x');
  });

  it("reads a public app's installation link and refuses one that is not http(s)", () => {
    const dataDir = tempDir();
    const apps = (installationUrl: string) =>
      JSON.stringify([{ version: 'v1', appId: 'a1', clientId: 'c1', clientSecret: 's1', installationUrl }]);
    const config = loadApiConfig({
      ...DEV,
      OTTO_APPS: apps('https://portal.otto.market/apps/a1/install'),
      DATA_DIR: dataDir,
    });
    expect(config.OTTO_APPS[0]?.installationUrl).toBe('https://portal.otto.market/apps/a1/install');
    expect(
      loadApiConfig({ ...DEV, OTTO_APPS: APPS, DATA_DIR: dataDir }).OTTO_APPS[0]?.installationUrl,
    ).toBeUndefined();
    expect(() =>
      loadApiConfig({ ...DEV, OTTO_APPS: apps('javascript:alert(1)'), DATA_DIR: dataDir }),
    ).toThrow(/OTTO_APPS/);
  });

  it('without the dev flag, whatever NODE_ENV says, requires every secret and the URLs, and generates nothing', () => {
    for (const NODE_ENV of [undefined, 'development', 'test', 'production']) {
      const dataDir = tempDir();
      const load = () => loadApiConfig({ NODE_ENV, DATA_DIR: dataDir });
      expect(load).toThrow(ConfigError);
      const message = errorOf(load).message;
      for (const name of [
        'API_KEYS',
        'SEAL_KEYS',
        'STATE_SIGNING_KEY',
        'OTTO_APPS',
        'PUBLIC_BASE_URL',
        'OTTO_AUTH_BASE_URL',
        'OTTO_API_BASE_URL',
      ])
        expect(message).toMatch(new RegExp(`^  ${name}: required`, 'm'));
      expect(message).toContain('API_KEYS: required (set API_KEYS or API_KEYS_FILE');
      expect(readdirSync(dataDir)).toEqual([]);
    }
    // The schema itself, without the loader, requires them too (what the compose test checks).
    expect(() => loadApiConfig({ OTTO_CONNECT_ENV: 'production', OTTO_APPS: APPS })).toThrow(
      /API_KEYS: required/,
    );
  });

  it('refuses an unknown OTTO_CONNECT_ENV instead of guessing', () => {
    expect(() => loadApiConfig({ ...productionEnv(), OTTO_CONNECT_ENV: 'development' })).toThrow(
      /OTTO_CONNECT_ENV: must be dev or production/,
    );
  });

  it('accepts a production environment: strong keys, https, no dev defaults, all interfaces', () => {
    const config = loadApiConfig(productionEnv());
    expect(config.OTTO_CONNECT_ENV).toBe('production');
    expect(config.API_KEYS).toEqual([
      { role: 'admin', key: ADMIN_KEY },
      { role: 'support', key: SUPPORT_KEY },
    ]);
    expect(config.HOST).toBeUndefined();
    expect(loadApiConfig({ ...productionEnv(), HOST: '10.0.0.5' }).HOST).toBe('10.0.0.5');
    expect(config.OTTO_ISSUER).toBe('https://api.otto.market/sec-api/auth/realms/otto-partner');
    // Hex, base64 and base64url keys of 32+ characters pass, whatever the generator.
    for (const key of ['9f86d081884c7d659a2feaa0c55ad015', 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=']) {
      expect(loadApiConfig({ ...productionEnv(), API_KEYS: `admin:${key}` }).API_KEYS[0]?.key).toBe(key);
    }
  });

  it('in dev binds to loopback unless HOST says otherwise', () => {
    expect(loadApiConfig({ ...DEV, OTTO_APPS: APPS, DATA_DIR: tempDir() }).HOST).toBe('127.0.0.1');
    expect(loadApiConfig({ ...DEV, OTTO_APPS: APPS, DATA_DIR: tempDir(), HOST: '0.0.0.0' }).HOST).toBe(
      '0.0.0.0',
    );
  });

  const installation = (url: string) =>
    JSON.stringify([{ version: 'v1', appId: 'a1', clientId: 'c1', installationUrl: url }]);
  it.each([
    ['API_KEYS', 'admin:dev-admin-key', /API_KEYS: entry 1 \(admin\): the key is a published dev key/],
    [
      'API_KEYS',
      `admin:${ADMIN_KEY},support:dev-support-key`,
      /API_KEYS: entry 2 \(support\): the key is a published/,
    ],
    [
      'API_KEYS',
      'admin:dev-admin-key-0123456789abcdefghijkl',
      /API_KEYS: entry 1 \(admin\): the key is a published/,
    ],
    [
      'API_KEYS',
      'admin:k3y-0f-tw3lve',
      /API_KEYS: entry 1 \(admin\): the key must be at least 32 characters/,
    ],
    [
      'API_KEYS',
      'admin:Zq8xW2mN5vB7kL0pR4tY6uI9oE3aS1d',
      /API_KEYS: entry 1 \(admin\): the key must be at least 32/,
    ],
    ['API_KEYS', `admin:${'a'.repeat(40)}`, /API_KEYS: entry 1 \(admin\): the key is one repeated character/],
    [
      'API_KEYS',
      `admin:${'ab12'.repeat(10)}`,
      /API_KEYS: entry 1 \(admin\): the key repeats a short pattern/,
    ],
    [
      'API_KEYS',
      'admin:q7w3e9rr9e3w7qqw7e3r9rq9w3e7q7w3e9rwe',
      /API_KEYS: entry 1 \(admin\): the key uses fewer than 8 distinct/,
    ],
    [
      'API_KEYS',
      'admin:abcdefghijklmnopqrstuvwxyz0123456789',
      /API_KEYS: entry 1 \(admin\): the key is mostly a run/,
    ],
    ['SEAL_KEYS', `k1:${Buffer.alloc(32).toString('base64')}`, /SEAL_KEYS: key k1 is all zero bytes/],
    ['SEAL_KEYS', `k1:${Buffer.alloc(32, 7).toString('base64')}`, /SEAL_KEYS: key k1 is one repeated byte/],
    [
      'SEAL_KEYS',
      `${generateSealKey('new')},old:${Buffer.alloc(32, 0xab).toString('base64')}`,
      /SEAL_KEYS: key old is one repeated byte/,
    ],
    ['STATE_SIGNING_KEY', 'a'.repeat(32), /STATE_SIGNING_KEY: the key is one repeated character/],
    ['STATE_SIGNING_KEY', 'q2W9e4R7t1Y8u3I6o0P5a2S9d4F7g1H', /STATE_SIGNING_KEY: must be at least 32/],
    ['PUBLIC_BASE_URL', 'http://connect.shop.example', /PUBLIC_BASE_URL: must be an https:\/\/ URL/],
    ['OTTO_AUTH_BASE_URL', 'http://emulator:3900', /OTTO_AUTH_BASE_URL: must be an https:\/\/ URL/],
    ['OTTO_API_BASE_URL', 'http://localhost:3900', /OTTO_API_BASE_URL: must be an https:\/\/ URL/],
    ['OTTO_PORTAL_BASE_URL', 'http://portal.otto.market', /OTTO_PORTAL_BASE_URL: must be an https:\/\/ URL/],
    ['OTTO_ISSUER', 'http://api.otto.market/realm', /OTTO_ISSUER: must be an https:\/\/ URL/],
    [
      'OTTO_APPS',
      installation('http://portal.otto.market/apps/a1/install'),
      /OTTO_APPS: 0.installationUrl: must be an https:\/\/ URL/,
    ],
  ])(
    'in production refuses %s = %s, naming the variable without echoing the value',
    (name, value, message) => {
      const load = () => loadApiConfig({ ...productionEnv(), [name]: value });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(message);
      const text = errorOf(load).message;
      // No part of the value (key, key material, host) appears in the message.
      for (const part of value.split(/[,:]/)) if (part.length >= 8) expect(text).not.toContain(part);
      // The same value is fine in dev (the relaxations are dev-only), except a too-short state key.
      if (!/must be at least 32/.test(String(message)))
        expect(() => loadApiConfig({ ...productionEnv(), ...DEV, [name]: value })).not.toThrow();
    },
  );

  it('holds no OTTO client secret: apps with or without clientSecret, the secret dropped', () => {
    const config = loadApiConfig(productionEnv());
    expect(config.OTTO_APPS).toEqual([
      {
        version: 'v1',
        appId: 'a1',
        clientId: 'c1',
        scopes: [],
        installationUrl: 'https://portal.otto.market/apps/a1/install',
      },
    ]);
    expect(JSON.stringify(config)).not.toContain(CLIENT_SECRET);
    expect(Object.keys(config.OTTO_APPS[0]!)).not.toContain('clientSecret');
    const withoutSecrets = loadApiConfig({
      ...productionEnv(),
      OTTO_APPS: JSON.stringify([
        { version: 'v1', appId: 'a1', clientId: 'c1' },
        { version: 'v2', appId: 'a2', clientId: 'c2', scopes: ['orders'] },
      ]),
    });
    expect(withoutSecrets.OTTO_APPS.map((a) => a.clientId)).toEqual(['c1', 'c2']);
  });

  it('reads every secret from <NAME>_FILE (trailing newline trimmed) and refuses both or an unreadable file', () => {
    const dir = tempDir();
    const env = productionEnv();
    const files: Record<string, string> = {};
    for (const name of ['API_KEYS', 'SEAL_KEYS', 'STATE_SIGNING_KEY', 'OTTO_APPS']) {
      files[`${name}_FILE`] = join(dir, name.toLowerCase());
      writeFileSync(files[`${name}_FILE`]!, `${env[name]}\n`, { mode: 0o600 });
    }
    const {
      API_KEYS: _apiKeys,
      SEAL_KEYS: _sealKeys,
      STATE_SIGNING_KEY: _stateKey,
      OTTO_APPS: _apps,
      ...rest
    } = env;
    const config = loadApiConfig({ ...rest, ...files });
    expect(config.API_KEYS.map((k) => k.key)).toEqual([ADMIN_KEY, SUPPORT_KEY]);
    expect(config.STATE_SIGNING_KEY).toBe(STATE_KEY);
    expect(config.SEAL_KEYS.map((k) => k.kid)).toEqual(['prod1']);
    expect(config.OTTO_APPS.map((a) => a.clientId)).toEqual(['c1']);
    // The schema-level loader resolves files too.
    expect(loadConfig(apiConfigSchema, { ...rest, ...files }).STATE_SIGNING_KEY).toBe(STATE_KEY);
    // Files are checked like the variables: a weak key from a file is refused by its name.
    writeFileSync(files.STATE_SIGNING_KEY_FILE!, `${'z'.repeat(40)}\n`);
    expect(() => loadApiConfig({ ...rest, ...files })).toThrow(/STATE_SIGNING_KEY: the key is one repeated/);

    const both = () => loadApiConfig({ ...env, API_KEYS_FILE: files.API_KEYS_FILE });
    expect(both).toThrow(ConfigError);
    expect(both).toThrow(/API_KEYS: set either API_KEYS or API_KEYS_FILE, not both/);
    const missing = () => loadApiConfig({ ...rest, ...files, SEAL_KEYS_FILE: join(dir, 'nope') });
    expect(missing).toThrow(/SEAL_KEYS_FILE: cannot read the file for SEAL_KEYS \(ENOENT\)/);
    expect(errorOf(both).message).not.toContain(ADMIN_KEY);
    // In dev, a key from a file wins over the generated one.
    expect(
      loadApiConfig({ ...DEV, OTTO_APPS: APPS, DATA_DIR: dir, API_KEYS_FILE: files.API_KEYS_FILE })
        .API_KEYS[0]?.key,
    ).toBe(ADMIN_KEY);
  });

  it.each([
    ['API_KEYS', 'root:some-long-key-123', /API_KEYS: entry 1 must look like admin:<key>/],
    ['API_KEYS', 'admin:short', /API_KEYS: entry 1 \(admin\): the key must be 12–512 printable/],
    // Keys a request could never present (api/auth.ts): over 512 characters, or not printable ASCII.
    [
      'API_KEYS',
      `admin:${ADMIN_KEY.repeat(20).slice(0, 513)}`,
      /API_KEYS: entry 1 \(admin\): the key must be 12–512/,
    ],
    [
      'API_KEYS',
      `admin:${ADMIN_KEY}ü`,
      /API_KEYS: entry 1 \(admin\): the key must be 12–512 printable ASCII/,
    ],
    ['STATE_SIGNING_KEY', 'too-short', /STATE_SIGNING_KEY: must be at least 32/],
    ['STATE_TTL', 'soon', /STATE_TTL: must be a duration/],
    ['PORT', 'eighty', /PORT:/],
    ['OTTO_ISSUER', 'not a url', /OTTO_ISSUER:/],
    ['OTTO_PORTAL_BASE_URL', 'portal', /OTTO_PORTAL_BASE_URL:/],
    ['OTTO_PKCE', 'maybe', /OTTO_PKCE: must be on or off/],
    ['OTTO_SEND_REDIRECT_URI', 'sometimes', /OTTO_SEND_REDIRECT_URI: must be on or off/],
    ['OTTO_PARTNER_ID_CLAIM', 'partner id', /OTTO_PARTNER_ID_CLAIM: must be a comma-separated list/],
    ['OTTO_PARTNER_ID_CLAIM', ' , ', /OTTO_PARTNER_ID_CLAIM: must be a comma-separated list/],
    ['CONSENT_COOKIE_TTL', 'forever', /CONSENT_COOKIE_TTL: must be a duration/],
  ])('refuses a bad %s without echoing it', (name, value, message) => {
    const load = () => loadApiConfig({ ...DEV, OTTO_APPS: APPS, DATA_DIR: tempDir(), [name]: value });
    expect(load).toThrow(message);
    try {
      load();
    } catch (err) {
      if (name !== 'PORT') expect((err as Error).message).not.toContain(value);
    }
  });
});
