/**
 * The zod schemas of the seller workflow's input, settings and messages, for the layers OUTSIDE the
 * workflow sandbox: the API validates at the edge with them, the settings activity resolves settings
 * with them, the OpenAPI document is generated from them. The workflow itself never imports this module
 * as a value (eslint.config.mjs refuses it, test/unit/workflow-bundle.test.ts checks the bundle): with the
 * reusable V8 context every bundled module is evaluated again per cached workflow, and zod plus these
 * schemas cost ~0.9 MB each time. Inside the workflow, workflows/guards.ts checks the same rules by hand;
 * both take their patterns and defaults from common/workflow-input-rules.ts.
 */
import { z } from 'zod';
import {
  CALLBACK_LIMITS,
  NONCE_MESSAGE,
  NONCE_PATTERN,
  SEALED_MESSAGE,
  SEALED_PATTERN,
  SELLER_ID_MESSAGE,
  SELLER_ID_PATTERN,
  SETTINGS_DEFAULTS as D,
} from './workflow-input-rules';
import { APP_VERSIONS, CONNECTION_STATES, TRANSFER_KINDS } from './workflow-names';

/** The shop system's id for a seller: 1–64 chars of [A-Za-z0-9._-]. */
export const sellerIdSchema = z.string().regex(SELLER_ID_PATTERN, SELLER_ID_MESSAGE);
export type SellerId = z.infer<typeof sellerIdSchema>;

export const appVersionSchema = z.enum(APP_VERSIONS);
export type AppVersion = z.infer<typeof appVersionSchema>;

export const connectionStateSchema = z.enum(CONNECTION_STATES);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const transferKindSchema = z.enum(TRANSFER_KINDS);

/**
 * The effective settings of one seller's run. The worker resolves them at every run start (a local
 * activity over its own configuration, plus the seller's overrides), so a deploy with new settings
 * reaches every seller at its next run, and `applySettings` reaches them now. Every one has a
 * production default (docs/design.md §5), defined in common/workflow-input-rules.ts.
 */
// prettier-ignore
export const workflowSettingsSchema = z.object({
  consentTimeoutMs: z.number().int().positive().default(D.consentTimeoutMs),
  /** Mint this long before expiry (less than half the token's life: config and the token policy enforce it). */
  tokenRefreshMarginMs: z.number().int().min(1_000).default(D.tokenRefreshMarginMs),
  /** Up to this much earlier, drawn per refresh, so sellers connected together spread out. */
  refreshJitterMs: z.number().int().nonnegative().default(D.refreshJitterMs),
  /** Longest wait between mint attempts after a failure (the backoff doubles from 1 s up to this). */
  refreshRetryMaxIntervalMs: z.number().int().min(100).default(D.refreshRetryMaxIntervalMs),
  /**
   * Revocation needs evidence: refused mints spanning this window, with no successful data call in
   * between, before the seller counts as revoked (docs/otto-api.md §4: OTTO documents no revocation signal).
   */
  revocationConfirmWindowMs: z.number().int().min(0).default(D.revocationConfirmWindowMs),
  /** …and at least this many refused attempts within it. */
  revocationMinRefusals: z.number().int().min(1).default(D.revocationMinRefusals),
  /**
   * During a fleet incident (breaker open, our credentials refused) each seller tries again this often at
   * most: thousands of sellers retrying at the normal backoff would only queue up at the token endpoint.
   */
  incidentRetryIntervalMs: z.number().int().min(100).default(D.incidentRetryIntervalMs),
  /**
   * Tokens are minted just in time, for transfers; a seller that needs none for this long (paused, or
   * idle) is probed with a mint, so a revocation in OTTO's portal is noticed at least this often.
   */
  revocationProbeIntervalMs: z.number().int().min(100).default(D.revocationProbeIntervalMs),
  /** How long completing an authorization may take (the code itself lives ~60 s). */
  authorizationTimeoutMs: z.number().int().min(1_000).default(D.authorizationTimeoutMs),
  /** Token activities run here, rate-limited to stay under OTTO's token-endpoint cap per egress IP. */
  tokenTaskQueue: z.string().min(1).default(D.tokenTaskQueue),
  /** The newest app version this deployment offers (drives `upgradeAvailable`). */
  latestAppVersion: appVersionSchema.default(D.latestAppVersion),
  /** Per kind; null = off. Defaults from docs/otto-api.md §6. */
  transferIntervalsMs: z
    .object({
      ordersImport: z.number().int().min(100).nullable().default(D.transferIntervalsMs.ordersImport),
      stockExport: z.number().int().min(100).nullable().default(D.transferIntervalsMs.stockExport),
      pricesExport: z.number().int().min(100).nullable().default(D.transferIntervalsMs.pricesExport),
      returnsImport: z.number().int().min(100).nullable().default(D.transferIntervalsMs.returnsImport),
      shippingProfilesSync: z.number().int().min(100).nullable().default(D.transferIntervalsMs.shippingProfilesSync),
    })
    .prefault({}),
  /** A daily transfer (prices) runs at this hour, Europe/Berlin; null = every 24 h from the last run. */
  dailyTransferHour: z.number().int().min(0).max(23).nullable().default(D.dailyTransferHour),
  /** Stock: a full resync at least this often (docs/otto-api.md §6: "full resync at least daily"). */
  stockFullResyncMs: z.number().int().min(1_000).default(D.stockFullResyncMs),
  /** How long one transfer run may keep retrying (backoff, Retry-After) before it counts as failed. */
  transferRetryWindowMs: z.number().int().min(1_000).default(D.transferRetryWindowMs),
  /**
   * Longest wait between a transfer's retries within a run, and how soon a failed run is tried again
   * (under ticks each further failure in a row doubles that, up to the kind's interval or an hour).
   */
  transferRetryMaxIntervalMs: z.number().int().min(100).default(D.transferRetryMaxIntervalMs),
  /** A transfer starts only with a token valid at least this long; otherwise a token is minted first. */
  minTokenValidityMs: z.number().int().min(1_000).default(D.minTokenValidityMs),
  /**
   * Before continuing as new, running transfers get this long to finish; then they are cancelled (their
   * progress is heartbeated and handed to the next run, which resumes them).
   */
  drainTimeoutMs: z.number().int().min(100).default(D.drainTimeoutMs),
  /** The token scope that allows shipping profiles: no OTTO source names it (docs/otto-api.md §3.1, §7). */
  shippingProfilesScope: z.string().min(1).default(D.shippingProfilesScope),
  maxHistoryEvents: z.number().int().min(50).default(D.maxHistoryEvents),
  maxEvents: z.number().int().min(1).max(500).default(D.maxEvents),
  /**
   * Whether this deployment sends webhooks (WEBHOOK_URL set): off, no delivery is scheduled at all, so
   * sellers' histories do not grow by an activity per event nobody receives.
   */
  webhooksEnabled: z.boolean().default(D.webhooksEnabled),
  /** Longest wait between a webhook's delivery attempts (the shop may be down for a while). */
  webhookRetryMaxIntervalMs: z.number().int().min(100).default(D.webhookRetryMaxIntervalMs),
  /** How long one webhook is retried before it counts as failed (redeliverable by an admin). */
  webhookDeliveryWindowMs: z.number().int().min(1_000).default(D.webhookDeliveryWindowMs),
  /**
   * At most this many webhooks wait for delivery per seller (the shop down for days): a new event puts the
   * oldest waiting one down as failed (an admin may redeliver it), so a run's state and its running
   * deliveries stay bounded.
   */
  maxPendingWebhooks: z.number().int().min(1).max(500).default(D.maxPendingWebhooks),
});
export type WorkflowSettings = z.infer<typeof workflowSettingsSchema>;
export type WorkflowSettingsInput = z.input<typeof workflowSettingsSchema>;
// The plain defaults are complete settings (a missing or mistyped default fails to compile here).
const _defaultsAreSettings: WorkflowSettings = D;

