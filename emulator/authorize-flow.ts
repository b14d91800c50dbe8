import type { AuthorizeSession, EmulatorContext, InstallSession, LoginSession } from './emulator-context';
import { secretId, uuid } from './ids';
import type { ResolvedApp } from './options';
import type { Installation, Invitation, OpcUser, Partner } from './state';

/**
 * The two browser flows of docs/otto-api.md §2, shared by the HTML pages and by POST /__admin/consent so that
 * the automation does exactly what a browser would:
 *
 * 1. OPC installation: installation link (public app) or invitation link (private app) → OPC login (needs
 *    admin rights and "Dienstleister Freigaben") → consent screen with every app scope → Confirm installs
 *    and sends the browser to the app's callback URL without any parameter; Cancel installs nothing.
 * 2. Keycloak identity check at /oauth2/auth: login of any OPC user → callback with code, state, iss.
 *    Nothing is installed here.
 */

/** Scopes a client may request at /oauth2/auth (the user token's scopes, docs/otto-api.md §2.3). */
export const AUTHORIZE_SCOPES = ['installation', 'partnerId', 'openid'];

/** Shown instead of a redirect; `status` is the HTTP status of the page (and of the admin JSON error). */
export interface PageError {
  kind: 'page_error';
  status: 400 | 404 | 410;
  code: string;
  title: string;
  message: string;
}

function pageError(status: PageError['status'], code: string, title: string, message: string): PageError {
  return { kind: 'page_error', status, code, title, message };
}

// ---------------------------------------------------------------------------------------------------------
// Sessions (in memory, single use, loginSessionTtlSeconds)

export function findSession<K extends LoginSession['kind']>(
  ctx: EmulatorContext,
  id: string | undefined,
  kind: K,
): Extract<LoginSession, { kind: K }> | undefined {
  if (!id) return undefined;
  const session = ctx.sessions.get(id);
  if (!session) return undefined;
  if (session.createdAt + ctx.options.loginSessionTtlSeconds * 1000 <= ctx.now()) {
    ctx.sessions.delete(id);
    return undefined;
  }
  return session.kind === kind ? (session as Extract<LoginSession, { kind: K }>) : undefined;
}

function addSession(ctx: EmulatorContext, session: LoginSession): void {
  const cutoff = ctx.now() - ctx.options.loginSessionTtlSeconds * 1000;
  for (const [id, s] of ctx.sessions) if (s.createdAt <= cutoff) ctx.sessions.delete(id);
  ctx.sessions.set(session.id, session);
}

// ---------------------------------------------------------------------------------------------------------
// 1. OPC installation

export type OpenLinkResult = PageError | { kind: 'login'; session: InstallSession; app: ResolvedApp };

/** GET /opc/apps/:appId/install: only public apps have a universal installation link. */
export function openInstallationLink(ctx: EmulatorContext, appId: string): OpenLinkResult {
  const app = ctx.appById(appId);
  if (!app || app.visibility !== 'public') {
    return pageError(
      404,
      'unknown_installation_link',
      'Link ungültig',
      'This installation link does not exist.',
    );
  }
  return { kind: 'login', session: newInstallSession(ctx, app), app };
}

/** GET /opc/invitations/:token: opening it does not use it up; only a confirmed installation does. */
export function openInvitation(ctx: EmulatorContext, token: string): OpenLinkResult {
  const checked = checkInvitation(ctx, token);
  if (checked.kind === 'page_error') return checked;
  return { kind: 'login', session: newInstallSession(ctx, checked.app, token), app: checked.app };
}

