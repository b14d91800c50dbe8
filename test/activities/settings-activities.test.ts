/**
 * Settings resolved by the worker (issue 14 item 3), without a server: the merge of the worker's
 * defaults, the seller's token queue (stable hash over TOKEN_TASK_QUEUES) and the seller's overrides;
 * refusals as non-retryable InvalidInput; and the worker configuration that feeds it.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  createSettingsActivities,
  resolveSettings,
  tokenTaskQueueFor,
  type SettingsActivityDeps,
} from '../../activities/settings-activities';
import { ConfigError, loadConfig } from '../../common/config';
import { generateSealKey } from '../../common/seal';
import { workerConfigSchema, workflowSettingsDefaultsFrom } from '../../worker/config';
import {
  sellerConnectionInputSchema,
  settingsOverridesSchema,
  workflowSettingsSchema,
  type SettingsOverrides,
} from '../../common/workflow-schemas';
import { FailureTypes } from '../../workflows/definitions';

const QUEUES = ['tokens-ip-a', 'tokens-ip-b', 'tokens-ip-c'];
const deps = (over: Partial<SettingsActivityDeps> = {}): SettingsActivityDeps => ({
  defaults: {},
  tokenTaskQueues: QUEUES,
  ...over,
});
const resolve = (overrides: SettingsOverrides = {}, d: SettingsActivityDeps = deps(), sellerId = 's-1') =>
  resolveSettings(d, { sellerId, overrides });

function failureOf(run: () => unknown): ApplicationFailure {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }
  throw new Error('the settings were accepted');
}

describe('tokenTaskQueueFor', () => {
  const sellers = Array.from({ length: 3000 }, (_, i) => `seller-${i}`);

  it('is stable, independent of the list order, and spreads sellers evenly', () => {
    const counts = new Map<string, number>();
    for (const seller of sellers) {
      const queue = tokenTaskQueueFor(seller, QUEUES);
      expect(tokenTaskQueueFor(seller, [...QUEUES].reverse())).toBe(queue);
      counts.set(queue, (counts.get(queue) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(QUEUES);
    for (const n of counts.values()) expect(n).toBeGreaterThan(850); // 1,000 each ± hashing noise
  });

  it('a new queue takes only sellers from the others (~1/n), never moves one between old queues', () => {
    const more = [...QUEUES, 'tokens-ip-d'];
    let moved = 0;
    for (const seller of sellers) {
      const before = tokenTaskQueueFor(seller, QUEUES);
      const after = tokenTaskQueueFor(seller, more);
      if (after !== before) {
        expect(after).toBe('tokens-ip-d');
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(600);
    expect(moved).toBeLessThan(900);
  });

  it('one queue: everyone on it; none: refused', () => {
    expect(tokenTaskQueueFor('x', ['only'])).toBe('only');
    expect(() => tokenTaskQueueFor('x', [])).toThrow(/at least one/);
  });
});

describe('resolveSettings', () => {
  it('a seller’s override cannot turn webhooks on where this worker has no WEBHOOK_URL', () => {
    // Before: the events waited for a worker that could deliver them, up to the 3-day window, in vain.
    expect(resolve({ webhooksEnabled: true }, deps({ webhooksAvailable: false })).webhooksEnabled).toBe(
      false,
    );
    expect(resolve({ webhooksEnabled: true }, deps()).webhooksEnabled).toBe(true);
    expect(
      resolve({}, deps({ defaults: { webhooksEnabled: true }, webhooksAvailable: true })).webhooksEnabled,
    ).toBe(true);
  });

  it('without defaults or overrides: the schema defaults and the seller’s hashed token queue', () => {
    const settings = resolve();
    expect(settings).toEqual(
      workflowSettingsSchema.parse({ tokenTaskQueue: tokenTaskQueueFor('s-1', QUEUES) }),
    );
    expect(QUEUES).toContain(settings.tokenTaskQueue);
  });

  it('defaults, then the hashed queue, then overrides; transfer intervals merged per kind', () => {
    const d = deps({
      defaults: {
        tokenRefreshMarginMs: 120_000,
        consentTimeoutMs: 3_600_000,
        webhooksEnabled: true,
        // A default queue loses to the configured list.
        tokenTaskQueue: 'ignored',
        transferIntervalsMs: { ordersImport: 2_000, returnsImport: null },
      },
    });
    const settings = resolve(
      {
        consentTimeoutMs: 60_000,
        transferIntervalsMs: { stockExport: 5_000, returnsImport: 7_000 },
        maxHistoryEvents: 60,
      },
      d,
    );
    expect(settings.tokenRefreshMarginMs).toBe(120_000); // default
    expect(settings.webhooksEnabled).toBe(true); // default
    expect(settings.consentTimeoutMs).toBe(60_000); // override
    expect(settings.maxHistoryEvents).toBe(60); // override
    expect(settings.tokenTaskQueue).toBe(tokenTaskQueueFor('s-1', QUEUES));
    expect(settings.transferIntervalsMs).toEqual({
      ordersImport: 2_000, // default
      stockExport: 5_000, // override
      pricesExport: 24 * 3_600_000, // schema default
      returnsImport: 7_000, // override beats the default's "off"
      shippingProfilesSync: 3_600_000, // schema default
    });
  });

  it('an override may switch a kind off, and an override’s token queue pins the seller', () => {
    const settings = resolve({
      tokenTaskQueue: 'tokens-ip-pinned',
      transferIntervalsMs: { ordersImport: null },
    });
    expect(settings.tokenTaskQueue).toBe('tokens-ip-pinned');
    expect(settings.transferIntervalsMs.ordersImport).toBeNull();
  });

  it('undefined values never overwrite a default', () => {
    const settings = resolve(
      { consentTimeoutMs: undefined, transferIntervalsMs: { ordersImport: undefined } },
      deps({ defaults: { consentTimeoutMs: 42_000, transferIntervalsMs: { ordersImport: 4_000 } } }),
    );
    expect(settings.consentTimeoutMs).toBe(42_000);
    expect(settings.transferIntervalsMs.ordersImport).toBe(4_000);
  });

  it('refuses a refresh margin of half the token life or more (non-retryable InvalidInput)', () => {
    expect(resolve({ tokenRefreshMarginMs: 15 * 60_000 - 1 }).tokenRefreshMarginMs).toBe(899_999);
    for (const margin of [15 * 60_000, 30 * 60_000, 45 * 60_000]) {
      const failure = failureOf(() => resolve({ tokenRefreshMarginMs: margin }));
      expect(failure.type).toBe(FailureTypes.invalidInput);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(/less than half the token's life/);
      expect(failure.message).toContain('s-1');
    }
    // Against a configured token life too.
    expect(() => resolve({ tokenRefreshMarginMs: 2_000 }, deps({ tokenLifetimeMs: 4_000 }))).toThrow(
      /less than half/,
    );
  });

  it('refuses invalid overrides and invalid merged settings, naming the field', () => {
    const bad = failureOf(() => resolve({ transferIntervalsMs: { ordersImport: 5 } }));
    expect(bad.type).toBe(FailureTypes.invalidInput);
    expect(bad.nonRetryable).toBe(true);
    expect(bad.message).toContain('transferIntervalsMs.ordersImport');
    const merged = failureOf(() => resolve({}, deps({ defaults: { maxEvents: 0 } })));
    expect(merged.message).toContain('maxEvents');
    expect(failureOf(() => resolve({ refreshJitterMs: -1 })).message).toContain('refreshJitterMs');
  });
});

describe('the overrides contract (workflows/definitions.ts)', () => {
  // The workflow carries its input's overrides across continue-as-new and hands them to resolveSettings:
  // if parsing filled in the schema's defaults, the worker's configuration could never win.
  it('the workflow input keeps only the overrides it names', () => {
    expect(settingsOverridesSchema.parse({ refreshJitterMs: 0 })).toEqual({ refreshJitterMs: 0 });
    expect(sellerConnectionInputSchema.parse({ sellerId: 's-1' }).overrides).toEqual({});
  });

  it('resolveSettings lets the worker’s defaults win over anything the overrides do not name', () => {
    const settings = resolve({ refreshJitterMs: 0 }, deps({ defaults: { maxHistoryEvents: 77 } }));
    expect(settings.maxHistoryEvents).toBe(77);
    expect(QUEUES).toContain(settings.tokenTaskQueue);
  });
});

describe('createSettingsActivities', () => {
  it('resolves through the activity', async () => {
    const activities = createSettingsActivities(deps());
    const activity = (input: Parameters<typeof activities.resolveSettings>[0]) =>
      activities.resolveSettings(input);
    const settings = await activity({ sellerId: 's-9', overrides: { refreshJitterMs: 0 } });
    expect(settings.refreshJitterMs).toBe(0);
    expect(settings.tokenTaskQueue).toBe(tokenTaskQueueFor('s-9', QUEUES));
    await expect(
      activity({ sellerId: 's-9', overrides: { tokenRefreshMarginMs: 20 * 60_000 } }),
    ).rejects.toThrow(ApplicationFailure);
  });

  it('refuses impossible defaults and an empty queue list at construction (the worker does not start)', () => {
    expect(() => createSettingsActivities(deps({ tokenTaskQueues: [] }))).toThrow(/at least one/);
    expect(() => createSettingsActivities(deps({ defaults: { tokenRefreshMarginMs: 20 * 60_000 } }))).toThrow(
      /less than half/,
    );
    expect(() => createSettingsActivities(deps({ defaults: { maxEvents: 0 } }))).toThrow(/maxEvents/);
  });
});

// ---- the worker's configuration feeding it ---------------------------------------------------------

const APPS = JSON.stringify([
  { version: 'v1', appId: 'a1', clientId: 'c1', clientSecret: 's1' },
  { version: 'v2', appId: 'a2', clientId: 'c2', clientSecret: 's2' },
]);
const devEnv = (env: Record<string, string> = {}) =>
  loadConfig(workerConfigSchema, {
    OTTO_CONNECT_ENV: 'dev',
    SEAL_KEYS: generateSealKey('t1'),
    OTTO_APPS: APPS,
    ...env,
  });

describe('worker config: the settings defaults', () => {
  it('has production defaults, one token queue unless TOKEN_TASK_QUEUES lists more', () => {
    const config = devEnv();
    expect(config.TOKEN_TASK_QUEUE).toBe('otto-connect-tokens');
    expect(config.TOKEN_TASK_QUEUES).toEqual(['otto-connect-tokens']);
    expect(workflowSettingsDefaultsFrom(config)).toEqual({
      consentTimeoutMs: 24 * 3_600_000,
      tokenRefreshMarginMs: 300_000,
      revocationConfirmWindowMs: 30 * 60_000,
      revocationProbeIntervalMs: 60 * 60_000,
      latestAppVersion: 'v2',
      transferIntervalsMs: {
        ordersImport: 900_000,
        stockExport: 900_000,
        pricesExport: 86_400_000,
        returnsImport: 3_600_000,
        shippingProfilesSync: 3_600_000,
      },
      dailyTransferHour: 2,
      shippingProfilesScope: 'shipping-profiles',
      webhooksEnabled: false,
    });
    // What the schema makes of them is what a seller without overrides runs with.
    expect(() =>
      createSettingsActivities({
        defaults: workflowSettingsDefaultsFrom(config),
        tokenTaskQueues: config.TOKEN_TASK_QUEUES,
      }),
    ).not.toThrow();
  });

  it('reads every moved variable', () => {
    const config = devEnv({
      TRANSFER_INTERVALS: 'ordersImport=2s,returnsImport=off',
      TOKEN_REFRESH_MARGIN_SECONDS: '600',
      PRICES_EXPORT_HOUR: '5',
      CONSENT_TIMEOUT: '2h',
      OTTO_SHIPPING_PROFILES_SCOPE: 'shippingprofiles',
      REVOCATION_CONFIRM_WINDOW: '45m',
      TOKEN_TASK_QUEUE: 'tokens-ip-b',
      TOKEN_TASK_QUEUES: ' tokens-ip-a, tokens-ip-b ,,tokens-ip-a',
      WEBHOOK_URL: 'https://shop.example/hooks',
      WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    });
    expect(config.TOKEN_TASK_QUEUES).toEqual(['tokens-ip-a', 'tokens-ip-b']);
    expect(config.TOKEN_TASK_QUEUE).toBe('tokens-ip-b');
    expect(workflowSettingsDefaultsFrom(config)).toMatchObject({
      consentTimeoutMs: 2 * 3_600_000,
      tokenRefreshMarginMs: 600_000,
      revocationConfirmWindowMs: 45 * 60_000,
      transferIntervalsMs: { ordersImport: 2_000, returnsImport: null },
      dailyTransferHour: 5,
      shippingProfilesScope: 'shippingprofiles',
      webhooksEnabled: true,
    });
  });

  it.each([
    [
      'TOKEN_REFRESH_MARGIN_SECONDS',
      '900',
      /TOKEN_REFRESH_MARGIN_SECONDS: the token refresh margin .* must be less than half/,
    ],
    ['TOKEN_REFRESH_MARGIN_SECONDS', '1800', /less than half the token's life/],
    ['TOKEN_REFRESH_MARGIN_SECONDS', '0', /TOKEN_REFRESH_MARGIN_SECONDS:/],
    ['TOKEN_TASK_QUEUES', ' , ', /TOKEN_TASK_QUEUES: must name at least one task queue/],
    ['TRANSFER_INTERVALS', 'ordersImport=soon', /TRANSFER_INTERVALS:/],
    ['REVOCATION_CONFIRM_WINDOW', 'later', /REVOCATION_CONFIRM_WINDOW: must be a duration/],
    ['PRICES_EXPORT_HOUR', '24', /PRICES_EXPORT_HOUR:/],
  ])('refuses %s=%s', (name, value, message) => {
    expect(() => devEnv({ [name]: value })).toThrow(ConfigError);
    expect(() => devEnv({ [name]: value })).toThrow(message);
  });

  it('accepts the largest margin below half the token life', () => {
    expect(devEnv({ TOKEN_REFRESH_MARGIN_SECONDS: '899' }).TOKEN_REFRESH_MARGIN_SECONDS).toBe(899);
  });
});
