/**
 * OTTO's redirects back to us (otto-api.md §2.2): public, so the door attackers knock on. Two kinds:
 * - the *consent callback* after the seller installed our app in OPC carries no parameters: the
 *   browser-binding cookie set on "Allow access" names the seller, and we send the browser on to OTTO's
 *   login (`/oauth2/auth`) with our signed `state`;
 * - the *code callback* from that login carries `code` (or `error=`) and our `state`. It is passed to the
 *   seller's workflow only when the state is ours (signature), fresh, from the issuer we sent the seller
 *   to (RFC 9207 `iss`), matches this browser's cookie, was not used before, and the seller's
 *   connection waits for it.
 * Every refusal is a page a seller understands (JSON when asked), counted in /metrics, and signals
 * nothing. The code is sealed before it leaves this process.
 */
import { Router, type Request, type Response } from 'express';
import { buildAuthorizeUrl } from '../../common/oauth';
import type { OttoApp } from '../../common/otto-apps';
import type { Sealer } from '../../common/seal';
import type { ConnectionState } from '../../workflows/definitions';
import type { ConsentCookies } from '../consent-cookie';
import { wantsHtml } from '../errors';
import { html, page } from '../html';
import { callbackQuerySchema, consentStartQuerySchema } from '../http-schemas';
import type { ApiMetrics } from '../metrics';
import type { StateSigner } from '../oauth-state';
import type { SellerConnections } from '../seller-connections';
import type { UsedNonces } from '../used-nonces';

export interface CallbackRoutesDeps {
  connections: SellerConnections;
  sealer: Sealer;
  stateSigner: StateSigner;
  consentCookies: ConsentCookies;
  usedNonces: UsedNonces;
  metrics: ApiMetrics;
  issuer: string;
  apps: readonly OttoApp[];
  authBaseUrl: string;
  /** Sent on /oauth2/auth unless OTTO_SEND_REDIRECT_URI is off. */
  redirectUri: string | undefined;
}

const START_AGAIN = 'Please go back to the OTTO Market settings in your shop and click “Allow access” again.';

/** Why a callback was refused, and what the seller is told. */
export const CALLBACK_REFUSALS = {
  malformed_request: 'The answer from OTTO could not be read: a parameter is missing, repeated or too long.',
  no_consent_cookie:
    'We could not tell which shop seller this browser belongs to: the “Allow access” step was not started in this browser, or too long ago. Nothing was changed.',
  invalid_consent_link:
    'This link to connect with OTTO is damaged or has expired. Ask for a new one, or start from your shop’s assistant.',
  missing_state: 'This page was opened without the information that ties it to your “Allow access” click.',
  malformed_state: 'This link is damaged or was not issued by us, so it was not accepted.',
  forged_state: 'This link was not issued by us or has been altered, so it was not accepted.',
  expired_state: 'This link has expired: it is only valid for a short time after clicking “Allow access”.',
  issuer_mismatch:
    'This answer did not come from OTTO’s login (it names a different sender), so it was not accepted.',
  browser_mismatch:
    'This answer from OTTO arrived in a different browser than the one where “Allow access” was clicked, so it was not accepted.',
  replayed:
    'This link has already been used. Your connection is being completed or is complete; see the assistant.',
  unknown_seller: 'We could not find the connection request this link belongs to.',
  connection_ended: 'The connection request this link belongs to has ended (it expired or was cancelled).',
} as const;
export type CallbackRefusal = keyof typeof CALLBACK_REFUSALS;

const CONNECTED: ReadonlySet<ConnectionState> = new Set(['active', 'degraded', 'paused']);

