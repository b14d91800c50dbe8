import {
  authorizeCancel,
  authorizeLogin,
  cancelledUrl,
  installDecide,
  installLogin,
  openInstallationLink,
  openInvitation,
  startAuthorization,
} from './authorize-flow';
import type { EmulatorContext } from './emulator-context';

export interface ConsentInput {
  authorizeUrl: string;
  username: string;
  password: string;
  decision: 'confirm' | 'deny';
}

export type ConsentOutcome =
  | { kind: 'redirect'; redirectTo: string }
  | { kind: 'error'; status: number; code: string; message: string; details?: unknown };

/**
 * POST /__admin/consent: what a browser does with the link, for automation. Where a page would show an
 * error (and redirect nowhere), the answer is a 4xx JSON error with the page's status.
 *
 * - Installation or invitation link: login (401 bad credentials, 403 missing rights), then the consent
 *   screen: confirm → the app's callback URL without parameters (installs; uses up an invitation), deny →
 *   the OPC "cancelled" page. An app the partner already has: confirm → the callback, deny → "cancelled".
 * - /oauth2/auth URL: deny = Cancel on the login form → callback with error=access_denied; confirm =
 *   login (401 bad credentials) → callback with code, state and iss.
 */
export function consentAutomation(ctx: EmulatorContext, input: ConsentInput): ConsentOutcome {
  let url: URL;
  try {
    url = new URL(input.authorizeUrl, ctx.publicBaseUrl);
  } catch {
    return error(400, 'invalid_authorize_url', 'authorizeUrl is not a URL');
  }
  const path = url.pathname.replace(/\/+$/, '');
  const install = /^\/opc\/apps\/([^/]+)\/install$/.exec(path);
  const invitation = /^\/opc\/invitations\/([^/]+)$/.exec(path);
  if (install?.[1] !== undefined || invitation?.[1] !== undefined) {
    const opened = install?.[1]
      ? openInstallationLink(ctx, decodeURIComponent(install[1]))
      : openInvitation(ctx, decodeURIComponent(invitation?.[1] ?? ''));
    if (opened.kind === 'page_error') return error(opened.status, opened.code, opened.message);
    const { session } = opened;
    const loggedIn = installLogin(ctx, session, input.username, input.password);
    switch (loggedIn.kind) {
      case 'bad_credentials':
        ctx.sessions.delete(session.id);
        return error(401, 'bad_credentials', 'Invalid username or password');
      case 'page_error':
        return error(loggedIn.status, loggedIn.code, loggedIn.message);
      case 'refused':
        return error(403, 'missing_rights', loggedIn.message, { missing: loggedIn.missing });
      case 'already_installed':
        return redirect(
          input.decision === 'confirm' ? loggedIn.callbackUrl : cancelledUrl(ctx, loggedIn.app),
        );
      case 'consent': {
        const decided = installDecide(ctx, session, input.decision === 'confirm' ? 'confirm' : 'cancel');
        return decided.kind === 'page_error'
          ? error(decided.status, decided.code, decided.message)
          : redirect(decided.redirectTo);
      }
    }
  }
  if (path === '/oauth2/auth') {
    const params: Record<string, string> = {};
    for (const [key, value] of url.searchParams) if (!(key in params)) params[key] = value;
    const started = startAuthorization(ctx, params);
    if (started.kind === 'page_error') return error(started.status, started.code, started.message);
    if (started.kind === 'redirect') return redirect(started.redirectTo);
    if (input.decision === 'deny') return redirect(authorizeCancel(ctx, started.session));
    const loggedIn = authorizeLogin(ctx, started.session, input.username, input.password);
    if (loggedIn.kind === 'bad_credentials') {
      ctx.sessions.delete(started.session.id);
      return error(401, 'bad_credentials', 'Invalid username or password');
    }
    return redirect(loggedIn.redirectTo);
  }
  return error(
    400,
    'invalid_authorize_url',
    'authorizeUrl must be an installation link, an invitation link or an /oauth2/auth URL',
  );
}

function redirect(redirectTo: string): ConsentOutcome {
  return { kind: 'redirect', redirectTo };
}

function error(status: number, code: string, message: string, details?: unknown): ConsentOutcome {
  return { kind: 'error', status, code, message, ...(details !== undefined ? { details } : {}) };
}