function checkInvitation(
  ctx: EmulatorContext,
  token: string,
): PageError | { kind: 'ok'; invitation: Invitation; app: ResolvedApp } {
  const invitation = ctx.state.invitations.find((i) => i.token === token);
  const app = invitation ? ctx.appById(invitation.appId) : undefined;
  if (!invitation || !app) {
    return pageError(404, 'unknown_invitation', 'Link ungültig', 'This invitation link does not exist.');
  }
  if (app.visibility === 'public') {
    // Making an app public kills its earlier invitation links (docs/otto-api.md §1).
    return pageError(
      410,
      'invitation_revoked',
      'Link ungültig',
      'This invitation link is no longer valid: the app is public now, use its installation link.',
    );
  }
  if (invitation.usedAt !== undefined) {
    return pageError(
      410,
      'invitation_used',
      'Link bereits verwendet',
      'This invitation link has already been used. Ask the app provider for a new one.',
    );
  }
  if (invitation.expiresAt <= ctx.now()) {
    return pageError(
      410,
      'invitation_expired',
      'Link abgelaufen',
      'This invitation link has expired. Ask the app provider for a new one.',
    );
  }
  return { kind: 'ok', invitation, app };
}

function newInstallSession(ctx: EmulatorContext, app: ResolvedApp, invitation?: string): InstallSession {
  const session: InstallSession = {
    kind: 'install',
    id: secretId('ls_'),
    appId: app.appId,
    createdAt: ctx.now(),
    ...(invitation !== undefined ? { invitation } : {}),
  };
  addSession(ctx, session);
  return session;
}

/** A private app's invitation link (POST /__admin/apps/:appId/invitations). */
export function createInvitation(ctx: EmulatorContext, app: ResolvedApp): Invitation {
  pruneInvitations(ctx);
  const invitation: Invitation = {
    token: secretId('inv_'),
    appId: app.appId,
    createdAt: ctx.nowIso(),
    expiresAt: ctx.now() + ctx.options.invitationTtlSeconds * 1000,
  };
  ctx.state.invitations.push(invitation);
  return invitation;
}

/** Expired invitations are kept a day longer, so a late click still reads "expired" rather than "unknown". */
function pruneInvitations(ctx: EmulatorContext): void {
  const cutoff = ctx.now() - 24 * 60 * 60 * 1000;
  ctx.state.invitations = ctx.state.invitations.filter((i) => i.expiresAt > cutoff);
}

export type InstallLoginResult =
  | { kind: 'bad_credentials' }
  | PageError
  /** The user may not install apps; OPC shows a refusal and sends nobody anywhere. */
  | { kind: 'refused'; missing: string[]; message: string }
  /** The partner already has an active installation: nothing to confirm, continue to the app. */
  | { kind: 'already_installed'; app: ResolvedApp; partner: Partner; callbackUrl: string }
  | { kind: 'consent'; user: OpcUser; partner: Partner; app: ResolvedApp };

export function installLogin(
  ctx: EmulatorContext,
  session: InstallSession,
  username: string,
  password: string,
): InstallLoginResult {
  const found = ctx.findUser(username);
  if (!found || found.user.password !== password) return { kind: 'bad_credentials' };
  const app = requireApp(ctx, session.appId);
  if (session.invitation !== undefined) {
    const checked = checkInvitation(ctx, session.invitation);
    if (checked.kind === 'page_error') {
      ctx.sessions.delete(session.id);
      return checked;
    }
  }
  const missing = missingRights(found.user);
  if (missing.length > 0) {
    ctx.sessions.delete(session.id);
    return {
      kind: 'refused',
      missing,
      message: `The OPC user "${username}" may not install apps: missing ${missing.join(' and ')}.`,
    };
  }
  if (activeInstallation(ctx, app.appId, found.partner.partnerId)) {
    ctx.sessions.delete(session.id);
    return { kind: 'already_installed', app, partner: found.partner, callbackUrl: installCallback(app) };
  }
  session.username = username;
  session.partnerId = found.partner.partnerId;
  return { kind: 'consent', user: found.user, partner: found.partner, app };
}

/** The wording names each missing right, so the seller knows exactly what to ask their admin for. */
function missingRights(user: OpcUser): string[] {
  const missing: string[] = [];
  if (!user.admin) missing.push('admin rights');
  if (!user.dienstleisterFreigaben) missing.push('the permission "Dienstleister Freigaben"');
  return missing;
}

export type InstallDecision =
  PageError | { kind: 'redirect'; redirectTo: string; installation?: Installation };

