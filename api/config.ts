/**
 * The API's configuration: one zod schema over the environment (docs/design.md §5). Fail closed: dev defaults
 * for the secrets (API keys, seal keys, state key), the OTTO hosts and the public URL exist only with
 * `OTTO_CONNECT_ENV=dev` (`loadApiConfig` generates the secrets then); without it every secret is
 * required, published or weak keys are refused and the URLs must be https — each refusal names the
 * variable. The API needs OTTO client ids only: OTTO_APPS is parsed without client secrets. Sellers'
 * workflow settings (intervals, margins, token queues) are the worker's configuration, not the API's:
 * the API starts each workflow with the seller's overrides only.
 */
import { z } from 'zod';
import {
  DEV_HOST,
  DEV_OTTO_BASE_URL,
  DEV_PUBLIC_BASE_URL,
  durationMs,
  httpsOutsideDev,
  isDevEnv,
  keyBytesWeakness,
  loadConfig,
  requireOutsideDev,
  requireSecret,
  runEnvSchema,
  temporalConfigSchema,
  textSecretWeakness,
  withSecretFiles,
} from '../common/config';
import { sealKeysFromEnv } from '../common/dev-secrets';
import { publicOttoAppsEnvSchema, type PublicOttoApp } from '../common/otto-apps';
import { onOff, ottoFlowSettingsSchema, realmIssuer } from '../common/otto-settings';
import { parseSealKeys, type SealKey } from '../common/seal';
import { frameAncestorsSchema } from './assistant-session';
import { apiKeysEnvSchema, DEV_API_KEYS, productionApiKeyWeakness } from './api-keys';
import { devStateSigningKey } from './dev-state-key';

export { DEV_API_KEYS };

const sealKeysEnvSchema = z.string().transform((text, ctx): SealKey[] => {
  try {
    return parseSealKeys(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'invalid key ring' });
    return z.NEVER;
  }
});

