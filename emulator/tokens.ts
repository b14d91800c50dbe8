import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { EmulatorContext } from './emulator-context';
import { uuid } from './ids';
import type { TokenFreshness } from './request-log';
import type { IssuedToken, TokenKind } from './state';

/** Expired tokens and used codes are kept this long, so a late call is reported as "expired", not unknown. */
const KEEP_AFTER_EXPIRY_MS = 60 * 60 * 1000;

export interface TokenInput {
  kind: TokenKind;
  appId: string;
  scopes: string[];
  partnerId?: string;
  installationId?: string;
  username?: string;
  sessionState?: string;
  fromCode?: string;
}

export function issueToken(ctx: EmulatorContext, input: TokenInput): IssuedToken {
  const now = ctx.now();
  prune(ctx, now);
  const expiresAt = now + ttlSeconds(ctx, input.kind) * 1000;
  const token: IssuedToken = {
    token: jwt(ctx, input, now, expiresAt),
    issuedAt: now,
    expiresAt,
    ...input,
  };
  ctx.state.tokens.push(token);
  return token;
}

function ttlSeconds(ctx: EmulatorContext, kind: TokenKind): number {
  if (kind === 'user') return ctx.options.userTokenTtlSeconds;
  if (kind === 'refresh') return ctx.options.userTokenRefreshTtlSeconds;
  return ctx.options.tokenTtlSeconds;
}

/**
 * OTTO's tokens are Keycloak JWTs and clients may read claims from them, so ours are JWT-shaped too, with
 * the claims OTTO's samples show (docs/otto-api.md §2.4). The emulator itself never trusts the claims: it looks
 * every token up in its state.
 */
const signingKey = randomBytes(32);

function jwt(ctx: EmulatorContext, input: TokenInput, now: number, expiresAt: number): string {
  const app = ctx.appById(input.appId);
  const clientId = app?.clientId ?? input.appId;
  const header = { alg: 'HS256', typ: 'JWT', kid: 'otto-emulator' };
  const common = {
    exp: Math.floor(expiresAt / 1000),
    iat: Math.floor(now / 1000),
    jti: uuid(),
    iss: ctx.issuer(),
  };
  const claim = ctx.settings.partnerIdClaim;
  const partnerClaim =
    input.partnerId !== undefined && claim !== 'none' ? { [claim]: String(input.partnerId) } : {};
  let payload: Record<string, unknown>;
  switch (input.kind) {
    case 'user':
      payload = {
        ...common,
        sub: userSubject(input.username ?? ''),
        typ: 'Bearer',
        azp: clientId,
        session_state: input.sessionState,
        sid: input.sessionState,
        scope: input.scopes.join(' '),
        preferred_username: input.username,
        ...partnerClaim,
      };
      break;
    case 'refresh':
      payload = {
        ...common,
        aud: ctx.issuer(),
        sub: userSubject(input.username ?? ''),
        typ: 'Refresh',
        azp: clientId,
        session_state: input.sessionState,
        sid: input.sessionState,
        scope: input.scopes.join(' '),
      };
      break;
    case 'developer':
      // OTTO's client-credentials sample: azp, clientId, scope, realm_access.roles; no partner.
      payload = {
        ...common,
        typ: 'Bearer',
        azp: clientId,
        clientId,
        scope: input.scopes.join(' '),
        realm_access: { roles: [] },
      };
      break;
    case 'installation':
      payload = { ...common, typ: 'Bearer', azp: clientId, scope: input.scopes.join(' '), ...partnerClaim };
      break;
  }
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  return `${unsigned}.${createHmac('sha256', signingKey).update(unsigned).digest('base64url')}`;
}

/** Keycloak's `sub` is the user's UUID; ours is derived from the username so it is stable. */
function userSubject(username: string): string {
  const hex = createHash('sha256').update(`opc-user:${username}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function prune(ctx: EmulatorContext, now: number): void {
  const cutoff = now - KEEP_AFTER_EXPIRY_MS;
  ctx.state.tokens = ctx.state.tokens.filter((t) => t.expiresAt > cutoff);
  ctx.state.codes = ctx.state.codes.filter((c) => c.expiresAt > cutoff);
}

/**
 * The code exchange / refresh answer. OTTO does not specify it (docs/otto-api.md §2.4), so by default only
 * `access_token` (option `userTokenAnswer`); `keycloak`: field for field OTTO's token samples.
 */
export function userTokenResponse(
  ctx: EmulatorContext,
  access: IssuedToken,
  refresh: IssuedToken,
): Record<string, unknown> {
  if (ctx.options.userTokenAnswer === 'minimal') return { access_token: access.token };
  return {
    access_token: access.token,
    expires_in: ctx.options.userTokenTtlSeconds,
    refresh_expires_in: ctx.options.userTokenRefreshTtlSeconds,
    refresh_token: refresh.token,
    token_type: 'Bearer',
    'not-before-policy': 0,
    session_state: access.sessionState,
    scope: access.scopes.join(' '),
  };
}

/** ClientCredentialResponseDeveloperV1: exactly these three fields. */
export function developerTokenResponse(ctx: EmulatorContext, token: IssuedToken): Record<string, unknown> {
  return {
    access_token: token.token,
    expires_in: ctx.options.tokenTtlSeconds,
    scope: token.scopes.join(' '),
  };
}

/** AppInstallationAccessTokenResponseDeveloperV1: exactly these two fields. */
export function installationTokenResponse(ctx: EmulatorContext, token: IssuedToken): Record<string, unknown> {
  return { access_token: token.token, expires_in: ctx.options.tokenTtlSeconds };
}

export function bearerOf(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export interface TokenInspection {
  freshness: Exclude<TokenFreshness, 'wrong_scope'>;
  token?: IssuedToken;
}

export function inspectBearer(ctx: EmulatorContext, req: Request): TokenInspection {
  const raw = bearerOf(req);
  if (!raw) return { freshness: 'missing' };
  const token = ctx.state.tokens.find((t) => t.token === raw);
  // A refresh token is no Bearer token.
  if (!token || token.kind === 'refresh') return { freshness: 'invalid' };
  if (token.revokedAt !== undefined) return { freshness: 'revoked', token };
  if (token.kind === 'installation' && !ctx.options.revokedTokensValidUntilExpiry) {
    // Default [I]: OTTO *may* honour issued tokens of a revoked installation until they expire; we stop
    // them at once, which is the harder case for the connector (see options.revokedTokensValidUntilExpiry).
    const installation = ctx.state.installations.find((i) => i.installationId === token.installationId);
    if (!installation || installation.revokedAt) return { freshness: 'revoked', token };
  }
  if (token.expiresAt <= ctx.now()) return { freshness: 'expired', token };
  return { freshness: 'valid', token };
}

/** Only the HTTP semantics of a refused Bearer token: OTTO's gateway answers 401 with RFC 6750 hints. */
export function bearerProblem(freshness: TokenFreshness): string {
  switch (freshness) {
    case 'missing':
      return 'No Bearer token was sent';
    case 'invalid':
      return 'The Bearer token is unknown';
    case 'expired':
      return 'The Bearer token has expired';
    case 'revoked':
      return 'The Bearer token was revoked (the app was uninstalled)';
    default:
      return 'The Bearer token was refused';
  }
}
