import { Router, type Response } from 'express';
import { decide, findSession, login, startAuthorization } from '../authorize-flow';
import type { EmulatorContext } from '../emulator-context';
import { consentPage, errorPage, loginPage, refusalPage } from '../html';
import { formParams, queryParams } from '../request-params';

/** The OPC (OTTO Partner Connect) login and consent pages behind GET /oauth2/auth. */
export function opcRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const loginAction = () => `${ctx.publicBaseUrl}/oauth2/auth/login`;
  const consentAction = () => `${ctx.publicBaseUrl}/oauth2/auth/consent`;

  router.get('/oauth2/auth', (req, res) => {
    const result = startAuthorization(ctx, queryParams(req));
    noStore(res);
    if (result.kind === 'page_error') {
      res.status(400).type('html').send(errorPage(result));
      return;
    }
    if (result.kind === 'redirect') {
      res.redirect(302, result.redirectTo);
      return;
    }
    res
      .status(200)
      .type('html')
      .send(loginPage({ action: loginAction(), session: result.session.id, appName: result.app.name }));
  });

  router.post('/oauth2/auth/login', (req, res) => {
    const form = formParams(req);
    noStore(res);
    const session = findSession(ctx, form.session);
    if (!session) {
      sessionGone(res);
      return;
    }
    const appName = ctx.appById(session.appId)?.name ?? session.appId;
    const result = login(ctx, session, form.username ?? '', form.password ?? '');
    if (result.kind === 'bad_credentials') {
      // Keycloak re-renders the form with 200 and a message; so do we.
      res
        .status(200)
        .type('html')
        .send(
          loginPage({
            action: loginAction(),
            session: session.id,
            appName,
            error: 'Ungültiger Benutzername oder Passwort.',
            username: form.username ?? '',
          }),
        );
      return;
    }
    if (result.kind === 'refused') {
      res
        .status(403)
        .type('html')
        .send(refusalPage({ message: result.message, continueUrl: result.redirectTo }));
      return;
    }
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
  });

  router.post('/oauth2/auth/consent', (req, res) => {
    const form = formParams(req);
    noStore(res);
    const session = findSession(ctx, form.session);
    if (!session || !session.username) {
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
    res.redirect(302, decide(ctx, session, form.decision));
  });

  return router;
}

function noStore(res: Response): void {
  res.set('Cache-Control', 'no-store');
}

function sessionGone(res: Response): void {
  res
    .status(400)
    .type('html')
    .send(
      errorPage({
        title: 'Sitzung abgelaufen',
        message: 'This login session is unknown or has expired. Start again from the app.',
      }),
    );
}