export const apiConfigSchema = temporalConfigSchema
  .extend({
    ...ottoFlowSettingsSchema.shape,
    /** `dev` turns on dev defaults and relaxations (npm run dev, tests); unset or `production`: none. */
    OTTO_CONNECT_ENV: runEnvSchema,
    NODE_ENV: z.string().default('development'),
    /** Interface the API listens on: dev 127.0.0.1; otherwise all interfaces unless set (0.0.0.0 in compose). */
    HOST: z.string().trim().min(1).optional(),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    /** The ops server (/healthz, /readyz, /metrics): a separate port, loopback unless OPS_HOST says so. */
    OPS_PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
    OPS_HOST: z.string().trim().min(1).default('127.0.0.1'),
    /** Required (https) outside dev; dev default http://localhost:3000. */
    PUBLIC_BASE_URL: z.url().optional(),
    API_KEYS: apiKeysEnvSchema.optional(),
    SEAL_KEYS: sealKeysEnvSchema.optional(),
    /** HMAC-SHA256 key for the OAuth `state`; at least 32 characters so it carries ≥ 128 bits. */
    STATE_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
    STATE_TTL: durationMs('15m'),
    /** Required (https) outside dev; dev default: the emulator on localhost:3900. */
    OTTO_AUTH_BASE_URL: z.url().optional(),
    OTTO_API_BASE_URL: z.url().optional(),
    /** Where OPC's installation and invitation links live; an invitation link must be on this origin. */
    OTTO_PORTAL_BASE_URL: z.url().optional(),
    /**
     * The `iss` OTTO's Keycloak sends on the code callback (RFC 9207 mix-up defence); default the realm
     * URL on the auth host, `https://api.otto.market/sec-api/auth/realms/otto-partner` for the real OTTO.
     */
    OTTO_ISSUER: z.url().optional(),
    /** PKCE (S256) on /oauth2/auth and the code exchange; OTTO does not document it (docs/otto-api.md §2.3). */
    OTTO_PKCE: onOff('on'),
    /** How long the browser-binding consent cookie (and the admin's consent link) stays valid. */
    CONSENT_COOKIE_TTL: durationMs('1h'),
    /** Assistant sessions (api/assistant-session.ts): the shop's one-time link, then the session cookie. */
    ASSISTANT_LINK_TTL: durationMs('10m'),
    ASSISTANT_SESSION_TTL: durationMs('1h'),
    /** CSP frame-ancestors of the assistant pages: the shop's admin UI origins that may embed it. */
    ASSISTANT_FRAME_ANCESTORS: frameAncestorsSchema,
    /** Client ids only: a `clientSecret` in an entry is accepted and dropped (the worker exchanges codes). */
    OTTO_APPS: publicOttoAppsEnvSchema.optional(),
    /** Upper bound for one Temporal call, so an unreachable server becomes a quick 503 rather than a hang. */
    TEMPORAL_CALL_TIMEOUT: durationMs('10s'),
    /** The seller store the shop routes read and write (store/open-seller-store.ts): as the worker's. */
    SELLER_STORE: z.string().min(1).default('.data/seller-store.db'),
    /** Express "trust proxy": set it behind a reverse proxy so the failed-login limit sees client IPs. */
    TRUST_PROXY: z.string().optional(),
    LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  })
  .superRefine((c, ctx) => {
    // loadApiConfig fills the secrets in dev; here they are required whatever the mode.
    requireSecret(ctx, 'API_KEYS', c.API_KEYS);
    requireSecret(ctx, 'SEAL_KEYS', c.SEAL_KEYS);
    requireSecret(ctx, 'STATE_SIGNING_KEY', c.STATE_SIGNING_KEY);
    requireSecret(ctx, 'OTTO_APPS', c.OTTO_APPS);
    const dev = c.OTTO_CONNECT_ENV === 'dev';
    for (const name of ['PUBLIC_BASE_URL', 'OTTO_AUTH_BASE_URL', 'OTTO_API_BASE_URL'] as const)
      requireOutsideDev(ctx, dev, name, c[name]);
    for (const name of [
      'PUBLIC_BASE_URL',
      'OTTO_AUTH_BASE_URL',
      'OTTO_API_BASE_URL',
      'OTTO_PORTAL_BASE_URL',
      'OTTO_ISSUER',
    ] as const)
      httpsOutsideDev(ctx, dev, name, c[name]);
    (c.OTTO_APPS ?? []).forEach((app, index) =>
      httpsOutsideDev(ctx, dev, 'OTTO_APPS', app.installationUrl, `${index}.installationUrl`),
    );
    if (dev) return;
    (c.API_KEYS ?? []).forEach(({ role, key }, index) => {
      const weakness = productionApiKeyWeakness(key);
      if (weakness)
        ctx.addIssue({
          code: 'custom',
          path: ['API_KEYS'],
          message: `entry ${index + 1} (${role}): the key ${weakness}`,
        });
    });
    for (const { kid, key } of c.SEAL_KEYS ?? []) {
      const weakness = keyBytesWeakness(key);
      if (weakness) ctx.addIssue({ code: 'custom', path: ['SEAL_KEYS'], message: `key ${kid} ${weakness}` });
    }
    const stateKeyWeakness = c.STATE_SIGNING_KEY && textSecretWeakness(c.STATE_SIGNING_KEY);
    if (stateKeyWeakness)
      ctx.addIssue({ code: 'custom', path: ['STATE_SIGNING_KEY'], message: `the key ${stateKeyWeakness}` });
  })
  .transform((c) => {
    const dev = c.OTTO_CONNECT_ENV === 'dev';
    const authBaseUrl = c.OTTO_AUTH_BASE_URL ?? DEV_OTTO_BASE_URL;
    return {
      ...c,
      API_KEYS: c.API_KEYS!,
      SEAL_KEYS: c.SEAL_KEYS!,
      STATE_SIGNING_KEY: c.STATE_SIGNING_KEY!,
      OTTO_APPS: c.OTTO_APPS!,
      /** undefined: all interfaces (Node's default). */
      HOST: c.HOST ?? (dev ? DEV_HOST : undefined),
      PUBLIC_BASE_URL: c.PUBLIC_BASE_URL ?? DEV_PUBLIC_BASE_URL,
      OTTO_AUTH_BASE_URL: authBaseUrl,
      OTTO_API_BASE_URL: c.OTTO_API_BASE_URL ?? DEV_OTTO_BASE_URL,
      OTTO_ISSUER: c.OTTO_ISSUER ?? realmIssuer(authBaseUrl),
      OTTO_PORTAL_BASE_URL: c.OTTO_PORTAL_BASE_URL ?? authBaseUrl,
      TEMPORAL_UI_URL: c.TEMPORAL_UI_URL.replace(/\/+$/, ''),
    };
  });
export type ApiConfig = z.output<typeof apiConfigSchema>;

/**
 * Reads the environment once (secrets also from `<NAME>_FILE`); only with OTTO_CONNECT_ENV=dev are the
 * missing secrets filled in: the published dev API keys and keys generated once into .data/.
 */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const resolved = withSecretFiles(env);
  const withDefaults = isDevEnv(resolved)
    ? {
        ...resolved,
        API_KEYS: resolved.API_KEYS ?? DEV_API_KEYS,
        SEAL_KEYS: sealKeysFromEnv(resolved),
        STATE_SIGNING_KEY: resolved.STATE_SIGNING_KEY ?? devStateSigningKey(resolved.DATA_DIR),
      }
    : resolved;
  return loadConfig(apiConfigSchema, withDefaults);
}

export function offeredApp(config: ApiConfig, version: string): PublicOttoApp | undefined {
  return config.OTTO_APPS.find((app) => app.version === version);
}
