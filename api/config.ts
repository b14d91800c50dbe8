/**
 * The API's configuration: one zod schema over the environment (design §5). Dev defaults for the
 * secrets (API keys, seal keys, state key) are filled in by `loadApiConfig` only outside production, so
 * a production deployment that forgets one fails at start with the variable named.
 */
import { z } from 'zod';
import { durationMs, loadConfig, temporalConfigSchema } from '../common/config';
import { sealKeysFromEnv } from '../common/dev-secrets';
import { transferIntervalsEnvSchema } from '../common/transfer-intervals';
import { latestVersion, ottoAppsEnvSchema, type OttoApp } from '../common/otto-apps';
import { onOff, ottoFlowSettingsSchema, realmIssuer } from '../common/otto-settings';
import { parseSealKeys, type SealKey } from '../common/seal';
import { DEFAULT_TOKEN_TASK_QUEUE, type WorkflowSettingsInput } from '../workflows/definitions';
import { apiKeysEnvSchema } from './api-keys';
import { devStateSigningKey } from './dev-state-key';

export const DEV_API_KEYS = 'admin:dev-admin-key,support:dev-support-key';

const sealKeysEnvSchema = z.string().transform((text, ctx): SealKey[] => {
  try {
    return parseSealKeys(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'invalid key ring' });
    return z.NEVER;
  }
});

const requiredInProduction = (name: string) => `${name}: required when NODE_ENV=production`;

export const apiConfigSchema = temporalConfigSchema
  .extend({
    ...ottoFlowSettingsSchema.shape,
    NODE_ENV: z.string().default('development'),
    TOKEN_TASK_QUEUE: z.string().min(1).default(DEFAULT_TOKEN_TASK_QUEUE),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    PUBLIC_BASE_URL: z.url().default('http://localhost:3000'),
    API_KEYS: apiKeysEnvSchema.optional(),
    SEAL_KEYS: sealKeysEnvSchema.optional(),
    /** HMAC-SHA256 key for the OAuth `state`; at least 32 characters so it carries ≥ 128 bits. */
    STATE_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
    STATE_TTL: durationMs('15m'),
    OTTO_AUTH_BASE_URL: z.url().default('http://localhost:3900'),
    OTTO_API_BASE_URL: z.url().default('http://localhost:3900'),
    /** Where OPC's installation and invitation links live; an invitation link must be on this origin. */
    OTTO_PORTAL_BASE_URL: z.url().optional(),
    /**
     * The `iss` OTTO's Keycloak sends on the code callback (RFC 9207 mix-up defence); default the realm
     * URL on the auth host, `https://api.otto.market/sec-api/auth/realms/otto-partner` for the real OTTO.
     */
    OTTO_ISSUER: z.url().optional(),
    /** PKCE (S256) on /oauth2/auth and the code exchange; OTTO does not document it (otto-api.md §2.3). */
    OTTO_PKCE: onOff('on'),
    /** The token scope that allows shipping profiles (no OTTO source names it). */
    OTTO_SHIPPING_PROFILES_SCOPE: z.string().trim().min(1).default('shipping-profiles'),
    /** How long the browser-binding consent cookie (and the admin's consent link) stays valid. */
    CONSENT_COOKIE_TTL: durationMs('1h'),
    OTTO_APPS: ottoAppsEnvSchema,
    CONSENT_TIMEOUT: durationMs('24h'),
    TOKEN_REFRESH_MARGIN_SECONDS: z.coerce.number().int().positive().default(300),
    /** Per-kind transfer intervals (`kind=15m|off`); the API passes them to each new seller workflow. */
    TRANSFER_INTERVALS: transferIntervalsEnvSchema,
    /** Daily transfers (prices) run at this hour, Europe/Berlin. */
    PRICES_EXPORT_HOUR: z.coerce.number().int().min(0).max(23).default(2),
    /** Upper bound for one Temporal call, so an unreachable server becomes a quick 503 rather than a hang. */
    TEMPORAL_CALL_TIMEOUT: durationMs('10s'),
    /** Express "trust proxy": set it behind a reverse proxy so the failed-login limit sees client IPs. */
    TRUST_PROXY: z.string().optional(),
    LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  })
  .superRefine((c, ctx) => {
    // Reached only in production: loadApiConfig fills dev defaults everywhere else.
    if (c.API_KEYS === undefined)
      ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: requiredInProduction('API_KEYS') });
    if (c.SEAL_KEYS === undefined)
      ctx.addIssue({ code: 'custom', path: ['SEAL_KEYS'], message: requiredInProduction('SEAL_KEYS') });
    if (c.STATE_SIGNING_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['STATE_SIGNING_KEY'],
        message: requiredInProduction('STATE_SIGNING_KEY'),
      });
    }
  })
  .transform((c) => ({
    ...c,
    API_KEYS: c.API_KEYS!,
    SEAL_KEYS: c.SEAL_KEYS!,
    STATE_SIGNING_KEY: c.STATE_SIGNING_KEY!,
    OTTO_ISSUER: c.OTTO_ISSUER ?? realmIssuer(c.OTTO_AUTH_BASE_URL),
    OTTO_PORTAL_BASE_URL: c.OTTO_PORTAL_BASE_URL ?? c.OTTO_AUTH_BASE_URL,
    TEMPORAL_UI_URL: c.TEMPORAL_UI_URL.replace(/\/+$/, ''),
  }));
export type ApiConfig = z.output<typeof apiConfigSchema>;

/** Reads the environment once; outside production the dev secrets are generated into .data/. */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const production = env.NODE_ENV === 'production';
  const withDefaults = production
    ? env
    : {
        ...env,
        API_KEYS: env.API_KEYS ?? DEV_API_KEYS,
        SEAL_KEYS: sealKeysFromEnv(env),
        STATE_SIGNING_KEY: env.STATE_SIGNING_KEY ?? devStateSigningKey(env.DATA_DIR),
      };
  return loadConfig(apiConfigSchema, withDefaults);
}

/** The workflow's timing settings, passed by the API as the workflow's starter. */
export function workflowSettingsFrom(config: ApiConfig): WorkflowSettingsInput {
  return {
    consentTimeoutMs: config.CONSENT_TIMEOUT,
    tokenRefreshMarginMs: config.TOKEN_REFRESH_MARGIN_SECONDS * 1000,
    tokenTaskQueue: config.TOKEN_TASK_QUEUE,
    latestAppVersion: latestVersion(config.OTTO_APPS),
    transferIntervalsMs: config.TRANSFER_INTERVALS,
    dailyTransferHour: config.PRICES_EXPORT_HOUR,
    shippingProfilesScope: config.OTTO_SHIPPING_PROFILES_SCOPE,
  };
}

export function offeredApp(config: ApiConfig, version: string): OttoApp | undefined {
  return config.OTTO_APPS.find((app) => app.version === version);
}