/**
 * One seller's own settings, kept in its workflow input and carried across continue-as-new; everything
 * else comes from the worker's configuration. Tests use them for short lifetimes; an admin may pin a
 * seller to a token queue (egress IP).
 */
const withoutDefault = (field: z.ZodType): z.ZodType =>
  field instanceof z.ZodDefault ? (field.removeDefault() as z.ZodType) : field;
export const settingsOverridesSchema = z
  .object(
    Object.fromEntries(
      Object.entries(workflowSettingsSchema.shape)
        .filter(([key]) => key !== 'transferIntervalsMs')
        .map(([key, field]) => [key, withoutDefault(field).optional()]),
    ) as {
      [K in Exclude<keyof WorkflowSettings, 'transferIntervalsMs'>]: z.ZodOptional<
        z.ZodType<WorkflowSettings[K]>
      >;
    },
  )
  .extend({
    // Only the kinds named: the others keep the worker's intervals.
    transferIntervalsMs: z
      .object({
        ordersImport: z.number().int().min(100).nullable(),
        stockExport: z.number().int().min(100).nullable(),
        pricesExport: z.number().int().min(100).nullable(),
        returnsImport: z.number().int().min(100).nullable(),
        shippingProfilesSync: z.number().int().min(100).nullable(),
      })
      .partial()
      .optional(),
  });
export type SettingsOverrides = z.infer<typeof settingsOverridesSchema>;

export const sellerConnectionInputSchema = z.object({
  sellerId: sellerIdSchema,
  overrides: settingsOverridesSchema.prefault({}),
});
export type SellerConnectionInput = z.input<typeof sellerConnectionInputSchema>;

/**
 * A sealed secret: `v2.<kid>.<iv>.<ciphertext+tag>`, bound to its purpose and seller (see common/seal.ts).
 * Never plaintext in history. The shape of `v1` (bound to neither) still passes here only because the
 * handlers parse their input again on replay: histories recorded before v2 must replay. A v1 value gets
 * nothing: the sealer refuses to unseal it (the authorization fails asking for a new consent).
 */
export const sealedSchema = z.string().regex(SEALED_PATTERN, SEALED_MESSAGE);

export const beginConsentInputSchema = z.object({
  sellerId: sellerIdSchema,
  appVersion: appVersionSchema,
  /** Made with Node's crypto by the caller: never by workflow code. */
  nonce: z.string().regex(NONCE_PATTERN, NONCE_MESSAGE),
  /** Absent when PKCE is off (OTTO_PKCE=off). */
  sealedPkceVerifier: sealedSchema.optional(),
  /** A private app's invitation link (OPC "Einladungslink generieren"), sealed: it installs our app once. */
  sealedInvitationUrl: sealedSchema.optional(),
  /** An admin explicitly lets this consent land on another OTTO partner than the seller's current one. */
  allowPartnerChange: z.boolean().optional(),
  /** The app is private (no installation link): refuse unless an invitation link is given or kept. */
  invitationRequired: z.boolean().optional(),
});
export type BeginConsentInput = z.infer<typeof beginConsentInputSchema>;

export const authorizationCallbackSchema = z.object({
  nonce: z.string().min(1).max(CALLBACK_LIMITS.nonceMax),
  sealedCode: sealedSchema.optional(),
  error: z.string().max(CALLBACK_LIMITS.errorMax).optional(),
  errorDescription: z.string().max(CALLBACK_LIMITS.errorDescriptionMax).optional(),
});
export type AuthorizationCallback = z.infer<typeof authorizationCallbackSchema>;
