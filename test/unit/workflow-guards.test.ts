/**
 * The workflow's hand-written checks (workflows/guards.ts) against the zod schemas the API uses at the
 * edge (common/workflow-schemas.ts): the same verdict for every input tried, the same parsed value
 * (unknown keys dropped, keys in the schema's order), and settings defaults that are the schema's.
 */
import {
  authorizationCallbackSchema,
  beginConsentInputSchema,
  sellerConnectionInputSchema,
  settingsOverridesSchema,
  transferKindSchema,
  workflowSettingsSchema,
} from '../../common/workflow-schemas';
import { SELLER_ID_MESSAGE } from '../../common/workflow-input-rules';
import { TRANSFER_KINDS } from '../../common/workflow-names';
import {
  checkAuthorizationCallback,
  checkBeginConsentInput,
  checkSellerConnectionInput,
  checkSettingsOverrides,
  isTransferKind,
  mustPass,
  settingsWithDefaults,
  type Checked,
} from '../../workflows/guards';

interface SafeParse {
  success: boolean;
  data?: unknown;
}

/** Same verdict, and for accepted input the same value, byte for byte as JSON (key order included). */
function expectSame(label: string, guard: Checked<unknown>, zod: SafeParse): void {
  const verdict = (ok: boolean) => `${label}: ${ok ? 'accepted' : 'refused'}`;
  expect(verdict(guard.success)).toBe(verdict(zod.success));
  if (guard.success && zod.success) expect(JSON.stringify(guard.data)).toBe(JSON.stringify(zod.data));
  if (!guard.success) {
    expect(guard.issues.length).toBeGreaterThan(0);
    for (const issue of guard.issues) expect(issue.message).toMatch(/\S/);
  }
}

const SAMPLE_VALUES: unknown[] = [
  undefined,
  null,
  -1,
  0,
  1,
  2,
  23,
  24,
  49,
  50,
  99,
  100,
  500,
  501,
  999,
  1_000,
  3_600_000,
  1.5,
  Number.MAX_SAFE_INTEGER,
  2 ** 53,
  '',
  'x',
  'v1',
  'v2',
  'v3',
  '100',
  true,
  false,
  {},
  [],
  [100],
];

const SEALED = 'v2.k1.aXY.Y2lwaGVy-dGFn_';
const SEALED_V1 = 'v1.k1.aXY.Y2lwaGVy';
const NONCE = 'n'.repeat(22);

