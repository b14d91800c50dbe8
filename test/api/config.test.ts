/** The API's configuration: dev defaults, production requirements, errors naming the variable. */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../common/config';
import { loadApiConfig, workflowSettingsFrom } from '../../api/config';

const APPS = JSON.stringify([{ version: 'v1', appId: 'a1', clientId: 'c1', clientSecret: 's1' }]);

describe('api config', () => {
  it('fills dev defaults and generates the state key once into the data dir', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-config-'));
    const config = loadApiConfig({ OTTO_APPS: APPS, DATA_DIR: dataDir });
    expect(config.PORT).toBe(3000);
    expect(config.API_KEYS).toEqual([
      { role: 'admin', key: 'dev-admin-key' },
      { role: 'support', key: 'dev-support-key' },
    ]);
    // OTTO's login is Keycloak: the issuer is the realm URL on the auth host, not the host itself.
    expect(config.OTTO_ISSUER).toBe('http://localhost:3900/sec-api/auth/realms/otto-partner');
    expect(config.OTTO_PORTAL_BASE_URL).toBe('http://localhost:3900');
    expect(config.OTTO_PKCE).toBe(true);
    expect(config.OTTO_SEND_REDIRECT_URI).toBe(true);
    expect(config.OTTO_PARTNER_ID_CLAIM).toEqual(['partner_id', 'partner']);
    expect(config.OTTO_INSTALLATION_TOKEN_SCOPE).toBe('');
    expect(config.OTTO_SHIPPING_PROFILES_SCOPE).toBe('shipping-profiles');
    expect(config.CONSENT_COOKIE_TTL).toBe(3_600_000);
    expect(config.STATE_TTL).toBe(15 * 60_000);
    expect(config.STATE_SIGNING_KEY).toBe(readFileSync(join(dataDir, 'state-signing-key'), 'utf8').trim());
    expect(statSync(join(dataDir, 'state-signing-key')).mode & 0o777).toBe(0o600);
    expect(loadApiConfig({ OTTO_APPS: APPS, DATA_DIR: dataDir }).STATE_SIGNING_KEY).toBe(
      config.STATE_SIGNING_KEY,
    );
    expect(workflowSettingsFrom(config)).toEqual({
      consentTimeoutMs: 24 * 3_600_000,
      tokenRefreshMarginMs: 300_000,
      tokenTaskQueue: 'otto-connect-tokens',
      latestAppVersion: 'v1',
      transferIntervalsMs: {
        ordersImport: 900_000,
        stockExport: 900_000,
        pricesExport: 86_400_000,
        returnsImport: 3_600_000,
        shippingProfilesSync: 3_600_000,
      },
      dailyTransferHour: 2,
      shippingProfilesScope: 'shipping-profiles',
    });
  });

  it('reads the OTTO flow switches and derives issuer and portal from the auth base URL', () => {
    const config = loadApiConfig({
      OTTO_APPS: APPS,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'api-config-')),
      OTTO_AUTH_BASE_URL: 'https://api.otto.market/some/path',
      OTTO_PKCE: 'off',
      OTTO_SEND_REDIRECT_URI: 'false',
      OTTO_PARTNER_ID_CLAIM: ' partnerId , sub ',
      OTTO_INSTALLATION_TOKEN_SCOPE: 'orders availability',
      OTTO_SHIPPING_PROFILES_SCOPE: 'shippingprofiles',
      CONSENT_COOKIE_TTL: '30m',
    });
    expect(config.OTTO_ISSUER).toBe('https://api.otto.market/sec-api/auth/realms/otto-partner');
    expect(config.OTTO_PORTAL_BASE_URL).toBe('https://api.otto.market/some/path');
    expect(config.OTTO_PKCE).toBe(false);
    expect(config.OTTO_SEND_REDIRECT_URI).toBe(false);
    expect(config.OTTO_PARTNER_ID_CLAIM).toEqual(['partnerId', 'sub']);
    expect(config.OTTO_INSTALLATION_TOKEN_SCOPE).toBe('orders availability');
    expect(config.CONSENT_COOKIE_TTL).toBe(30 * 60_000);
    expect(workflowSettingsFrom(config).shippingProfilesScope).toBe('shippingprofiles');

    const explicit = loadApiConfig({
      OTTO_APPS: APPS,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'api-config-')),
      OTTO_AUTH_BASE_URL: 'https://api.otto.market',
      OTTO_PORTAL_BASE_URL: 'https://portal.otto.market',
      OTTO_ISSUER: 'https://sso.otto.market/realms/x',
    });
    expect(explicit.OTTO_PORTAL_BASE_URL).toBe('https://portal.otto.market');
    expect(explicit.OTTO_ISSUER).toBe('https://sso.otto.market/realms/x');
  });

  it("reads a public app's installation link and refuses one that is not http(s)", () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-config-'));
    const apps = (installationUrl: string) =>
      JSON.stringify([{ version: 'v1', appId: 'a1', clientId: 'c1', clientSecret: 's1', installationUrl }]);
    const config = loadApiConfig({
      OTTO_APPS: apps('https://portal.otto.market/apps/a1/install'),
      DATA_DIR: dataDir,
    });
    expect(config.OTTO_APPS[0]?.installationUrl).toBe('https://portal.otto.market/apps/a1/install');
    expect(
      loadApiConfig({ OTTO_APPS: APPS, DATA_DIR: dataDir }).OTTO_APPS[0]?.installationUrl,
    ).toBeUndefined();
    expect(() => loadApiConfig({ OTTO_APPS: apps('javascript:alert(1)'), DATA_DIR: dataDir })).toThrow(
      /OTTO_APPS/,
    );
  });

  it('requires the secrets in production and names each missing variable', () => {
    const load = () => loadApiConfig({ NODE_ENV: 'production', OTTO_APPS: APPS });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/API_KEYS: required when NODE_ENV=production/);
    expect(load).toThrow(/SEAL_KEYS: required/);
    expect(load).toThrow(/STATE_SIGNING_KEY: required/);
  });

  it.each([
    ['API_KEYS', 'root:some-long-key-123', /API_KEYS: entry 1 must look like admin:<key>/],
    ['API_KEYS', 'admin:short', /API_KEYS: entry 1 \(admin\): the key must be at least 12/],
    ['STATE_SIGNING_KEY', 'too-short', /STATE_SIGNING_KEY: must be at least 32/],
    ['CONSENT_TIMEOUT', 'soon', /CONSENT_TIMEOUT: must be a duration/],
    ['PORT', 'eighty', /PORT:/],
    ['OTTO_ISSUER', 'not a url', /OTTO_ISSUER:/],
    ['OTTO_PORTAL_BASE_URL', 'portal', /OTTO_PORTAL_BASE_URL:/],
    ['OTTO_PKCE', 'maybe', /OTTO_PKCE: must be on or off/],
    ['OTTO_SEND_REDIRECT_URI', 'sometimes', /OTTO_SEND_REDIRECT_URI: must be on or off/],
    ['OTTO_PARTNER_ID_CLAIM', 'partner id', /OTTO_PARTNER_ID_CLAIM: must be a comma-separated list/],
    ['OTTO_PARTNER_ID_CLAIM', ' , ', /OTTO_PARTNER_ID_CLAIM: must be a comma-separated list/],
    ['CONSENT_COOKIE_TTL', 'forever', /CONSENT_COOKIE_TTL: must be a duration/],
  ])('refuses a bad %s without echoing it', (name, value, message) => {
    const load = () =>
      loadApiConfig({ OTTO_APPS: APPS, DATA_DIR: mkdtempSync(join(tmpdir(), 'api-config-')), [name]: value });
    expect(load).toThrow(message);
    try {
      load();
    } catch (err) {
      if (name !== 'PORT') expect((err as Error).message).not.toContain(value);
    }
  });
});
