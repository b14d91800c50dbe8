import type { Router, Response } from 'express';
import {
  authorizeCancel,
  authorizeLogin,
  findSession,
  installDecide,
  installLogin,
  openInstallationLink,
  openInvitation,
  startAuthorization,
  type OpenLinkResult,
  type PageError,
} from '../authorize-flow';
import type { EmulatorContext } from '../emulator-context';
import { alreadyInstalledPage, cancelledPage, consentPage, errorPage, loginPage, refusalPage } from '../html';
import { formParams, queryParam, queryParams } from '../request-params';
import { exactRouter } from './exact-router';

/**
 * The browser pages: OPC installation (installation link, invitation link → login → consent) and the
 * Keycloak login behind GET /oauth2/auth.
 */
export function opcRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();
  const opcLoginAction = () => `${ctx.publicBaseUrl}/opc/login`;
  const consentAction = () => `${ctx.publicBaseUrl}/opc/consent`;
  const authLoginAction = () => `${ctx.publicBaseUrl}/oauth2/auth/login`;
  const installIntro = (appName: string) =>
    `Melden Sie sich bei OTTO Partner Connect an, um die App „${appName}“ zu installieren.`;
  const authIntro = (appName: string) =>
    `Die App „${appName}“ möchte Ihre Identität prüfen. Bitte melden Sie sich an.`;

  // ---- OPC installation -------------------------------------------------------------------------------

  const showOpcLogin = (res: Response, opened: OpenLinkResult) => {
    noStore(res);
    if (opened.kind === 'page_error') {
      sendPageError(res, opened);
      return;
    }
    res
      .status(200)
      .type('html')
      .send(
        loginPage({
          action: opcLoginAction(),
          session: opened.session.id,
          intro: installIntro(opened.app.name),
        }),
      );
  };

  router.get('/opc/apps/:appId/install', (req, res) => {
    showOpcLogin(res, openInstallationLink(ctx, req.params.appId));
  });

  router.get('/opc/invitations/:token', (req, res) => {
    showOpcLogin(res, openInvitation(ctx, req.params.token));
  });

  router.post('/opc/login', (req, res) => {
    const form = formParams(req);
    noStore(res);
    const session = findSession(ctx, form.session, 'install');
    if (!session) {
      sessionGone(res);
      return;
    }
    const appName = ctx.appById(session.appId)?.name ?? session.appId;
    const result = installLogin(ctx, session, form.username ?? '', form.password ?? '');
    switch (result.kind) {
      case 'bad_credentials':
        res
          .status(200)
          .type('html')
          .send(
            loginPage({
              action: opcLoginAction(),
              session: session.id,
              intro: installIntro(appName),
              error: 'Ungültiger Benutzername oder Passwort.',
              username: form.username ?? '',
            }),
          );
        return;
      case 'page_error':
        sendPageError(res, result);
        return;
      case 'refused':
        res
          .status(403)
          .type('html')
          .send(refusalPage({ message: result.message }));
        return;
      case 'already_installed':
        res
          .status(200)
          .type('html')
          .send(
            alreadyInstalledPage({
              appName: result.app.name,
              partnerId: result.partner.partnerId,
              continueUrl: result.callbackUrl,
            }),
          );
        return;
      case 'consent':
        res
          .status(200)
          .type('html')
          .send(
            consentPage({
              action: consentAction(),
              session: session.id,
              appName: result.app.name,
              partnerId: result.partner.partnerId,
              username: result.user.username,
              scopes: result.app.scopes,
            }),
          );
    }
  });

  router.post('/opc/consent', (req, res) => {
    const form = formParams(req);
    noStore(res);
    const session = findSession(ctx, form.session, 'install');
    if (!session?.username) {
      sessionGone(res);
      return;
    }
    if (form.decision !== 'confirm' && form.decision !== 'cancel') {
      res
        .status(400)
        .type('html')
        .send(errorPage({ title: 'Ungültige Anfrage', message: 'Choose Confirm or Cancel.' }));
      return;
    }
    const result = installDecide(ctx, session, form.decision);
    if (result.kind === 'page_error') {
      sendPageError(res, result);
      return;
    }
    res.redirect(302, result.redirectTo);
  });

  router.get('/opc/cancelled', (req, res) => {
    const appId = queryParam(req, 'appId');
    const app = appId !== undefined ? ctx.appById(appId) : undefined;
    noStore(res);
    res
      .status(200)
      .type('html')
      .send(cancelledPage({ appName: app?.name ?? 'die App' }));
  });

  // ---- Keycloak login at /oauth2/auth ------------------------------------------------------------------

  router.get('/oauth2/auth', (req, res) => {
    const result = startAuthorization(ctx, queryParams(req));
    noStore(res);
    if (result.kind === 'page_error') {
      sendPageError(res, result);
      return;
    }
    if (result.kind === 'redirect') {
      res.redirect(302, result.redirectTo);
      return;
    }
    res
      .status(200)
      .type('html')
      .send(
        loginPage({
          action: authLoginAction(),
          session: result.session.id,
          intro: authIntro(result.app.name),
          cancel: true,
        }),
      );
  });

  router.post('/oauth2/auth/login', (req, res) => {
    const form = formParams(req);
    noStore(res);
    const session = findSession(ctx, form.session, 'authorize');
    if (!session) {
      sessionGone(res);
      return;
    }
    if (form.cancel !== undefined) {
      res.redirect(302, authorizeCancel(ctx, session));
      return;
    }
    const result = authorizeLogin(ctx, session, form.username ?? '', form.password ?? '');
    if (result.kind === 'bad_credentials') {
      // Keycloak re-renders the form with 200 and a message; so do we.
      res
        .status(200)
        .type('html')
        .send(
          loginPage({
            action: authLoginAction(),
            session: session.id,
            intro: authIntro(ctx.appById(session.appId)?.name ?? session.appId),
            error: 'Ungültiger Benutzername oder Passwort.',
            username: form.username ?? '',
            cancel: true,
          }),
        );
      return;
    }
    res.redirect(302, result.redirectTo);
  });

  return router;
}

function noStore(res: Response): void {
  res.set('Cache-Control', 'no-store');
}

function sendPageError(res: Response, error: PageError): void {
  res.status(error.status).type('html').send(errorPage(error));
}

function sessionGone(res: Response): void {
  res
    .status(400)
    .type('html')
    .send(
      errorPage({
        title: 'Sitzung abgelaufen',
        message: 'This login session is unknown or has expired. Start again from the link.',
      }),
    );
}
