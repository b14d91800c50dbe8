/**
 * The workflow's own input checks: the workflow input, the update validators and the settings fallback,
 * by hand instead of zod. With the reusable V8 context every module in the workflow bundle is evaluated
 * again for each cached workflow, and zod with our schemas cost ~0.9 MB per cached seller; these checks
 * cost a few hundred bytes. The API validates at the edge with the zod schemas (common/workflow-schemas.ts);
 * both take their patterns and defaults from common/workflow-input-rules.ts, and
 * test/unit/workflow-guards.test.ts holds the two to the same verdicts and the same parsed values
 * (unknown keys dropped, keys in the schema's order).
 *
 * Results have zod's safeParse shape, so a refusal still becomes FailureTypes.invalidInput with the
 * issues' messages.
 */
import {
  CALLBACK_LIMITS,
  NONCE_MESSAGE,
  NONCE_PATTERN,
  SEALED_MESSAGE,
  SEALED_PATTERN,
  SELLER_ID_MESSAGE,
  SELLER_ID_PATTERN,
  SETTINGS_DEFAULTS,
} from '../common/workflow-input-rules';
import { APP_VERSIONS, TRANSFER_KINDS } from '../common/workflow-names';
import type {
  AuthorizationCallback,
  BeginConsentInput,
  SettingsOverrides,
  TransferKind,
  WorkflowSettings,
} from './definitions';

export interface Issue {
  message: string;
}
export type Checked<T> = { success: true; data: T } | { success: false; issues: Issue[] };

/** The value of a check that must pass (a handler re-checking what its validator accepted). */
export function mustPass<T>(checked: Checked<T>): T {
  if (!checked.success) throw new TypeError(checked.issues.map((i) => i.message).join('; '));
  return checked.data;
}

type Fields = Record<string, unknown>;

function record(value: unknown, what: string, issues: Issue[]): Fields | null {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Fields;
  issues.push({ message: `${what} must be an object` });
  return null;
}

function done<T>(issues: Issue[], data: T): Checked<T> {
  return issues.length > 0 ? { success: false, issues } : { success: true, data };
}

/** A string matching `pattern`; `message` names the field or is prefixed with it. */
function matching(value: unknown, field: string, pattern: RegExp, message: string, issues: Issue[]): string {
  if (typeof value === 'string' && pattern.test(value)) return value;
  issues.push({ message: message.startsWith(field) ? message : `${field} ${message}` });
  return value as string;
}

function text(value: unknown, field: string, min: number, max: number, issues: Issue[]): string {
  if (typeof value !== 'string') issues.push({ message: `${field} must be a string` });
  else if (value.length < min || value.length > max)
    issues.push({ message: `${field} must be ${min}–${max} characters` });
  return value as string;
}

function flag(value: unknown, field: string, issues: Issue[]): boolean {
  if (typeof value !== 'boolean') issues.push({ message: `${field} must be true or false` });
  return value as boolean;
}

function oneOf<T extends string>(value: unknown, field: string, options: readonly T[], issues: Issue[]): T {
  if (!options.includes(value as T))
    issues.push({ message: `${field} must be one of ${options.join(', ')}` });
  return value as T;
}

export const isTransferKind = (value: unknown): value is TransferKind =>
  TRANSFER_KINDS.includes(value as TransferKind);

// ---- messages ------------------------------------------------------------------------------------------

export function checkBeginConsentInput(input: unknown): Checked<BeginConsentInput> {
  const issues: Issue[] = [];
  const o = record(input, 'beginConsent input', issues);
  if (o === null) return done(issues, input as BeginConsentInput);
  const data: BeginConsentInput = {
    sellerId: matching(o.sellerId, 'sellerId', SELLER_ID_PATTERN, SELLER_ID_MESSAGE, issues),
    appVersion: oneOf(o.appVersion, 'appVersion', APP_VERSIONS, issues),
    nonce: matching(o.nonce, 'nonce', NONCE_PATTERN, NONCE_MESSAGE, issues),
  };
  if (o.sealedPkceVerifier !== undefined)
    data.sealedPkceVerifier = matching(
      o.sealedPkceVerifier,
      'sealedPkceVerifier',
      SEALED_PATTERN,
      SEALED_MESSAGE,
      issues,
    );
  if (o.sealedInvitationUrl !== undefined)
    data.sealedInvitationUrl = matching(
      o.sealedInvitationUrl,
      'sealedInvitationUrl',
      SEALED_PATTERN,
      SEALED_MESSAGE,
      issues,
    );
  if (o.allowPartnerChange !== undefined)
    data.allowPartnerChange = flag(o.allowPartnerChange, 'allowPartnerChange', issues);
  if (o.invitationRequired !== undefined)
    data.invitationRequired = flag(o.invitationRequired, 'invitationRequired', issues);
  return done(issues, data);
}

export function checkAuthorizationCallback(input: unknown): Checked<AuthorizationCallback> {
  const issues: Issue[] = [];
  const o = record(input, 'consent callback', issues);
  if (o === null) return done(issues, input as AuthorizationCallback);
  const data: AuthorizationCallback = { nonce: text(o.nonce, 'nonce', 1, CALLBACK_LIMITS.nonceMax, issues) };
  if (o.sealedCode !== undefined)
    data.sealedCode = matching(o.sealedCode, 'sealedCode', SEALED_PATTERN, SEALED_MESSAGE, issues);
  if (o.error !== undefined) data.error = text(o.error, 'error', 0, CALLBACK_LIMITS.errorMax, issues);
  if (o.errorDescription !== undefined)
    data.errorDescription = text(
      o.errorDescription,
      'errorDescription',
      0,
      CALLBACK_LIMITS.errorDescriptionMax,
      issues,
    );
  return done(issues, data);
}

