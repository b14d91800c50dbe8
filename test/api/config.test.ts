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
    expect(config.OTTO_ISSUER).toBe('http://localhost:3900');
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
    });
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
