import type { EmulatorContext, LoginSession } from './emulator-context';
import { secretId } from './ids';
import type { EmulatorApp } from './options';
import type { Installation, OpcUser, Partner } from './state';
import { uuid } from './ids';

/**
 * The OPC login and consent logic, shared by the HTML pages and by POST /__admin/consent so that the
 * automation does exactly what a browser would.
 */

/** Scopes a seller may grant through the authorize endpoint (the user token's scopes, otto-api.md §2). */
export const AUTHORIZE_SCOPES = ['installation', 'partnerId', 'openid'];

export type AuthorizeResult =
  /** client_id or redirect_uri cannot be trusted: show an error page, never redirect (RFC 6749 §4.1.2.1). */
  | { kind: 'page_error'; title: string; message: string }
  /** The client is known and the redirect URI registered: errors go back to it. */
  | { kind: 'redirect'; redirectTo: string }
  | { kind: 'login'; session: LoginSession; app: EmulatorApp };

type Params = Record<string, string | undefined>;

export function startAuthorization(ctx: EmulatorContext, params: Params): AuthorizeResult {
  const clientId = params.client_id;
  if (!clientId) return pageError('client_id is missing.');
  const app = ctx.appByClientId(clientId);
  if (!app) return pageError(`Unknown client_id "${clientId}".`);
  const redirectUri = params.redirect_uri;
  if (!redirectUri) return pageError('redirect_uri is missing.');
  if (!app.redirectUris.includes(redirectUri)) {
    return pageError(`redirect_uri "${redirectUri}" is not registered for client "${clientId}".`);
  }

  const state = params.state;
  const back = (error: string, description: string): AuthorizeResult => ({
    kind: 'redirect',
    redirectTo: callbackUrl(ctx, redirectUri, { error, error_description: description, state }),
  });

  if (params.response_type !== 'code') {
    return back('unsupported_response_type', 'response_type must be "code"');
  }
  const scopes = (params.scope ?? '').split(' ').filter(Boolean);
  if (scopes.length === 0) return back('invalid_scope', 'scope is missing; request "installation partnerId"');
  const unknown = scopes.filter((s) => !AUTHORIZE_SCOPES.includes(s));
  if (unknown.length > 0) return back('invalid_scope', `Invalid scopes: ${unknown.join(' ')}`);

  const challenge = params.code_challenge;
  const method = params.code_challenge_method;
  if (challenge !== undefined || method !== undefined || ctx.options.requirePkce) {
    if (!challenge) return back('invalid_request', 'Missing parameter: code_challenge');
    if (method !== 'S256')
      return back('invalid_request', 'Invalid parameter: code_challenge_method must be S256');
    if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge)) {
      return back('invalid_request', 'Invalid parameter: code_challenge');
    }
  }

  const session: LoginSession = {
    id: secretId('ls_'),
    appId: app.appId,
    clientId,
    redirectUri,
    scopes,
    createdAt: ctx.now(),
    ...(state !== undefined ? { state } : {}),
    ...(challenge !== undefined ? { codeChallenge: challenge } : {}),
  };
  pruneSessions(ctx);
  ctx.sessions.set(session.id, session);
  return { kind: 'login', session, app };

  function pageError(message: string): AuthorizeResult {
    return { kind: 'page_error', title: 'Ungültige Anfrage', message };
  }
}

export function findSession(ctx: EmulatorContext, id: string | undefined): LoginSession | undefined {
  if (!id) return undefined;
  const session = ctx.sessions.get(id);
  if (!session) return undefined;
  if (session.createdAt + ctx.options.loginSessionTtlSeconds * 1000 <= ctx.now()) {
    ctx.sessions.delete(id);
    return undefined;
  }
  return session;
}

function pruneSessions(ctx: EmulatorContext): void {
  for (const [id] of ctx.sessions) findSession(ctx, id);
}

export type LoginResult =
  | { kind: 'bad_credentials' }
  /** The user may not install apps: the browser goes back with access_denied naming the missing right. */
  | { kind: 'refused'; message: string; redirectTo: string }
  | { kind: 'consent'; user: OpcUser; partner: Partner; app: EmulatorApp };

