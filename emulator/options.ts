/**
 * Everything that can be configured about the emulator, with the defaults that make `npm run dev` and the
 * tests work without any configuration. Values OTTO does not document (see docs/otto-api.md, [I])
 * are options on purpose, so a test can switch to the other plausible behaviour.
 */

/**
 * Public apps have one universal installation link; private apps only single-use invitation links
 * (docs/otto-api.md §1, §2.1).
 */
export type AppVisibility = 'public' | 'private';

/** One app of the service partner. OTTO has no version field: a "v2 app" is a separate app. */
export interface EmulatorApp {
  version: string;
  appId: string;
  clientId: string;
  clientSecret: string;
  /** The app's fixed scope set; the consent screen lists all of them and installation tokens carry them. */
  scopes: string[];
  /**
   * Exact-match registered callback URLs (OTTO compares the whole string). OTTO registers one; the first
   * is where OPC sends the browser after an installation.
   */
  redirectUris: string[];
  /** Shown on the OPC pages. */
  name: string;
  /** Default 'public'. */
  visibility?: AppVisibility;
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

/**
 * [I] Which JWT claim of the user token carries the partner id (OTTO's samples show both; a
 * client-credentials sample has neither, so `none` issues user tokens without one).
 */
export type PartnerIdClaim = 'partner_id' | 'partner' | 'none';
export const PARTNER_ID_CLAIMS: PartnerIdClaim[] = ['partner_id', 'partner', 'none'];

/** [I] What minting answers for a revoked installation (docs/otto-api.md §4: undocumented; 400/401/403/404). */
export type RevokedMintStatus = 400 | 401 | 403 | 404;
export const REVOKED_MINT_STATUSES: RevokedMintStatus[] = [400, 401, 403, 404];

/**
 * [I] The answer of `/oauth2/token` for the user grants (code exchange, refresh). OTTO does not specify
 * it (docs/otto-api.md §2.4: "parse every field as optional"), so the default is the least a client can
 * get, `{ access_token }`; `keycloak` answers the full shape of OTTO's samples for other grants.
 */
export type UserTokenAnswer = 'minimal' | 'keycloak';
export const USER_TOKEN_ANSWERS: UserTokenAnswer[] = ['minimal', 'keycloak'];

/** The Keycloak realm behind OTTO's OAuth endpoints (docs/otto-api.md §2.3). */
export const REALM_PATH = '/sec-api/auth/realms/otto-partner';

export interface EmulatorOptions {
  /** Lifetime of developer and installation tokens (OTTO: 30 minutes), and by default of user tokens. */
  tokenTtlSeconds?: number;
  /** [I] Lifetime of the user token from the code exchange (undocumented; default tokenTtlSeconds). */
  userTokenTtlSeconds?: number;
  /** [I] `refresh_expires_in` of the user token's refresh token (OTTO's password-grant sample: 7200). */
  userTokenRefreshTtlSeconds?: number;
  /** Lifetime of an authorization code (Keycloak default: 60 s). */
  codeTtlSeconds?: number;
  /** Lifetime of a private app's invitation link (OTTO: 24 h). */
  invitationTtlSeconds?: number;
  /** How long a login/consent page session stays usable. */
  loginSessionTtlSeconds?: number;
  /** The URL the emulator is reached at; used for links, form actions and, by default, the issuer. */
  publicBaseUrl?: string;
  /** `iss` of callbacks, tokens and discovery; default `${publicBaseUrl}/sec-api/auth/realms/otto-partner`. */
  issuer?: string;
  /** Replaces the default apps entirely. */
  apps?: EmulatorApp[];
  /** Registered redirect URIs of the default apps (ignored when `apps` is given). */
  redirectUris?: string[];
  /** Cap on the token endpoints across all callers (OTTO: 10/s per IP; all our callers share one IP). */
  tokenRateLimitPerSecond?: number;
  /**
   * [I] The largest `limit` of `GET /v4/orders`: OTTO's parameter text says 256, its summary 128
   * (docs/otto-api.md §5.1, §7.5). Default 128, the stricter reading: 129 is a 400.
   */
  ordersMaxLimit?: number;
  /**
   * [I] Shipping profiles per page: the spec says 300, the docs 200 (docs/otto-api.md §5.5, §7.5). Default
   * 200, the smaller pages, so a client that stops at a short page or keeps one page is caught.
   */
  shippingProfilesPageSize?: number;
  /** Cap on data endpoints per partner (OTTO: 20/s per partner id). */
  partnerRateLimitPerSecond?: number;
  /**
   * Cap on GET requests under `/v5/products` (the price update tasks) per partner, within the partner's
   * cap (OTTO: "/products GET 10/s", docs/otto-api.md §5.8; the emulator counts the task polls under it).
   */
  productsReadRateLimitPerSecond?: number;
  /**
   * How long a price update task (`POST /v5/products/prices`) stays `pending` on the injectable clock
   * before it settles and the prices apply (default 2000 ms; env EMULATOR_PRICE_PROCESSING_DELAY_MS).
   */
  priceProcessingDelayMs?: number;
  /**
   * [I] Scope each seller data API requires (docs/otto-api.md §3.1, §7.3). Defaults: orders `orders`,
   * availability `availability`, prices `products`, returns `returns`, shipments `shipments`,
   * shippingProfiles `shipping-profiles`.
   */
  dataScopes?: Partial<
    Record<'orders' | 'availability' | 'prices' | 'returns' | 'shipments' | 'shippingProfiles', string>
  >;
  /**
   * [I] OTTO may let already-issued tokens of a revoked installation work until they expire. Default
   * false: they stop at once, the stricter case the connector has to survive anyway.
   */
  revokedTokensValidUntilExpiry?: boolean;
  /**
   * [I] The status minting answers for a revoked installation (default 403; 400, 401 and 404 are the other
   * readings of docs/otto-api.md §4). Start value of the runtime setting (`PATCH /__admin/settings`).
   */
  revokedMintStatus?: RevokedMintStatus;
  /**
   * [I] Installing an app again after "Zugriff entziehen" gives back the old `installationId` instead of a
   * new one (docs/otto-api.md §4: undocumented). Tokens issued before the revocation stay dead. Start value
   * of the runtime setting; default false.
   */
  reinstallKeepsInstallationId?: boolean;
  /** [I] Keycloak only *supports* PKCE (default false); true refuses /oauth2/auth without an S256 challenge. */
  requirePkce?: boolean;
  /**
   * [I] A front door in front of Keycloak that strips `code_challenge`/`code_challenge_method` from
   * /oauth2/auth (so a `code_verifier` later fails the exchange). Start value of the runtime setting
   * (`PATCH /__admin/settings`); default false.
   */
  dropCodeChallenge?: boolean;
  /** [I] The user token's partner-id claim: `partner_id` (default), `partner`, or `none` (no such claim). */
  partnerIdClaim?: PartnerIdClaim;
  /** [I] `/oauth2/token`'s answer for user tokens: `minimal` (default, `{ access_token }`) or `keycloak`. */
  userTokenAnswer?: UserTokenAnswer;
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
      visibility: 'public',
    },
    {
      version: 'v2',
      appId: 'otto-connect-app-v2',
      clientId: 'otto-connect-v2',
      clientSecret: 'emulator-secret-v2',
      scopes: [...V2_SCOPES],
      redirectUris: [...redirectUris],
      name: 'otto-connect (v2)',
      visibility: 'public',
    },
  ];
}

