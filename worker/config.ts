/**
 * The worker's configuration: one zod schema over the environment (docs/design.md §5). Fail closed like the API
 * (common/config.ts): without `OTTO_CONNECT_ENV=dev`, SEAL_KEYS and OTTO_APPS are required, the OTTO
 * hosts and PUBLIC_BASE_URL have no default and must be https, and a weak seal key is refused.
 */
import { z } from 'zod';
import {
  DEV_OTTO_BASE_URL,
  durationMs,
  DEV_PUBLIC_BASE_URL,
  httpsOutsideDev,
  isDevEnv,
  keyBytesWeakness,
  loadConfig,
  requireOutsideDev,
  requireSecret,
  runEnvSchema,
  temporalConfigSchema,
  withSecretFiles,
} from '../common/config';
import { DEFAULT_RATE_LIMIT_WAITS } from '../activities/otto-data-client';
import { ORDERS_PAGE_LIMIT } from '../activities/transfer-activities';
import { sealKeysFromEnv } from '../common/dev-secrets';
import { fleetBreakerEnvSchema } from '../common/fleet-breaker-config';
import { latestVersion, ottoAppsEnvSchema } from '../common/otto-apps';
import { parseSealKeys } from '../common/seal';
import { ottoFlowSettingsSchema } from '../common/otto-settings';
import { refreshMarginProblem } from '../common/token-lifetime';
import { transferIntervalsEnvSchema } from '../common/transfer-intervals';
import { webhookSecretsProblem } from '../common/webhook-secrets';
import { DEFAULT_TOKEN_TASK_QUEUE, type WorkflowSettingsInput } from '../workflows/definitions';
import { DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB } from './allocator';

/** A comma-separated list's items: trimmed, blanks ignored, duplicates dropped, in order. */
const commaList = (text: string): string[] => [
  ...new Set(
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
];

/** The statuses OTTO's returns list can be filtered by (docs/otto-api.md §5.4). */
const RETURN_STATUSES = ['ANNOUNCED', 'ACCEPTED', 'REJECTED', 'MISDIRECTED'] as const;

/**
 * RETURN_STATUSES: comma-separated statuses (any case, blanks ignored, duplicates dropped), each read in
 * a pass of its own; unset or empty = one pass over every status.
 */
const returnStatusesSchema = z.preprocess(
  (text) => (typeof text === 'string' ? commaList(text.toUpperCase()) : text),
  z
    .array(
      z.enum(RETURN_STATUSES, {
        error: (issue) =>
          `unknown return status "${String(issue.input)}" (use ${RETURN_STATUSES.join(', ')})`,
      }),
    )
    .optional(),
);

/** A comma-separated list of task queue names (blanks ignored, duplicates dropped); unset = undefined. */
const queueListSchema = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return undefined;
    const queues = commaList(text);
    if (queues.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must name at least one task queue (comma-separated)' });
      return z.NEVER;
    }
    return queues;
  });

/** Compose passes `${WEBHOOK_URL:-}` as an empty string when .env leaves it out: the same as unset. */
const emptyAsUnset = (value: unknown) => (value === '' ? undefined : value);

