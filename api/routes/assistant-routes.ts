/**
 * The seller's assistant. It is meant to sit behind the host shop's login: the shop authenticates the
 * seller and links here with that seller's id, so these routes trust `sellerId` like the rest of the
 * shop's back office does. Deploy them only behind that login (or a proxy enforcing it); anyone who can
 * reach them can start consent for any seller. The POST also refuses cross-site form posts (Origin).
 */
import express, { Router } from 'express';
import type { AppVersion } from '../../workflows/definitions';
import { renderAssistant } from '../assistant-page';
import type { ConsentCookies } from '../consent-cookie';
import { SellerConnectionError } from '../connection-errors';
import type { ConsentStarter } from '../consent-starter';
import { HttpError } from '../errors';
import { allowAccessFormSchema, assistantQuerySchema } from '../http-schemas';
import type { SellerConnections, StatusView } from '../seller-connections';
import { parse } from '../validate';

export interface AssistantRoutesDeps {
  connections: SellerConnections;
  startConsent: ConsentStarter;
  consentCookies: ConsentCookies;
  latestAppVersion: AppVersion;
  publicBaseUrl: string;
}

export function assistantRoutes(deps: AssistantRoutesDeps): Router {
  const router = Router();
  const ownOrigin = new URL(deps.publicBaseUrl).origin;
  const form = express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 10 });

  router.get('/assistant/otto', async (req, res) => {
    const { sellerId } = parse(assistantQuerySchema, req.query, 'query');
    let status: StatusView | null;
    try {
      status = await deps.connections.status(sellerId);
    } catch (err) {
      if (!(err instanceof SellerConnectionError && err.kind === 'not_connected')) throw err;
      status = null;
    }
    res
      // Browsers send "Origin: null" on form posts from a no-referrer page; the POST below checks Origin.
      .set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'same-origin' })
      .type('html')
      .send(renderAssistant({ sellerId, status, latestAppVersion: deps.latestAppVersion }));
  });

  router.post(
    '/assistant/otto/allow-access',
    (req, _res, next) => {
      const origin = req.get('origin');
      if (origin !== undefined && origin !== ownOrigin) {
        next(
          new HttpError(
            403,
            'cross_site_request',
            'this form may only be sent from the assistant page itself',
          ),
        );
        return;
      }
      if (!req.is('application/x-www-form-urlencoded')) {
        next(
          new HttpError(415, 'unsupported_media_type', 'send the form as application/x-www-form-urlencoded'),
        );
        return;
      }
      next();
    },
    form,
    async (req, res) => {
      const { sellerId, appVersion } = parse(allowAccessFormSchema, req.body, 'body');
      const started = await deps.startConsent(sellerId, appVersion === undefined ? {} : { appVersion });
      // The cookie lets OTTO's parameterless redirect after the installation find this consent again.
      res.append('Set-Cookie', deps.consentCookies.setCookie(started.ticket));
      // 303: the browser follows with a GET to OTTO's installation (or invitation) page.
      res.redirect(303, started.consentUrl);
    },
  );

  return router;
}
