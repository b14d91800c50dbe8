/**
 * `npm run start:emulator`: the OTTO emulator as a standalone process for the dev stack and for curl.
 * Configuration comes from the environment (docs/design.md §5), read once through one zod schema.
 */
import { z } from 'zod';
import {
  DEFAULT_REDIRECT_URI,
  PARTNER_ID_CLAIMS,
  USER_TOKEN_ANSWERS,
  type EmulatorPartnerInput,
  type PartnerIdClaim,
  type UserTokenAnswer,
} from './options';
import { startEmulator } from './start-emulator';

const DEMO_PARTNER: EmulatorPartnerInput = {
  partnerId: 'P-DEMO-0001',
  users: [
    { username: 'demo-admin', password: 'demo-password', admin: true, dienstleisterFreigaben: true },
    { username: 'demo-clerk', password: 'demo-password', admin: false, dienstleisterFreigaben: false },
  ],
};

const envSchema = z.object({
  OTTO_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(3900),
  OTTO_EMULATOR_HOST: z.string().min(1).default('127.0.0.1'),
  EMULATOR_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(1800),
  /** How long a price update task stays pending (ms on the emulator clock). */
  EMULATOR_PRICE_PROCESSING_DELAY_MS: z.coerce.number().int().min(0).default(2000),
  EMULATOR_STATE_FILE: z.string().min(1).optional(),
  EMULATOR_SEED_DEMO: z.enum(['0', '1', 'true', 'false']).optional(),
  /** Where browsers reach the emulator, if not at http://localhost:<port> (e.g. behind docker). */
  EMULATOR_PUBLIC_BASE_URL: z.url().optional(),
  /** Comma-separated registered redirect URIs; otherwise PUBLIC_BASE_URL/oauth/callback or the default. */
  EMULATOR_REDIRECT_URIS: z.string().min(1).optional(),
  PUBLIC_BASE_URL: z.url().optional(),
  /** [I] The user token's partner-id claim: partner_id (default), partner, or none. */
  EMULATOR_PARTNER_ID_CLAIM: z
    .enum(PARTNER_ID_CLAIMS as [PartnerIdClaim, ...PartnerIdClaim[]])
    .default('partner_id'),
  /** [I] The code exchange's answer: minimal (default, only access_token) or keycloak (the full shape). */
  EMULATOR_USER_TOKEN_ANSWER: z
    .enum(USER_TOKEN_ANSWERS as [UserTokenAnswer, ...UserTokenAnswer[]])
    .default('minimal'),
  /** 1: /oauth2/auth refuses requests without an S256 code_challenge (Keycloak's default is 0). */
  EMULATOR_REQUIRE_PKCE: z.enum(['0', '1', 'true', 'false']).optional(),
  /** 1: the front door drops code_challenge from /oauth2/auth (start value of the runtime setting). */
  EMULATOR_DROP_CODE_CHALLENGE: z.enum(['0', '1', 'true', 'false']).optional(),
});

const flag = (value: string | undefined) => value === '1' || value === 'true';

function readEnv() {
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      console.error(`[emulator] ${issue.path.join('.')}: ${issue.message}`);
    process.exit(1);
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const env = readEnv();
  const seedDemo = flag(env.EMULATOR_SEED_DEMO);
  const redirectUris = env.EMULATOR_REDIRECT_URIS
    ? env.EMULATOR_REDIRECT_URIS.split(',')
        .map((u) => u.trim())
        .filter(Boolean)
    : [
        env.PUBLIC_BASE_URL
          ? `${env.PUBLIC_BASE_URL.replace(/\/+$/, '')}/oauth/callback`
          : DEFAULT_REDIRECT_URI,
      ];

  const running = await startEmulator({
    port: env.OTTO_EMULATOR_PORT,
    host: env.OTTO_EMULATOR_HOST,
    tokenTtlSeconds: env.EMULATOR_TOKEN_TTL_SECONDS,
    priceProcessingDelayMs: env.EMULATOR_PRICE_PROCESSING_DELAY_MS,
    redirectUris,
    partnerIdClaim: env.EMULATOR_PARTNER_ID_CLAIM,
    userTokenAnswer: env.EMULATOR_USER_TOKEN_ANSWER,
    requirePkce: flag(env.EMULATOR_REQUIRE_PKCE),
    dropCodeChallenge: flag(env.EMULATOR_DROP_CODE_CHALLENGE),
    ...(env.EMULATOR_STATE_FILE ? { stateFile: env.EMULATOR_STATE_FILE } : {}),
    // Browsers and the connector's default config say localhost, not the bind address.
    publicBaseUrl: env.EMULATOR_PUBLIC_BASE_URL ?? `http://localhost:${env.OTTO_EMULATOR_PORT}`,
    ...(seedDemo ? { partners: [DEMO_PARTNER] } : {}),
  });
  const { emulator } = running;
  console.log(
    `[emulator] OTTO Market emulator listening on ${running.url} (public URL ${emulator.publicBaseUrl})`,
  );
  console.log(`[emulator] admin API: ${running.url}/__admin/apps`);
  for (const app of emulator.apps) {
    console.log(
      `[emulator] app ${app.version}: appId=${app.appId} clientId=${app.clientId} redirectUris=${app.redirectUris.join(',')}`,
    );
    const link = emulator.context.installationUrl(app);
    if (link) console.log(`[emulator]   installation link: ${link}`);
  }
  console.log(`[emulator] issuer: ${emulator.context.issuer()}`);
  if (env.EMULATOR_STATE_FILE) console.log(`[emulator] state file: ${env.EMULATOR_STATE_FILE}`);
  if (seedDemo) {
    const [admin, clerk] = DEMO_PARTNER.users;
    console.log(
      `[emulator] demo partner ${DEMO_PARTNER.partnerId}: OPC login ${admin?.username} / ${admin?.password}` +
        ` (user without rights: ${clerk?.username} / ${clerk?.password})`,
    );
  }

  const shutdown = (signal: string) => {
    console.log(`[emulator] ${signal}: shutting down`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[emulator] shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error('[emulator] failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