export const workerConfigSchema = temporalConfigSchema
  .extend({
    ...ottoFlowSettingsSchema.shape,
    /** FLEET_BREAKER_WINDOW, FLEET_BREAKER_MIN_REFUSALS, FLEET_BREAKER_RATIO (activities/fleet-breaker.ts). */
    ...fleetBreakerEnvSchema.shape,
    /** `dev` turns on dev defaults and relaxations (npm run dev, tests); unset or `production`: none. */
    OTTO_CONNECT_ENV: runEnvSchema,
    /** OTTO allows 20 requests/s per partner id (docs/otto-api.md §5.8); per worker process here. */
    OTTO_PARTNER_REQUESTS_PER_SECOND: z.coerce.number().positive().default(20),
    /**
     * A 429 without `Retry-After` waits this long, doubling per 429 (docs/otto-api.md §7.6: OTTO documents
     * no backoff), and one call waits out at most OTTO_RATE_LIMIT_WAITS of them before its attempt fails.
     */
    OTTO_RATE_LIMIT_BACKOFF: durationMs('1s'),
    OTTO_RATE_LIMIT_WAITS: z.coerce.number().int().min(0).max(20).default(DEFAULT_RATE_LIMIT_WAITS),
    /** Orders per page of /v4/orders (docs/otto-api.md §7.5: the maximum is 128 or 256). */
    OTTO_ORDERS_PAGE_SIZE: z.coerce.number().int().min(1).max(256).default(ORDERS_PAGE_LIMIT),
    /** The token task queue THIS process's token worker polls (its egress IP's queue). */
    TOKEN_TASK_QUEUE: z.string().min(1).default(DEFAULT_TOKEN_TASK_QUEUE),
    /**
     * Every egress IP's token task queue: sellers are spread over them by a stable hash of the seller id
     * (an admin override may pin a seller to another). The same list on every worker; default
     * [TOKEN_TASK_QUEUE].
     */
    TOKEN_TASK_QUEUES: queueListSchema,
    /** Task-queue-wide (enforced by the Temporal server across all workers); OTTO allows 10/s per IP (docs/otto-api.md §5). */
    TOKEN_ACTIVITIES_PER_SECOND: z.coerce.number().positive().default(8),
    /**
     * How long a stopping worker lets running activities finish (a page of a transfer, a token mint)
     * before it cancels them: the SDK's `shutdownGraceTime`. Keep the container's stop grace period
     * (docker-compose.yml `stop_grace_period`) longer than this, or the process is killed first.
     */
    WORKER_SHUTDOWN_GRACE: durationMs('30s'),
    /**
     * A workflow bundle prebuilt at image build (scripts/build-workflow-bundle.ts): the worker starts in
     * seconds instead of bundling the workflows at every start. Unset: bundled from source at start.
     */
    WORKFLOW_BUNDLE: z.string().min(1).optional(),
    /** Seller workflows kept in memory per worker (unset: the SDK's default from available memory). */
    MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
    /**
     * The semi-space of each workflow thread's V8 heap, in MB (worker/create-workers.ts): Node 24 grows it
     * to 64 MB on a box with a few GB, which stays in the RSS; 0 leaves V8's default.
     */
    WORKFLOW_THREAD_SEMI_SPACE_MB: z.coerce
      .number()
      .int()
      .min(0)
      .max(256)
      .default(DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB),
    /**
     * Hard per-process cap on token-endpoint requests per second (the queue limit above is an average).
     * Per process: the worker replicas that share one egress IP must add up to under OTTO's 10/s.
     */
    TOKEN_REQUESTS_PER_SECOND: z.coerce.number().int().positive().default(8),
    /**
     * Token requests per second a code exchange (a seller waiting in the browser) may send above
     * TOKEN_REQUESTS_PER_SECOND: the background mints never use it. The replicas behind one egress IP
     * must keep WORKER_REPLICAS × (TOKEN_REQUESTS_PER_SECOND + TOKEN_EXCHANGE_HEADROOM) ≤ OTTO's 10/s.
     */
    TOKEN_EXCHANGE_HEADROOM: z.coerce.number().int().min(0).default(2),
    /** Required (https) outside dev; dev default: the emulator on localhost:3900. */
    OTTO_AUTH_BASE_URL: z.url().optional(),
    OTTO_API_BASE_URL: z.url().optional(),
    OTTO_APPS: ottoAppsEnvSchema.optional(),
    /** Required (https) outside dev; dev default http://localhost:3000. */
    PUBLIC_BASE_URL: z.url().optional(),
    /** The seller store: a SQLite file path, or `postgres://…` / `postgresql://…` (migrated on start). */
    SELLER_STORE: z.string().min(1).default('.data/seller-store.db'),
    /** Returns imported, by status: `ANNOUNCED,ACCEPTED,…` reads each in a pass of its own; unset = all. */
    RETURN_STATUSES: returnStatusesSchema,
    /** Data calls never go out with a token that expires within this long. */
    TOKEN_SAFETY_MARGIN_MS: z.coerce.number().int().min(0).default(5_000),
    /** Key ring `kid:base64(32 bytes)[,…]`; the worker parses it where it builds the sealer. */
    SEAL_KEYS: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    // ---- sellers' workflow settings: resolved by this worker at each run start (settings-activities.ts) ----
    /** How long a pending consent waits. */
    CONSENT_TIMEOUT: durationMs('24h'),
    /** Mint this long before a token expires; less than half the token's life (30 min tokens: < 900). */
    TOKEN_REFRESH_MARGIN_SECONDS: z.coerce.number().int().positive().default(300),
    /** Per-kind transfer intervals (`kind=15m|off`); kinds not named keep their defaults. */
    TRANSFER_INTERVALS: transferIntervalsEnvSchema,
    /** Daily transfers (prices) run at this hour, Europe/Berlin. */
    PRICES_EXPORT_HOUR: z.coerce.number().int().min(0).max(23).default(2),
    /** The token scope that allows shipping profiles (no OTTO source names it). */
    OTTO_SHIPPING_PROFILES_SCOPE: z.string().trim().min(1).default('shipping-profiles'),
    /** Refused mints must span this long (with no successful data call between) before a seller is revoked. */
    REVOCATION_CONFIRM_WINDOW: durationMs('30m'),
    /** Tokens are minted for transfers; a paused or idle seller is probed with a mint this often. */
    REVOCATION_PROBE_INTERVAL: durationMs('1h'),
    /** Interface the metrics endpoints bind to; 0.0.0.0 in a container so Prometheus can scrape. */
    WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    /** The Temporal SDK's Prometheus metrics (served by the SDK core). */
    WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).default(9464),
    /** Our own metrics (token mints, transfers) plus /healthz and /readyz; 0 picks a free port. */
    WORKER_APP_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9465),
    /** Where the shop receives webhooks; unset or empty (with WEBHOOK_SECRET) = webhooks off. */
    WEBHOOK_URL: z.preprocess(
      emptyAsUnset,
      z
        .url({ protocol: /^https?$/ })
        // fetch refuses a URL with credentials, so every delivery to it would fail; the signature is the
        // shop's way to authenticate us.
        .refine(
          (url) => !URL.canParse(url) || (new URL(url).username === '' && new URL(url).password === ''),
          {
            message:
              'must not carry a user name or password (deliveries could not be sent to it): the shop verifies the webhook-signature instead',
          },
        )
        .optional(),
    ),
    /**
     * Standard Webhooks signing secret(s) `whsec_<base64>` (24–64 random bytes each), separated by spaces
     * or commas while rotating (common/webhook-secrets.ts); also WEBHOOK_SECRET_FILE.
     */
    WEBHOOK_SECRET: z.preprocess(emptyAsUnset, z.string().optional()),
  })
  .superRefine((c, ctx) => {
    const marginProblem = refreshMarginProblem(c.TOKEN_REFRESH_MARGIN_SECONDS * 1000);
    if (marginProblem)
      ctx.addIssue({ code: 'custom', path: ['TOKEN_REFRESH_MARGIN_SECONDS'], message: marginProblem });
    requireSecret(ctx, 'SEAL_KEYS', c.SEAL_KEYS);
    requireSecret(ctx, 'OTTO_APPS', c.OTTO_APPS);
    if ((c.WEBHOOK_URL === undefined) !== (c.WEBHOOK_SECRET === undefined)) {
      const missing = c.WEBHOOK_URL === undefined ? 'WEBHOOK_URL' : 'WEBHOOK_SECRET';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'required when the other webhook variable is set (set both, or neither for no webhooks)',
      });
    }
    const webhookSecretProblem =
      c.WEBHOOK_SECRET === undefined ? null : webhookSecretsProblem(c.WEBHOOK_SECRET);
    if (webhookSecretProblem !== null)
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: webhookSecretProblem });
    const dev = c.OTTO_CONNECT_ENV === 'dev';
    for (const name of ['PUBLIC_BASE_URL', 'OTTO_AUTH_BASE_URL', 'OTTO_API_BASE_URL'] as const) {
      requireOutsideDev(ctx, dev, name, c[name]);
      httpsOutsideDev(ctx, dev, name, c[name]);
    }
    (c.OTTO_APPS ?? []).forEach((app, index) =>
      httpsOutsideDev(ctx, dev, 'OTTO_APPS', app.installationUrl, `${index}.installationUrl`),
    );
    if (c.SEAL_KEYS === undefined) return;
    try {
      const keys = parseSealKeys(c.SEAL_KEYS);
      if (dev) return;
      for (const { kid, key } of keys) {
        const weakness = keyBytesWeakness(key);
        if (weakness)
          ctx.addIssue({ code: 'custom', path: ['SEAL_KEYS'], message: `key ${kid} ${weakness}` });
      }
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: ['SEAL_KEYS'],
        message: err instanceof Error ? err.message : 'invalid key ring',
      });
    }
  })
  .transform((c) => ({
    ...c,
    SEAL_KEYS: c.SEAL_KEYS!,
    OTTO_APPS: c.OTTO_APPS!,
    OTTO_AUTH_BASE_URL: c.OTTO_AUTH_BASE_URL ?? DEV_OTTO_BASE_URL,
    OTTO_API_BASE_URL: c.OTTO_API_BASE_URL ?? DEV_OTTO_BASE_URL,
    PUBLIC_BASE_URL: c.PUBLIC_BASE_URL ?? DEV_PUBLIC_BASE_URL,
    TOKEN_TASK_QUEUES: c.TOKEN_TASK_QUEUES ?? [c.TOKEN_TASK_QUEUE],
  }));
