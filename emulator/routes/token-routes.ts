import type { Router, Request, Response } from 'express';
import { authenticateClient } from '../client-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendOAuthError } from '../http-errors';
import { s256 } from '../ids';
import { formParams } from '../request-params';
import { facts } from '../request-log';
import { REALM_PATH, type EmulatorApp } from '../options';
import type { IssuedToken } from '../state';
import { developerTokenResponse, issueToken, userTokenResponse } from '../tokens';
import { uuid } from '../ids';
import { exactRouter } from './exact-router';

/**
 * POST /oauth2/token (Keycloak: code exchange, refresh, client credentials), POST /v1/token (OTTO's
 * developer token) and the realm's discovery document.
 */
export function tokenRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();

  router.post('/oauth2/token', (req, res) => {
    handleToken(ctx, req, res, ['authorization_code', 'refresh_token', 'client_credentials'], true);
  });
  router.post('/v1/token', (req, res) => {
    handleToken(ctx, req, res, ['client_credentials'], false);
  });

  router.get(`${REALM_PATH}/.well-known/openid-configuration`, (_req, res) => {
    res.json({
      issuer: ctx.issuer(),
      authorization_endpoint: `${ctx.publicBaseUrl}/oauth2/auth`,
      token_endpoint: `${ctx.publicBaseUrl}/oauth2/token`,
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['openid', 'installation', 'partnerId', 'developer'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  return router;
}

function handleToken(
  ctx: EmulatorContext,
  req: Request,
  res: Response,
  grants: string[],
  basicAuth: boolean,
): void {
  if (!req.is('application/x-www-form-urlencoded')) {
    sendOAuthError(res, 400, 'invalid_request', 'The request body must be application/x-www-form-urlencoded');
    return;
  }
  const form = formParams(req);
  const grantType = form.grant_type;
  if (!grantType) {
    sendOAuthError(res, 400, 'invalid_request', 'Missing form parameter: grant_type');
    return;
  }
  if (!grants.includes(grantType)) {
    sendOAuthError(res, 400, 'unsupported_grant_type', `Unsupported grant_type "${grantType}"`);
    return;
  }
  const client = authenticateClient(ctx, req, form, { basic: basicAuth });
  if (!client.ok) {
    const message =
      client.reason === 'missing'
        ? 'Client authentication is required (client_id and client_secret)'
        : client.reason === 'unknown_client'
          ? 'Invalid client credentials'
          : 'Invalid client or Invalid client credentials';
    sendOAuthError(res, 401, 'invalid_client', message);
    return;
  }
  facts(res).appId = client.app.appId;
  if (grantType === 'client_credentials') clientCredentials(ctx, res, client.app, form);
  else if (grantType === 'refresh_token') refresh(ctx, res, client.app, form);
  else authorizationCode(ctx, res, client.app, form);
}

function clientCredentials(
  ctx: EmulatorContext,
  res: Response,
  app: EmulatorApp,
  form: Record<string, string | undefined>,
): void {
  // scope is optional; without it Keycloak grants the client's default scopes, which do not include
  // `developer` (optional scopes must be asked for), so such a token cannot mint installation tokens.
  const scopes = [...new Set((form.scope ?? '').split(' ').filter(Boolean))];
  const wrong = scopes.filter((s) => s !== 'developer');
  if (wrong.length > 0) {
    sendOAuthError(res, 400, 'invalid_scope', `Invalid scopes: ${wrong.join(' ')}`);
    return;
  }
  const token = issueToken(ctx, { kind: 'developer', appId: app.appId, scopes });
  ctx.persist();
  res.set('Cache-Control', 'no-store').status(200).json(developerTokenResponse(ctx, token));
}

function refresh(
  ctx: EmulatorContext,
  res: Response,
  app: EmulatorApp,
  form: Record<string, string | undefined>,
): void {
  if (!form.refresh_token) {
    sendOAuthError(res, 400, 'invalid_request', 'Missing parameter: refresh_token');
    return;
  }
  const old = ctx.state.tokens.find((t) => t.token === form.refresh_token && t.kind === 'refresh');
  if (!old) {
    sendOAuthError(res, 400, 'invalid_grant', 'Invalid refresh token');
    return;
  }
  if (old.appId !== app.appId) {
    sendOAuthError(
      res,
      400,
      'invalid_grant',
      'Invalid refresh token. Token client and authorized client do not match',
    );
    return;
  }
  if (old.partnerId) facts(res).partnerId = old.partnerId;
  if (old.revokedAt !== undefined || old.expiresAt <= ctx.now()) {
    sendOAuthError(res, 400, 'invalid_grant', 'Token is not active');
    return;
  }
  const requested = form.scope?.split(' ').filter(Boolean);
  if (requested && requested.some((s) => !old.scopes.includes(s))) {
    sendOAuthError(res, 400, 'invalid_scope', 'Invalid scopes: the refresh token was not granted them');
    return;
  }
  sendUserTokens(ctx, res, old, requested && requested.length > 0 ? requested : old.scopes);
}

/** A user token plus its refresh token (Keycloak's login session answer). */
function sendUserTokens(
  ctx: EmulatorContext,
  res: Response,
  from: Pick<IssuedToken, 'appId' | 'partnerId' | 'username' | 'sessionState' | 'fromCode'>,
  scopes: string[],
): void {
  const base = {
    appId: from.appId,
    scopes,
    ...(from.partnerId !== undefined ? { partnerId: from.partnerId } : {}),
    ...(from.username !== undefined ? { username: from.username } : {}),
    sessionState: from.sessionState ?? uuid(),
    ...(from.fromCode !== undefined ? { fromCode: from.fromCode } : {}),
  };
  const access = issueToken(ctx, { kind: 'user', ...base });
  const refreshToken = issueToken(ctx, { kind: 'refresh', ...base });
  ctx.persist();
  res
    .set('Cache-Control', 'no-store')
    .status(200)
    .json(userTokenResponse(ctx, access, refreshToken));
}

function authorizationCode(
  ctx: EmulatorContext,
  res: Response,
  app: EmulatorApp,
  form: Record<string, string | undefined>,
): void {
  if (!form.code) {
    sendOAuthError(res, 400, 'invalid_request', 'Missing form parameter: code');
    return;
  }
  const code = ctx.state.codes.find((c) => c.code === form.code);
  if (!code) {
    sendOAuthError(res, 400, 'invalid_grant', 'Code not valid');
    return;
  }
  if (code.clientId !== app.clientId) {
    sendOAuthError(res, 400, 'invalid_grant', 'Code was issued to another client');
    return;
  }
  facts(res).partnerId = code.partnerId;
  if (code.usedAt !== undefined) {
    // RFC 6749 §4.1.2: a replayed code should revoke what was issued from it.
    for (const t of ctx.state.tokens) if (t.fromCode === code.code) t.revokedAt ??= ctx.now();
    ctx.persist();
    sendOAuthError(res, 400, 'invalid_grant', 'Code already used');
    return;
  }
  // Any exchange attempt by the right client consumes the code, so a wrong verifier cannot be retried.
  code.usedAt = ctx.now();
  ctx.persist();
  if (code.expiresAt <= ctx.now()) {
    sendOAuthError(res, 400, 'invalid_grant', 'Code expired');
    return;
  }
  // Keycloak compares only when the authorize request carried a redirect_uri.
  if (code.redirectUri !== undefined && form.redirect_uri !== code.redirectUri) {
    sendOAuthError(res, 400, 'invalid_grant', 'Incorrect redirect_uri');
    return;
  }
  if (code.codeChallenge === undefined && form.code_verifier !== undefined) {
    // Keycloak (PkceUtils): a verifier for a code issued without a challenge is an error, not ignored.
    sendOAuthError(
      res,
      400,
      'invalid_grant',
      'PKCE code verifier specified but challenge not present in authorization',
    );
    return;
  }
  if (code.codeChallenge !== undefined) {
    const verifier = form.code_verifier;
    if (!verifier) {
      sendOAuthError(res, 400, 'invalid_grant', 'PKCE code verifier not specified');
      return;
    }
    if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier) || s256(verifier) !== code.codeChallenge) {
      sendOAuthError(res, 400, 'invalid_grant', 'PKCE verification failed: Code mismatch');
      return;
    }
  }
  sendUserTokens(
    ctx,
    res,
    { appId: app.appId, partnerId: code.partnerId, username: code.username, fromCode: code.code },
    code.scopes,
  );
}