/**
 * Confirm or Cancel on the consent screen (single use either way). Confirm installs the app (one
 * installation per app and partner; a v2 app is its own installation, v1 stays) and uses up an invitation;
 * the browser goes to the app's callback URL exactly as registered, without any parameter. Cancel installs
 * nothing and stays in OPC.
 */
export function installDecide(
  ctx: EmulatorContext,
  session: InstallSession,
  decision: 'confirm' | 'cancel',
): InstallDecision {
  ctx.sessions.delete(session.id);
  const app = requireApp(ctx, session.appId);
  if (decision === 'cancel') return { kind: 'redirect', redirectTo: cancelledUrl(ctx, app) };
  if (!session.partnerId || !session.username) throw new Error('emulator: consent without login');
  if (activeInstallation(ctx, app.appId, session.partnerId)) {
    // Installed in another tab meanwhile: nothing new to create, continue to the app.
    return { kind: 'redirect', redirectTo: installCallback(app) };
  }
  let invitation: Invitation | undefined;
  if (session.invitation !== undefined) {
    const checked = checkInvitation(ctx, session.invitation);
    if (checked.kind === 'page_error') return checked;
    invitation = checked.invitation;
  }
  const installed = {
    appId: app.appId,
    partnerId: session.partnerId,
    scopes: [...app.scopes],
    createdAt: ctx.nowIso(),
    installedBy: session.username,
    via: invitation ? ('invitation' as const) : ('installation_link' as const),
  };
  const revoked = ctx.settings.reinstallKeepsInstallationId
    ? ctx.state.installations.find((i) => i.appId === app.appId && i.partnerId === session.partnerId)
    : undefined;
  let installation: Installation;
  if (revoked) {
    // The revoked installation comes back under its old id; tokens issued before the revocation stay
    // dead (unless they may live to their expiry anyway).
    if (!ctx.options.revokedTokensValidUntilExpiry) {
      const now = ctx.now();
      for (const t of ctx.state.tokens) if (t.installationId === revoked.installationId) t.revokedAt ??= now;
    }
    delete revoked.revokedAt;
    installation = Object.assign(revoked, installed);
  } else {
    installation = { installationId: uuid(), ...installed };
    ctx.state.installations.push(installation);
  }
  if (invitation) {
    invitation.usedAt = ctx.now();
    invitation.usedByPartnerId = session.partnerId;
  }
  ctx.persist();
  return { kind: 'redirect', redirectTo: installCallback(app), installation };
}

export function activeInstallation(
  ctx: EmulatorContext,
  appId: string,
  partnerId: string,
): Installation | undefined {
  return ctx.state.installations.find((i) => i.appId === appId && i.partnerId === partnerId && !i.revokedAt);
}

/** The registered callback URL, untouched: OTTO documents no parameters on this redirect. */
function installCallback(app: ResolvedApp): string {
  const uri = app.redirectUris[0];
  if (!uri) throw new Error(`emulator: app ${app.appId} has no redirect URI`);
  return uri;
}

export function cancelledUrl(ctx: EmulatorContext, app: ResolvedApp): string {
  return `${ctx.publicBaseUrl}/opc/cancelled?appId=${encodeURIComponent(app.appId)}`;
}

// ---------------------------------------------------------------------------------------------------------
// 2. /oauth2/auth (Keycloak)

export type AuthorizeResult =
  /** client_id or redirect_uri cannot be trusted: show an error page, never redirect (RFC 6749 §4.1.2.1). */
  | PageError
  /** The client is known and the redirect URI registered: errors go back to it. */
  | { kind: 'redirect'; redirectTo: string }
  | { kind: 'login'; session: AuthorizeSession; app: ResolvedApp };

type Params = Record<string, string | undefined>;