export interface ResolvedApp extends EmulatorApp {
  visibility: AppVisibility;
}

export interface ResolvedOptions {
  tokenTtlSeconds: number;
  userTokenTtlSeconds: number;
  userTokenRefreshTtlSeconds: number;
  codeTtlSeconds: number;
  invitationTtlSeconds: number;
  loginSessionTtlSeconds: number;
  publicBaseUrl: string;
  /** Undefined means "follow publicBaseUrl", which startEmulator only learns after listening. */
  issuer: string | undefined;
  apps: ResolvedApp[];
  tokenRateLimitPerSecond: number;
  partnerRateLimitPerSecond: number;
  ordersMaxLimit: number;
  shippingProfilesPageSize: number;
  productsReadRateLimitPerSecond: number;
  priceProcessingDelayMs: number;
  dataScopes: NonNullable<EmulatorOptions['dataScopes']>;
  revokedTokensValidUntilExpiry: boolean;
  requirePkce: boolean;
  dropCodeChallenge: boolean;
  revokedMintStatus: RevokedMintStatus;
  reinstallKeepsInstallationId: boolean;
  partnerIdClaim: PartnerIdClaim;
  userTokenAnswer: UserTokenAnswer;
  now: () => number;
  random: () => number;
  stateFile: string | undefined;
  partners: EmulatorPartnerInput[];
  requestLogLimit: number;
}