export function login(
  ctx: EmulatorContext,
  session: LoginSession,
  username: string,
  password: string,
): LoginResult {
  const found = ctx.findUser(username);
  if (!found || found.user.password !== password) return { kind: 'bad_credentials' };
  const app = requireApp(ctx, session);
  const missing = missingRights(found.user);
  if (missing.length > 0) {
    ctx.sessions.delete(session.id);
    // Names only the missing right(s), so the app can tell the seller exactly what to ask for.
    const message = `The OPC user "${username}" may not install apps: missing ${missing.join(' and ')}.`;
    return {
      kind: 'refused',
      message,
      redirectTo: callbackUrl(ctx, session.redirectUri, {
        error: 'access_denied',
        error_description: message,
        state: session.state,
      }),
    };
  }
  session.username = username;
  session.partnerId = found.partner.partnerId;
  return { kind: 'consent', user: found.user, partner: found.partner, app };
}

function missingRights(user: OpcUser): string[] {
  const missing: string[] = [];
  if (!user.admin) missing.push('admin rights');
  if (!user.dienstleisterFreigaben) missing.push('the permission "Dienstleister Freigaben"');
  return missing;
}

/** Confirm or Cancel on the consent page. The session is single-use either way. */
export function decide(ctx: EmulatorContext, session: LoginSession, decision: 'confirm' | 'cancel'): string {
  ctx.sessions.delete(session.id);
  const back = (params: Record<string, string | undefined>) => callbackUrl(ctx, session.redirectUri, params);
  if (!session.username || !session.partnerId) {
    return back({ error: 'access_denied', error_description: 'Not logged in', state: session.state });
  }
  if (decision === 'cancel') {
    return back({
      error: 'access_denied',
      error_description: 'The user cancelled the consent',
      state: session.state,
    });
  }
  const app = requireApp(ctx, session);
  const installation = installationFor(ctx, app, session.partnerId);
  if (!installation) {
    return back({
      error: 'access_denied',
      error_description:
        'The app is already installed for this partner; remove it under "Installierte Apps" first',
      state: session.state,
    });
  }
  const code = secretId('oc_');
  ctx.state.codes.push({
    code,
    appId: app.appId,
    clientId: session.clientId,
    redirectUri: session.redirectUri,
    scopes: session.scopes,
    partnerId: session.partnerId,
    installationId: installation.installationId,
    username: session.username,
    expiresAt: ctx.now() + ctx.options.codeTtlSeconds * 1000,
    ...(session.codeChallenge !== undefined ? { codeChallenge: session.codeChallenge } : {}),
  });
  ctx.persist();
  return back({ code, state: session.state });
}

/**
 * Consent installs the app. Each app is its own installation, so consenting to v2 leaves the v1
 * installation in place until the seller revokes it.
 */
function installationFor(
  ctx: EmulatorContext,
  app: EmulatorApp,
  partnerId: string,
): Installation | undefined {
  const active = ctx.state.installations.find(
    (i) => i.appId === app.appId && i.partnerId === partnerId && !i.revokedAt,
  );
  if (active) return ctx.options.reconsent === 'reuse' ? active : undefined;
  const installation: Installation = {
    installationId: uuid(),
    appId: app.appId,
    partnerId,
    scopes: [...app.scopes],
    createdAt: ctx.nowIso(),
  };
  ctx.state.installations.push(installation);
  return installation;
}

function requireApp(ctx: EmulatorContext, session: LoginSession): EmulatorApp {
  const app = ctx.appById(session.appId);
  if (!app) throw new Error(`emulator: app ${session.appId} disappeared`);
  return app;
}

/** Appends to the registered URI (which may already have a query) and always names the issuer. */
export function callbackUrl(
  ctx: EmulatorContext,
  redirectUri: string,
  params: Record<string, string | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  url.searchParams.set('iss', ctx.issuer());
  return url.toString();
}
