import { Router, type Request, type Response } from 'express';
import { authenticateClient } from '../client-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendOAuthError } from '../http-errors';
import { s256 } from '../ids';
import { formParams } from '../request-params';
import { facts } from '../request-log';
import { issueToken, tokenResponse } from '../tokens';
import type { EmulatorApp } from '../options';

/** POST /oauth2/token (Keycloak: code exchange and client credentials) and POST /v1/token (developer token). */
export function tokenRoutes(ctx: EmulatorContext): Router {
  const router = Router();

  router.post('/oauth2/token', (req, res) => {
    handleToken(ctx, req, res, ['authorization_code', 'client_credentials']);
  });
  router.post('/v1/token', (req, res) => {
    handleToken(ctx, req, res, ['client_credentials']);
  });

  return router;
}

function handleToken(ctx: EmulatorContext, req: Request, res: Response, grants: string[]): void {
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
  const client = authenticateClient(ctx, req, form);
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
  else authorizationCode(ctx, res, client.app, form);
}

function clientCredentials(
  ctx: EmulatorContext,
  res: Response,
  app: EmulatorApp,
  form: Record<string, string | undefined>,
): void {
  // Missing scope means the client's default scope, which for OTTO's developer token is `developer`.
  const scopes = (form.scope ?? 'developer').split(' ').filter(Boolean);
  const wrong = scopes.filter((s) => s !== 'developer');
  if (wrong.length > 0) {
    sendOAuthError(res, 400, 'invalid_scope', `Invalid scopes: ${wrong.join(' ')}`);
    return;
  }
  const token = issueToken(ctx, { kind: 'developer', appId: app.appId, scopes: ['developer'] });
  ctx.persist();
  res.set('Cache-Control', 'no-store').status(200).json(tokenResponse(ctx, token));
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
  facts(res).installationId = code.installationId;
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
  if (form.redirect_uri !== code.redirectUri) {
    sendOAuthError(res, 400, 'invalid_grant', 'Incorrect redirect_uri');
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
  const token = issueToken(ctx, {
    kind: 'user',
    appId: app.appId,
    scopes: code.scopes,
    partnerId: code.partnerId,
    installationId: code.installationId,
    fromCode: code.code,
  });
  ctx.persist();
  res.set('Cache-Control', 'no-store').status(200).json(tokenResponse(ctx, token));
}