export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const apps: ResolvedApp[] = (options.apps ?? defaultApps(options.redirectUris)).map((app) => ({
    ...app,
    visibility: app.visibility ?? 'public',
  }));
  const seen = new Set<string>();
  for (const app of apps) {
    if (app.visibility !== 'public' && app.visibility !== 'private') {
      throw new Error(`emulator: app ${app.appId} has an invalid visibility`);
    }
    if (app.redirectUris.length === 0) throw new Error(`emulator: app ${app.appId} has no redirect URI`);
    for (const key of [`appId:${app.appId}`, `clientId:${app.clientId}`]) {
      if (seen.has(key)) throw new Error(`emulator: duplicate app ${key}`);
      seen.add(key);
    }
  }
  const partnerIdClaim = options.partnerIdClaim ?? 'partner_id';
  if (!PARTNER_ID_CLAIMS.includes(partnerIdClaim)) {
    throw new Error(`emulator: partnerIdClaim must be one of ${PARTNER_ID_CLAIMS.join(', ')}`);
  }
  const revokedMintStatus = options.revokedMintStatus ?? 403;
  if (!REVOKED_MINT_STATUSES.includes(revokedMintStatus)) {
    throw new Error(`emulator: revokedMintStatus must be one of ${REVOKED_MINT_STATUSES.join(', ')}`);
  }
  const userTokenAnswer = options.userTokenAnswer ?? 'minimal';
  if (!USER_TOKEN_ANSWERS.includes(userTokenAnswer)) {
    throw new Error(`emulator: userTokenAnswer must be one of ${USER_TOKEN_ANSWERS.join(', ')}`);
  }
  const tokenTtlSeconds = positive('tokenTtlSeconds', options.tokenTtlSeconds ?? 1800);
  return {
    tokenTtlSeconds,
    userTokenTtlSeconds: positive('userTokenTtlSeconds', options.userTokenTtlSeconds ?? tokenTtlSeconds),
    userTokenRefreshTtlSeconds: positive(
      'userTokenRefreshTtlSeconds',
      options.userTokenRefreshTtlSeconds ?? 7200,
    ),
    codeTtlSeconds: positive('codeTtlSeconds', options.codeTtlSeconds ?? 60),
    invitationTtlSeconds: positive('invitationTtlSeconds', options.invitationTtlSeconds ?? 24 * 60 * 60),
    loginSessionTtlSeconds: positive('loginSessionTtlSeconds', options.loginSessionTtlSeconds ?? 1800),
    publicBaseUrl: stripSlash(options.publicBaseUrl ?? 'http://localhost:3900'),
    issuer: options.issuer,
    apps,
    tokenRateLimitPerSecond: positive('tokenRateLimitPerSecond', options.tokenRateLimitPerSecond ?? 10),
    partnerRateLimitPerSecond: positive('partnerRateLimitPerSecond', options.partnerRateLimitPerSecond ?? 20),
    ordersMaxLimit: positiveInteger('ordersMaxLimit', options.ordersMaxLimit ?? 128),
    shippingProfilesPageSize: positiveInteger(
      'shippingProfilesPageSize',
      options.shippingProfilesPageSize ?? 200,
    ),
    productsReadRateLimitPerSecond: positive(
      'productsReadRateLimitPerSecond',
      options.productsReadRateLimitPerSecond ?? 10,
    ),
    priceProcessingDelayMs: nonNegative('priceProcessingDelayMs', options.priceProcessingDelayMs ?? 2000),
    dataScopes: { ...options.dataScopes },
    revokedTokensValidUntilExpiry: options.revokedTokensValidUntilExpiry ?? false,
    requirePkce: options.requirePkce ?? false,
    dropCodeChallenge: options.dropCodeChallenge ?? false,
    revokedMintStatus,
    reinstallKeepsInstallationId: options.reinstallKeepsInstallationId ?? false,
    partnerIdClaim,
    userTokenAnswer,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    stateFile: options.stateFile,
    partners: options.partners ?? [],
    requestLogLimit: positive('requestLogLimit', options.requestLogLimit ?? 10_000),
  };
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`emulator: ${name} must be a number >= 0`);
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new Error(`emulator: ${name} must be a positive integer`);
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`emulator: ${name} must be a positive number`);
  return value;
}

export function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