export function callbackRoutes(deps: CallbackRoutesDeps): Router {
  const router = Router();
  const noStore = (res: Response) =>
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });

  // The admin's consent link (POST /api/sellers/:id/connection → authorizeUrl): binds this browser, then OPC.
  router.get('/oauth/start', (req, res) => {
    noStore(res);
    const parsed = consentStartQuerySchema.safeParse(req.query);
    const check = parsed.success ? deps.consentCookies.verify(parsed.data.ticket) : undefined;
    if (!check?.ok) {
      deps.metrics.callbackOutcomes.inc({ reason: 'invalid_consent_link' });
      sendRefusal(req, res, 'invalid_consent_link', undefined, undefined);
      return;
    }
    res.append('Set-Cookie', deps.consentCookies.setCookie(parsed.data!.ticket));
    res.redirect(303, check.binding.consentUrl);
  });

  router.get('/oauth/callback', async (req, res) => {
    // The URL carries a one-time code: never cache it, never leak it in a Referer.
    noStore(res);
    const refuse = (
      reason: CallbackRefusal,
      sellerId?: string,
      otto?: { error?: string; description?: string },
    ) => {
      deps.metrics.callbackOutcomes.inc({ reason });
      sendRefusal(req, res, reason, sellerId, otto);
    };

    const parsed = callbackQuerySchema.safeParse(req.query);
    if (!parsed.success) return refuse('malformed_request');
    const { state: token, code, iss, error, error_description: description } = parsed.data;
    const cookie = deps.consentCookies.verify(deps.consentCookies.read(req.get('cookie')));

    if (code === undefined && error === undefined) {
      // The consent callback: OTTO installed the app and sends no parameters we could check.
      if (!cookie.ok) return refuse('no_consent_cookie');
      const { sellerId, appVersion, nonce, codeChallenge } = cookie.binding;
      const app = deps.apps.find((a) => a.version === appVersion);
      if (!app) return refuse('connection_ended', sellerId);
      deps.metrics.callbackOutcomes.inc({ reason: 'consent_forwarded' });
      res.redirect(
        303,
        buildAuthorizeUrl({
          authBaseUrl: deps.authBaseUrl,
          clientId: app.clientId,
          ...(deps.redirectUri === undefined ? {} : { redirectUri: deps.redirectUri }),
          state: deps.stateSigner.sign({ sellerId, appVersion, nonce }),
          ...(codeChallenge === undefined ? {} : { codeChallenge }),
        }),
      );
      return;
    }

    const otto = error === undefined ? undefined : { error, description };
    if (token === undefined) return refuse('missing_state', undefined, otto);
    const check = deps.stateSigner.verify(token);
    if (!check.ok) return refuse(`${check.reason}_state`, undefined, otto);
    const { sellerId, nonce, appVersion, expiresAt } = check.state;
    if (iss !== undefined && iss !== deps.issuer) return refuse('issuer_mismatch', sellerId, otto);
    if (code !== undefined && error !== undefined) return refuse('malformed_request', sellerId);
    // Login CSRF / code injection: the answer must come back to the browser that clicked "Allow access".
    if (!cookie.ok || cookie.binding.nonce !== nonce || cookie.binding.sellerId !== sellerId) {
      return refuse('browser_mismatch', sellerId);
    }
    if (deps.usedNonces.has(nonce)) return refuse('replayed', sellerId);

    const connection = await deps.connections.summary(sellerId);
    if (connection === null) return refuse('unknown_seller', sellerId, otto);
    if (!connection.running) return refuse('connection_ended', sellerId, otto);
    const done =
      connection.state === 'authorizing' ||
      (connection.state !== null && CONNECTED.has(connection.state) && connection.appVersion === appVersion);
    if (done) return refuse('replayed', sellerId);

    // OTTO's error= is passed on too: the workflow records it as lastError and the assistant explains it.
    await deps.connections.deliverCallback(sellerId, {
      nonce,
      ...(code === undefined ? {} : { sealedCode: deps.sealer.seal(code) }),
      ...(error === undefined ? {} : { error }),
      ...(description === undefined ? {} : { errorDescription: description }),
    });
    if (code !== undefined) {
      deps.usedNonces.add(nonce, expiresAt);
      res.append('Set-Cookie', deps.consentCookies.clearCookie());
    }
    deps.metrics.callbackOutcomes.inc({ reason: code === undefined ? 'otto_error' : 'accepted' });
    res.redirect(303, `/assistant/otto?sellerId=${encodeURIComponent(sellerId)}`);
  });

  return router;
}

function sendRefusal(
  req: Request,
  res: Response,
  reason: CallbackRefusal,
  sellerId: string | undefined,
  otto: { error?: string; description?: string } | undefined,
): void {
  const message = CALLBACK_REFUSALS[reason];
  res.status(400);
  if (!wantsHtml(req)) {
    res.json({
      error: {
        code: `callback_${reason}`,
        message: `${message} ${START_AGAIN}`,
        ...(otto ? { details: { ottoError: otto.error, ottoErrorDescription: otto.description } } : {}),
      },
    });
    return;
  }
  const assistant = sellerId === undefined ? '' : `/assistant/otto?sellerId=${encodeURIComponent(sellerId)}`;
  res.type('html').send(
    page(
      'Access to OTTO was not completed',
      html`<h1>Access to OTTO was not completed</h1>
        <p class="error" id="refusal" data-reason="${reason}">${message}</p>
        ${otto ? html`<p id="otto-said">OTTO also reported: <code>${otto.error}</code> ${otto.description ?? ''}</p>` : ''}
        <p>${START_AGAIN}</p>
        ${assistant ? html`<p><a id="back" href="${assistant}">Back to the OTTO Market settings</a></p>` : ''}`,
    ),
  );
}