// ---- settings ------------------------------------------------------------------------------------------

type SettingRule =
  | { type: 'int'; min: number; max: number; nullable: boolean }
  | { type: 'string' }
  | { type: 'boolean' }
  | { type: 'appVersion' };

const int = (min: number, max = Number.MAX_SAFE_INTEGER, nullable = false): SettingRule => ({
  type: 'int',
  min,
  max,
  nullable,
});
const STRING: SettingRule = { type: 'string' };

/**
 * What each override may be: the bounds of `workflowSettingsSchema` (common/workflow-schemas.ts), in its
 * order (test/unit/workflow-guards.test.ts compares the two for every key).
 */
const SETTING_RULES: { [K in Exclude<keyof WorkflowSettings, 'transferIntervalsMs'>]: SettingRule } = {
  consentTimeoutMs: int(1),
  tokenRefreshMarginMs: int(1_000),
  refreshJitterMs: int(0),
  refreshRetryMaxIntervalMs: int(100),
  revocationConfirmWindowMs: int(0),
  revocationMinRefusals: int(1),
  incidentRetryIntervalMs: int(100),
  revocationProbeIntervalMs: int(100),
  authorizationTimeoutMs: int(1_000),
  tokenTaskQueue: STRING,
  latestAppVersion: { type: 'appVersion' },
  dailyTransferHour: int(0, 23, true),
  stockFullResyncMs: int(1_000),
  transferRetryWindowMs: int(1_000),
  transferRetryMaxIntervalMs: int(100),
  minTokenValidityMs: int(1_000),
  drainTimeoutMs: int(100),
  shippingProfilesScope: STRING,
  maxHistoryEvents: int(50),
  maxEvents: int(1, 500),
  webhooksEnabled: { type: 'boolean' },
  webhookRetryMaxIntervalMs: int(100),
  webhookDeliveryWindowMs: int(1_000),
  maxPendingWebhooks: int(1, 500),
};
const TRANSFER_INTERVAL_RULE = int(100, Number.MAX_SAFE_INTEGER, true);

function checkSetting(value: unknown, field: string, rule: SettingRule, issues: Issue[]): void {
  switch (rule.type) {
    case 'string':
      if (typeof value !== 'string' || value.length === 0)
        issues.push({ message: `${field} must be a non-empty string` });
      return;
    case 'boolean':
      flag(value, field, issues);
      return;
    case 'appVersion':
      oneOf(value, field, APP_VERSIONS, issues);
      return;
    case 'int':
      if (value === null && rule.nullable) return;
      if (!Number.isSafeInteger(value) || (value as number) < rule.min || (value as number) > rule.max) {
        const range =
          rule.max === Number.MAX_SAFE_INTEGER ? `≥ ${rule.min}` : `between ${rule.min} and ${rule.max}`;
        issues.push({ message: `${field} must be an integer ${range}${rule.nullable ? ' or null' : ''}` });
      }
  }
}

/** A seller's overrides: only known keys, each within its setting's bounds (undefined = not overridden). */
export function checkSettingsOverrides(input: unknown, what = 'overrides'): Checked<SettingsOverrides> {
  const issues: Issue[] = [];
  const o = record(input, what, issues);
  if (o === null) return done(issues, {});
  const data: Fields = {};
  for (const [key, rule] of Object.entries(SETTING_RULES)) {
    if (o[key] === undefined) continue;
    checkSetting(o[key], key, rule, issues);
    data[key] = o[key];
  }
  if (o.transferIntervalsMs !== undefined) {
    const intervals = record(o.transferIntervalsMs, 'transferIntervalsMs', issues);
    if (intervals !== null) {
      const named: Fields = {};
      for (const kind of TRANSFER_KINDS) {
        if (intervals[kind] === undefined) continue;
        checkSetting(intervals[kind], `transferIntervalsMs.${kind}`, TRANSFER_INTERVAL_RULE, issues);
        named[kind] = intervals[kind];
      }
      data.transferIntervalsMs = named;
    }
  }
  return done(issues, data as SettingsOverrides);
}

/** The workflow's input: a valid sellerId and valid overrides (none given: none). */
export function checkSellerConnectionInput(
  input: unknown,
): Checked<{ sellerId: string; overrides: SettingsOverrides }> {
  const issues: Issue[] = [];
  const o = record(input, 'workflow input', issues);
  if (o === null) return done(issues, { sellerId: '', overrides: {} });
  const sellerId = matching(o.sellerId, 'sellerId', SELLER_ID_PATTERN, SELLER_ID_MESSAGE, issues);
  const overrides =
    o.overrides === undefined ? { success: true as const, data: {} } : checkSettingsOverrides(o.overrides);
  if (!overrides.success) issues.push(...overrides.issues);
  return done(issues, { sellerId, overrides: overrides.success ? overrides.data : {} });
}

/**
 * The production defaults with a seller's overrides applied: what a run uses when the worker cannot
 * resolve its settings (and what the status view shows before they are resolved). Same result as
 * `workflowSettingsSchema.parse(overrides)` for valid overrides.
 */
export function settingsWithDefaults(overrides: SettingsOverrides = {}): WorkflowSettings {
  const given = overrides as Fields;
  const settings: Fields = {};
  for (const [key, value] of Object.entries(SETTINGS_DEFAULTS)) {
    if (key === 'transferIntervalsMs') {
      const named = (overrides.transferIntervalsMs ?? {}) as Fields;
      const intervals: Fields = {};
      for (const [kind, interval] of Object.entries(SETTINGS_DEFAULTS.transferIntervalsMs))
        intervals[kind] = named[kind] !== undefined ? named[kind] : interval;
      settings[key] = intervals;
    } else settings[key] = given[key] !== undefined ? given[key] : value;
  }
  return settings as WorkflowSettings;
}