export function startAuthorization(ctx: EmulatorContext, input: Params): AuthorizeResult {
  const params = { ...input };
  if (ctx.settings.dropCodeChallenge) {
    // [I] A front door that forwards only the parameters OTTO documents.
    delete params.code_challenge;
    delete params.code_challenge_method;
  }
  const invalid = (message: string) =>
    pageError(400, 'invalid_authorize_request', 'Ungültige Anfrage', message);
  const clientId = params.client_id;
  if (!clientId) return invalid('Missing parameter: client_id');
  const app = ctx.appByClientId(clientId);
  if (!app) return invalid(`Client not found: "${clientId}".`);
  const given = params.redirect_uri;
  let redirectUri: string;
  if (given === undefined) {
    // Keycloak uses the client's registered URI when there is exactly one.
    const only = app.redirectUris.length === 1 ? app.redirectUris[0] : undefined;
    if (!only) return invalid('Missing parameter: redirect_uri');
    redirectUri = only;
  } else if (app.redirectUris.includes(given)) {
    redirectUri = given;
  } else {
    return invalid(`Invalid parameter: redirect_uri "${given}" is not registered for client "${clientId}".`);
  }

  const state = params.state;
  const back = (error: string, description: string): AuthorizeResult => ({
    kind: 'redirect',
    redirectTo: callbackUrl(ctx, redirectUri, { error, error_description: description, state }),
  });

  if (params.response_type === undefined) return back('invalid_request', 'Missing parameter: response_type');
  if (params.response_type !== 'code') {
    return back(
      'unsupported_response_type',
      'Client is not allowed to initiate browser login with given response_type.',
    );
  }
  const scopes = (params.scope ?? '').split(' ').filter(Boolean);
  if (scopes.length === 0) return back('invalid_scope', 'Missing scope; request "installation partnerId"');
  const unknown = scopes.filter((s) => !AUTHORIZE_SCOPES.includes(s));
  if (unknown.length > 0) return back('invalid_scope', `Invalid scopes: ${unknown.join(' ')}`);

  const challenge = params.code_challenge;
  const method = params.code_challenge_method;
  if (challenge === undefined && ctx.options.requirePkce) {
    return back('invalid_request', 'Missing parameter: code_challenge_method');
  }
  if (challenge !== undefined) {
    if (method !== 'S256') return back('invalid_request', 'Invalid parameter: code_challenge_method');
    if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge)) {
      return back('invalid_request', 'Invalid parameter: code_challenge');
    }
  }

  const session: AuthorizeSession = {
    kind: 'authorize',
    id: secretId('ls_'),
    appId: app.appId,
    clientId,
    redirectUri,
    redirectUriGiven: given !== undefined,
    scopes,
    createdAt: ctx.now(),
    ...(state !== undefined ? { state } : {}),
    ...(challenge !== undefined ? { codeChallenge: challenge } : {}),
  };
  addSession(ctx, session);
  return { kind: 'login', session, app };
}

/** Any OPC user of any partner may prove who they are; no rights are needed for that. */
export function authorizeLogin(
  ctx: EmulatorContext,
  session: AuthorizeSession,
  username: string,
  password: string,
): { kind: 'bad_credentials' } | { kind: 'redirect'; redirectTo: string } {
  const found = ctx.findUser(username);
  if (!found || found.user.password !== password) return { kind: 'bad_credentials' };
  ctx.sessions.delete(session.id);
  const code = secretId('oc_');
  ctx.state.codes.push({
    code,
    appId: session.appId,
    clientId: session.clientId,
    scopes: session.scopes,
    partnerId: found.partner.partnerId,
    username,
    expiresAt: ctx.now() + ctx.options.codeTtlSeconds * 1000,
    ...(session.redirectUriGiven ? { redirectUri: session.redirectUri } : {}),
    ...(session.codeChallenge !== undefined ? { codeChallenge: session.codeChallenge } : {}),
  });
  ctx.persist();
  return {
    kind: 'redirect',
    redirectTo: callbackUrl(ctx, session.redirectUri, { code, state: session.state }),
  };
}

/** Cancel on the login form. */
export function authorizeCancel(ctx: EmulatorContext, session: AuthorizeSession): string {
  ctx.sessions.delete(session.id);
  return callbackUrl(ctx, session.redirectUri, { error: 'access_denied', state: session.state });
}

function requireApp(ctx: EmulatorContext, appId: string): ResolvedApp {
  const app = ctx.appById(appId);
  if (!app) throw new Error(`emulator: app ${appId} disappeared`);
  return app;
}

/** Appends to the registered URI (which may already have a query) and always names the issuer (RFC 9207). */
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