export type WorkerConfig = z.output<typeof workerConfigSchema>;

/**
 * This deployment's workflow settings, from the worker's configuration: the defaults the settings
 * activity merges each seller's overrides into (the token task queue is chosen per seller from
 * TOKEN_TASK_QUEUES, see activities/settings-activities.ts).
 */
export function workflowSettingsDefaultsFrom(config: WorkerConfig): WorkflowSettingsInput {
  return {
    consentTimeoutMs: config.CONSENT_TIMEOUT,
    tokenRefreshMarginMs: config.TOKEN_REFRESH_MARGIN_SECONDS * 1000,
    revocationConfirmWindowMs: config.REVOCATION_CONFIRM_WINDOW,
    revocationProbeIntervalMs: config.REVOCATION_PROBE_INTERVAL,
    latestAppVersion: latestVersion(config.OTTO_APPS),
    transferIntervalsMs: config.TRANSFER_INTERVALS,
    dailyTransferHour: config.PRICES_EXPORT_HOUR,
    shippingProfilesScope: config.OTTO_SHIPPING_PROFILES_SCOPE,
    webhooksEnabled: config.WEBHOOK_URL !== undefined,
  };
}

/**
 * Reads the environment once (secrets also from `<NAME>_FILE`); only with OTTO_CONNECT_ENV=dev is a
 * missing SEAL_KEYS filled in, from the ring generated once into .data/ and shared with the API.
 */
export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const resolved = withSecretFiles(env);
  const withDefaults = isDevEnv(resolved) ? { ...resolved, SEAL_KEYS: sealKeysFromEnv(resolved) } : resolved;
  return loadConfig(workerConfigSchema, withDefaults);
}

export { callbackUrl } from '../common/oauth';