describe('workflow guards agree with the zod schemas', () => {
  const settingKeys = Object.keys(workflowSettingsSchema.shape).filter((k) => k !== 'transferIntervalsMs');

  it('checks every setting override like settingsOverridesSchema', () => {
    expect(settingKeys.length).toBeGreaterThanOrEqual(20);
    for (const key of settingKeys)
      for (const value of SAMPLE_VALUES)
        expectSame(
          `${key}=${JSON.stringify(value)}`,
          checkSettingsOverrides({ [key]: value }),
          settingsOverridesSchema.safeParse({ [key]: value }),
        );
  });

  it('checks transfer intervals like settingsOverridesSchema', () => {
    for (const kind of TRANSFER_KINDS)
      for (const value of SAMPLE_VALUES) {
        const input = { transferIntervalsMs: { [kind]: value } };
        expectSame(
          `${kind}=${JSON.stringify(value)}`,
          checkSettingsOverrides(input),
          settingsOverridesSchema.safeParse(input),
        );
      }
    for (const intervals of SAMPLE_VALUES) {
      const input = { transferIntervalsMs: intervals };
      expectSame(
        `transferIntervalsMs=${JSON.stringify(intervals)}`,
        checkSettingsOverrides(input),
        settingsOverridesSchema.safeParse(input),
      );
    }
  });

  it('keeps the schema order and drops unknown keys', () => {
    const input = {
      unknown: 1,
      transferIntervalsMs: { stockExport: null, other: 5, ordersImport: 60_000 },
      maxEvents: 20,
      consentTimeoutMs: 1_500,
      tokenTaskQueue: 'q-1',
      dailyTransferHour: null,
      latestAppVersion: 'v1',
      webhooksEnabled: true,
    };
    expectSame('mixed', checkSettingsOverrides(input), settingsOverridesSchema.safeParse(input));
    for (const notAnObject of [null, [], 'x', 5])
      expectSame(
        `overrides=${JSON.stringify(notAnObject)}`,
        checkSettingsOverrides(notAnObject),
        settingsOverridesSchema.safeParse(notAnObject),
      );
  });

  it('fills in the schema defaults', () => {
    expect(JSON.stringify(settingsWithDefaults())).toBe(JSON.stringify(workflowSettingsSchema.parse({})));
    const overrides = [
      {},
      { consentTimeoutMs: 1_500, maxEvents: 10 },
      { transferIntervalsMs: { ordersImport: 60_000 } },
      { transferIntervalsMs: { pricesExport: null, stockExport: undefined }, dailyTransferHour: null },
      { tokenTaskQueue: 'q-2', latestAppVersion: 'v1' as const, webhooksEnabled: true },
    ];
    for (const o of overrides) {
      const parsed = mustPass(checkSettingsOverrides(o));
      expect(JSON.stringify(settingsWithDefaults(parsed))).toBe(
        JSON.stringify(workflowSettingsSchema.parse(parsed)),
      );
    }
    // A fresh object each time: a run may not change the defaults of another.
    const a = settingsWithDefaults();
    a.transferIntervalsMs.ordersImport = 1;
    expect(settingsWithDefaults().transferIntervalsMs.ordersImport).not.toBe(1);
  });

  it('checks the workflow input like sellerConnectionInputSchema', () => {
    const inputs: unknown[] = [
      { sellerId: 's-1' },
      { sellerId: 's-1', overrides: {} },
      { sellerId: 's-1', overrides: { maxEvents: 10, transferIntervalsMs: { ordersImport: null } } },
      { sellerId: 's-1', overrides: { maxEvents: 1_000 } },
      { sellerId: 's-1', overrides: null },
      { sellerId: 's-1', carried: { sellerId: 's-1', events: [] }, extra: true },
      { sellerId: 'not a valid id' },
      { sellerId: 'x'.repeat(65) },
      { sellerId: 'x'.repeat(64) },
      { sellerId: 5 },
      {},
      null,
      [],
    ];
    for (const input of inputs)
      expectSame(
        JSON.stringify(input),
        checkSellerConnectionInput(input),
        sellerConnectionInputSchema.safeParse(input),
      );
    const refused = checkSellerConnectionInput({ sellerId: 'not a valid id' });
    expect(!refused.success && refused.issues.map((i) => i.message)).toEqual([SELLER_ID_MESSAGE]);
  });

  it('checks beginConsent input like beginConsentInputSchema', () => {
    const valid = { sellerId: 's-1', appVersion: 'v2', nonce: NONCE };
    const inputs: unknown[] = [
      valid,
      {
        ...valid,
        sealedPkceVerifier: SEALED,
        sealedInvitationUrl: SEALED_V1,
        allowPartnerChange: true,
        invitationRequired: false,
      },
      { invitationRequired: true, nonce: NONCE, appVersion: 'v1', sellerId: 's-1', extra: 1 },
      { ...valid, sealedPkceVerifier: undefined },
      { ...valid, sealedPkceVerifier: 'plaintext-verifier' },
      { ...valid, sealedPkceVerifier: SEALED.replace(/^v2/, 'v3') },
      { ...valid, sealedInvitationUrl: 'https://example.com/invite' },
      { ...valid, sealedPkceVerifier: null },
      { ...valid, allowPartnerChange: 'yes' },
      { ...valid, appVersion: 'v3' },
      { ...valid, nonce: 'short' },
      { ...valid, nonce: 'n'.repeat(128) },
      { ...valid, nonce: 'n'.repeat(129) },
      { ...valid, nonce: 'n'.repeat(21) + '!' },
      { ...valid, sellerId: 'bad id' },
      { appVersion: 'v2' },
      null,
      'x',
    ];
    for (const input of inputs)
      expectSame(
        JSON.stringify(input),
        checkBeginConsentInput(input),
        beginConsentInputSchema.safeParse(input),
      );
    const refused = checkBeginConsentInput({ ...valid, sealedPkceVerifier: 'plaintext-verifier' });
    expect(!refused.success && refused.issues.map((i) => i.message)).toEqual([
      'sealedPkceVerifier must be a sealed secret',
    ]);
  });

  it('checks consent callbacks like authorizationCallbackSchema', () => {
    const inputs: unknown[] = [
      { nonce: NONCE, sealedCode: SEALED },
      { nonce: NONCE, error: 'access_denied', errorDescription: 'The user said no', extra: 1 },
      { nonce: NONCE, error: '' },
      { nonce: '' },
      { nonce: 'n'.repeat(128) },
      { nonce: 'n'.repeat(129) },
      { nonce: NONCE, sealedCode: 'the-code' },
      { nonce: NONCE, error: 'e'.repeat(200) },
      { nonce: NONCE, error: 'e'.repeat(201) },
      { nonce: NONCE, errorDescription: 'd'.repeat(1000) },
      { nonce: NONCE, errorDescription: 'd'.repeat(1001) },
      { nonce: NONCE, error: 5 },
      { nonce: 5 },
      {},
      null,
    ];
    for (const input of inputs)
      expectSame(
        JSON.stringify(input),
        checkAuthorizationCallback(input),
        authorizationCallbackSchema.safeParse(input),
      );
  });

  it('knows the transfer kinds like transferKindSchema', () => {
    for (const value of [...TRANSFER_KINDS, ...SAMPLE_VALUES, 'OrdersImport'])
      expect(`${String(value)}: ${isTransferKind(value)}`).toBe(
        `${String(value)}: ${transferKindSchema.safeParse(value).success}`,
      );
  });

  it('throws a plain error when a handler re-checks input its validator would refuse', () => {
    expect(() => mustPass(checkAuthorizationCallback({ nonce: '' }))).toThrow(TypeError);
  });
});
