import { createHmac, randomBytes } from 'node:crypto';
import type { Request } from 'express';
import type { EmulatorContext } from './emulator-context';
import { uuid } from './ids';
import type { TokenFreshness } from './request-log';
import type { IssuedToken, TokenKind } from './state';

/** Expired tokens and used codes are kept this long, so a late call is reported as "expired", not unknown. */
const KEEP_AFTER_EXPIRY_MS = 60 * 60 * 1000;

export function issueToken(
  ctx: EmulatorContext,
  input: {
    kind: TokenKind;
    appId: string;
    scopes: string[];
    partnerId?: string;
    installationId?: string;
    fromCode?: string;
  },
): IssuedToken {
  const now = ctx.now();
  prune(ctx, now);
  const expiresAt = now + ctx.options.tokenTtlSeconds * 1000;
  const token: IssuedToken = {
    token: jwt(ctx, input, now, expiresAt),
    issuedAt: now,
    expiresAt,
    ...input,
  };
  ctx.state.tokens.push(token);
  return token;
}

/**
 * OTTO's tokens are Keycloak JWTs, and clients may read claims such as `partnerId` from them, so ours are
 * JWT-shaped too. The emulator itself never trusts the claims: it looks every token up in its state.
 */
const signingKey = randomBytes(32);

function jwt(
  ctx: EmulatorContext,
  input: { kind: TokenKind; appId: string; scopes: string[]; partnerId?: string; installationId?: string },
  now: number,
  expiresAt: number,
): string {
  const app = ctx.appById(input.appId);
  const header = { alg: 'HS256', typ: 'JWT', kid: 'otto-emulator' };
  const payload = {
    iss: ctx.issuer(),
    jti: uuid(),
    iat: Math.floor(now / 1000),
    exp: Math.floor(expiresAt / 1000),
    azp: app?.clientId ?? input.appId,
    sub: input.partnerId ?? app?.clientId ?? input.appId,
    scope: input.scopes.join(' '),
    token_use: input.kind,
    ...(input.partnerId !== undefined ? { partnerId: input.partnerId } : {}),
    ...(input.installationId !== undefined ? { installationId: input.installationId } : {}),
  };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  return `${unsigned}.${createHmac('sha256', signingKey).update(unsigned).digest('base64url')}`;
}

function prune(ctx: EmulatorContext, now: number): void {
  const cutoff = now - KEEP_AFTER_EXPIRY_MS;
  ctx.state.tokens = ctx.state.tokens.filter((t) => t.expiresAt > cutoff);
  ctx.state.codes = ctx.state.codes.filter((c) => c.expiresAt > cutoff);
}

/** The token response body both token endpoints and the accessToken endpoint answer with. */
export function tokenResponse(ctx: EmulatorContext, token: IssuedToken): Record<string, unknown> {
  return {
    access_token: token.token,
    token_type: 'Bearer',
    expires_in: ctx.options.tokenTtlSeconds,
    scope: token.scopes.join(' '),
  };
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
  if (!token) return { freshness: 'invalid' };
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
