/**
 * Everything that can be configured about the emulator, with the defaults that make `npm run dev` and the
 * tests work without any configuration. Values OTTO does not document (see ../shared/otto-api.md, [I])
 * are options on purpose, so a test can switch to the other plausible behaviour.
 */

/** One app of the service partner. OTTO has no version field: a "v2 app" is a separate app. */
export interface EmulatorApp {
  version: string;
  appId: string;
  clientId: string;
  clientSecret: string;
  /** The app's fixed scope set; installation tokens carry exactly these. */
  scopes: string[];
  /** Exact-match registered callback URLs (OTTO compares the whole string). */
  redirectUris: string[];
  /** Shown on the consent page. */
  name: string;
}

export interface EmulatorUserInput {
  username: string;
  password: string;
  admin: boolean;
  dienstleisterFreigaben: boolean;
}

export interface EmulatorPartnerInput {
  partnerId?: string;
  users: EmulatorUserInput[];
}

/** What happens when a partner consents again to an app it already has an active installation of. */
export type ReconsentBehaviour = 'reuse' | 'refuse';

export interface EmulatorOptions {
  /** Lifetime of every token the emulator issues (OTTO: 30 minutes). */
  tokenTtlSeconds?: number;
  /** Lifetime of an authorization code (Keycloak default: 60 s). */
  codeTtlSeconds?: number;
  /** How long a login/consent page session stays usable. */
  loginSessionTtlSeconds?: number;
  /** The URL the emulator is reached at; used for form actions and, by default, `iss`. */
  publicBaseUrl?: string;
  /** The `iss` sent on the authorization callback; defaults to publicBaseUrl. */
  issuer?: string;
  /** Replaces the default apps entirely. */
  apps?: EmulatorApp[];
  /** Registered redirect URIs of the default apps (ignored when `apps` is given). */
  redirectUris?: string[];
  /** Cap on the token endpoints across all callers (OTTO: 10/s per IP; all our callers share one IP). */
  tokenRateLimitPerSecond?: number;
  /** Cap on data endpoints per partner (OTTO: 20/s per partner id). */
  partnerRateLimitPerSecond?: number;
  /**
   * [I] OTTO may let already-issued tokens of a revoked installation work until they expire. Default
   * false: they stop at once, the stricter case the connector has to survive anyway.
   */
  revokedTokensValidUntilExpiry?: boolean;
  /** [I] Keycloak only *supports* PKCE; we require S256 by default because the connector always sends it. */
  requirePkce?: boolean;
  /** [I] JTL reports re-authorizing can fail while an installation is active; default is to reuse it. */
  reconsent?: ReconsentBehaviour;
  /** Injectable clock (epoch ms) so tests can expire codes and tokens without sleeping. */
  now?: () => number;
  /** Injectable randomness for fault probabilities. */
  random?: () => number;
  /** Persist partners, installations, orders, tokens, … as JSON so a dev restart keeps them. */
  stateFile?: string;
  /** Partners created on start and after every reset (unless a state file already holds them). */
  partners?: EmulatorPartnerInput[];
  /** Oldest request-log entries are dropped beyond this many. */
  requestLogLimit?: number;
}

export const V1_SCOPES = [
  'orders',
  'products',
  'availability',
  'quantities',
  'returns',
  'shipments',
  'price-reduction',
  'receipts',
];
export const V2_SCOPES = [...V1_SCOPES, 'shipping-profiles'];
export const DEFAULT_REDIRECT_URI = 'http://localhost:3000/oauth/callback';

export function defaultApps(redirectUris: string[] = [DEFAULT_REDIRECT_URI]): EmulatorApp[] {
  return [
    {
      version: 'v1',
      appId: 'otto-connect-app-v1',
      clientId: 'otto-connect-v1',
      clientSecret: 'emulator-secret-v1',
      scopes: [...V1_SCOPES],
      redirectUris: [...redirectUris],
      name: 'otto-connect (v1)',
    },
    {
      version: 'v2',
      appId: 'otto-connect-app-v2',
      clientId: 'otto-connect-v2',
      clientSecret: 'emulator-secret-v2',
      scopes: [...V2_SCOPES],
      redirectUris: [...redirectUris],
      name: 'otto-connect (v2)',
    },
  ];
}

export interface ResolvedOptions {
  tokenTtlSeconds: number;
  codeTtlSeconds: number;
  loginSessionTtlSeconds: number;
  publicBaseUrl: string;
  /** Undefined means "follow publicBaseUrl", which startEmulator only learns after listening. */
  issuer: string | undefined;
  apps: EmulatorApp[];
  tokenRateLimitPerSecond: number;
  partnerRateLimitPerSecond: number;
  revokedTokensValidUntilExpiry: boolean;
  requirePkce: boolean;
  reconsent: ReconsentBehaviour;
  now: () => number;
  random: () => number;
  stateFile: string | undefined;
  partners: EmulatorPartnerInput[];
  requestLogLimit: number;
}

export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const apps = options.apps ?? defaultApps(options.redirectUris);
  const seen = new Set<string>();
  for (const app of apps) {
    for (const key of [`appId:${app.appId}`, `clientId:${app.clientId}`]) {
      if (seen.has(key)) throw new Error(`emulator: duplicate app ${key}`);
      seen.add(key);
    }
  }
  return {
    tokenTtlSeconds: positive('tokenTtlSeconds', options.tokenTtlSeconds ?? 1800),
    codeTtlSeconds: positive('codeTtlSeconds', options.codeTtlSeconds ?? 60),
    loginSessionTtlSeconds: positive('loginSessionTtlSeconds', options.loginSessionTtlSeconds ?? 1800),
    publicBaseUrl: stripSlash(options.publicBaseUrl ?? 'http://localhost:3900'),
    issuer: options.issuer,
    apps,
    tokenRateLimitPerSecond: positive('tokenRateLimitPerSecond', options.tokenRateLimitPerSecond ?? 10),
    partnerRateLimitPerSecond: positive('partnerRateLimitPerSecond', options.partnerRateLimitPerSecond ?? 20),
    revokedTokensValidUntilExpiry: options.revokedTokensValidUntilExpiry ?? false,
    requirePkce: options.requirePkce ?? true,
    reconsent: options.reconsent ?? 'reuse',
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    stateFile: options.stateFile,
    partners: options.partners ?? [],
    requestLogLimit: positive('requestLogLimit', options.requestLogLimit ?? 10_000),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`emulator: ${name} must be a positive number`);
  return value;
}

export function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
