import { STATUS_CODES } from 'node:http';
import type { Router } from 'express';
import { activeInstallation } from '../authorize-flow';
import type { EmulatorContext } from '../emulator-context';
import { sendApiError, sendOAuthError } from '../http-errors';
import { formParams } from '../request-params';
import { facts } from '../request-log';
import { bearerProblem, inspectBearer, installationTokenResponse, issueToken } from '../tokens';
import { exactRouter } from './exact-router';

/** The developer API: which installation a seller has of an app, and minting installation tokens. */
export function developerRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();

  // Called with the user token from the code exchange (scope `installation`): the installation of this
  // app by the token's partner, whichever user logged in. No installation is tied to the token itself.
  router.get('/v1/apps/:appId/installation', (req, res) => {
    const { freshness, token } = inspectBearer(ctx, req);
    const f = facts(res);
    f.appId = req.params.appId;
    if (freshness !== 'valid' || !token) {
      f.token = freshness;
      sendApiError(res, 401, 'Unauthorized', bearerProblem(freshness));
      return;
    }
    if (
      token.kind !== 'user' ||
      token.appId !== req.params.appId ||
      !token.partnerId ||
      !token.scopes.includes('installation')
    ) {
      f.token = 'wrong_scope';
      sendApiError(res, 403, 'Forbidden', 'Needs a user token of this app with the scope "installation"');
      return;
    }
    f.token = 'valid';
    f.partnerId = token.partnerId;
    const installation = activeInstallation(ctx, req.params.appId, token.partnerId);
    if (!installation) {
      // [I] OTTO documents only 200; a partner without (or after revoking) the app has no installation.
      sendApiError(res, 404, 'Not Found', 'The app is not installed for this partner');
      return;
    }
    f.installationId = installation.installationId;
    res.json({ installationId: installation.installationId });
  });

  // Called with the app's developer token; the "timed token refresh" of docs/otto-api.md §3.
  router.post('/v1/apps/:appId/installations/:installationId/accessToken', (req, res) => {
    const { appId, installationId } = req.params;
    const { freshness, token } = inspectBearer(ctx, req);
    const f = facts(res);
    f.appId = appId;
    f.installationId = installationId;
    if (freshness !== 'valid' || !token) {
      f.token = freshness;
      sendApiError(res, 401, 'Unauthorized', bearerProblem(freshness));
      return;
    }
    if (token.kind !== 'developer' || token.appId !== appId || !token.scopes.includes('developer')) {
      f.token = 'wrong_scope';
      sendApiError(res, 403, 'Forbidden', 'Needs a developer token (scope "developer") of this app');
      return;
    }
    f.token = 'valid';
    const installation = ctx.state.installations.find(
      (i) => i.installationId === installationId && i.appId === appId,
    );
    if (!installation) {
      sendApiError(res, 404, 'Not Found', `Unknown installation ${installationId} of app ${appId}`);
      return;
    }
    f.partnerId = installation.partnerId;
    if (installation.revokedAt) {
      // [I] OTTO documents no status for this (docs/otto-api.md §4): 403 by default, the runtime setting
      // revokedMintStatus for the other readings (the connector treats 400/401/403/404 alike).
      const status = ctx.settings.revokedMintStatus;
      sendApiError(
        res,
        status,
        STATUS_CODES[status]!,
        'The partner has revoked access to this app (Zugriff entzogen)',
      );
      return;
    }
    // The optional `scope` is a form field (docs/otto-api.md §3); a body of any other type is refused
    // rather than read, so a client sending JSON learns it here, not from a token with the wrong scopes.
    const hasContent =
      req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
    if (hasContent && !req.is('application/x-www-form-urlencoded')) {
      sendApiError(res, 415, 'Unsupported Media Type', 'The body must be application/x-www-form-urlencoded');
      return;
    }
    const requested = formParams(req).scope?.split(' ').filter(Boolean);
    if (requested && requested.length > 0) {
      const wrong = requested.filter((s) => !installation.scopes.includes(s));
      if (wrong.length > 0) {
        sendOAuthError(res, 400, 'invalid_scope', `Scopes not granted to this app: ${wrong.join(' ')}`);
        return;
      }
    }
    const issued = issueToken(ctx, {
      kind: 'installation',
      appId,
      scopes: requested && requested.length > 0 ? requested : [...installation.scopes],
      partnerId: installation.partnerId,
      installationId,
    });
    ctx.persist();
    res.set('Cache-Control', 'no-store').json(installationTokenResponse(ctx, issued));
  });

  return router;
}
