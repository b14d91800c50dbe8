/**
 * OTTO's redirects back to us (docs/otto-api.md §2.2): public, so the door attackers knock on. Two kinds:
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
import type { Request, Response, Router } from 'express';
import { createRouter, headWithoutEffect } from '../routing';
import { buildAuthorizeUrl } from '../../common/oauth';
import type { PublicOttoApp } from '../../common/otto-apps';
import type { Sealer } from '../../common/seal';
import { SellerConnectionError, type ConnectionErrorKind } from '../connection-errors';
import type { ConsentCookies } from '../consent-cookie';
import { serviceUnavailable, wantsHtml } from '../errors';
import { html, page } from '../html';
import { callbackQuerySchema, consentStartQuerySchema } from '../http-schemas';
import type { ApiMetrics } from '../metrics';
import type { StateSigner } from '../oauth-state';
import type { OneTimeIds } from '../one-time-ids';
import type { Logger } from '../../common/logger';
import type { SellerConnections } from '../seller-connections';

export interface CallbackRoutesDeps {
  connections: SellerConnections;
  sealer: Sealer;
  stateSigner: StateSigner;
  consentCookies: ConsentCookies;
  metrics: ApiMetrics;
  issuer: string;
  apps: readonly PublicOttoApp[];
  authBaseUrl: string;
  /** Sent on /oauth2/auth unless OTTO_SEND_REDIRECT_URI is off. */
  redirectUri: string | undefined;
  /** Where opened consent links are spent (their nonce), so each opens in one browser only. */
  spentConsentLinks: OneTimeIds;
  /** Where a consent link that could not be checked (store unreachable) is reported. */
  logger?: Pick<Logger, 'warn'> | undefined;
}

const START_AGAIN = 'Please go back to the OTTO Market settings in your shop and click “Allow access” again.';

const CONSENT_LINK_NOT_CHECKED = serviceUnavailable(
  'consent_link_unchecked',
  'This link to connect with OTTO cannot be opened right now. Please reload this page in a moment.',
);

/** Why a callback was refused, and what the seller is told. */
export const CALLBACK_REFUSALS = {
  malformed_request: 'The answer from OTTO could not be read: a parameter is missing, repeated or too long.',
  no_consent_cookie:
    'We could not tell which shop seller this browser belongs to: the “Allow access” step was not started in this browser, or too long ago. Nothing was changed.',
  invalid_consent_link:
    'This link to connect with OTTO is damaged or has expired. Ask for a new one, or start from your shop’s assistant.',
  consent_link_used:
    'This link to connect with OTTO was already opened in another browser; each link works in one browser only. Ask for a new one, or start from your shop’s assistant.',
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
  superseded:
    'This answer from OTTO belongs to an earlier “Allow access” click; a newer one is waiting. Use the most recent one.',
  in_progress: 'Your connection is being completed right now; see the assistant in a moment.',
  unknown_seller: 'We could not find the connection request this link belongs to.',
  connection_ended: 'The connection request this link belongs to has ended (it expired or was cancelled).',
} as const;
export type CallbackRefusal = keyof typeof CALLBACK_REFUSALS;

/** The workflow's verdicts, and Temporal's "no such connection", as refusals. */
const REFUSAL_BY_KIND: Partial<Record<ConnectionErrorKind, CallbackRefusal>> = {
  callback_replayed: 'replayed',
  callback_stale: 'superseded',
  invalid_transition: 'in_progress',
  not_connected: 'unknown_seller',
  connection_ended: 'connection_ended',
};

/** What we say about OTTO's error= codes: fixed texts, never OTTO's description (it is not ours to show). */
const OTTO_ERRORS: Record<string, string> = {
  access_denied: 'The login at OTTO was cancelled or access was not granted.',
  invalid_scope: 'OTTO did not accept the requested permissions.',
  invalid_request: 'OTTO could not read our request.',
  unauthorized_client: 'OTTO did not accept this app for the request.',
  unsupported_response_type: 'OTTO did not accept the request type.',
  server_error: 'OTTO had an internal error.',
  temporarily_unavailable: 'OTTO’s login is temporarily unavailable.',
};

export function callbackRoutes(deps: CallbackRoutesDeps): Router {
  const router = createRouter();
  const noStore = (res: Response) =>
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });

  // The admin's consent link (POST /api/sellers/:id/connection → authorizeUrl): binds this browser, then OPC.
  // One browser per link: the first opening spends the consent's nonce; the browser it bound (it sends the
  // cookie this link set) may open it again, any other is refused.
  // HEAD (a mail scanner, a link preview) spends no link and delivers no code: routing.ts.
  router.head('/oauth/start', headWithoutEffect);
  router.head('/oauth/callback', headWithoutEffect);
  router.get('/oauth/start', async (req, res) => {
    noStore(res);
    const parsed = consentStartQuerySchema.safeParse(req.query);
    const check = parsed.success ? deps.consentCookies.verifyTicket(parsed.data.ticket) : undefined;
    if (!check?.ok) {
      deps.metrics.callbackOutcomes.inc({ reason: 'invalid_consent_link' });
      sendRefusal(req, res, 'invalid_consent_link', undefined, undefined);
      return;
    }
    // The browser this link bound already (it sends the cookie the link set): it may open it again.
    const bound = deps.consentCookies.verify(deps.consentCookies.read(req.get('cookie')));
    if (!bound.ok || bound.binding.nonce !== check.binding.nonce) {
      let first: boolean;
      try {
        first = await deps.spentConsentLinks.spend(check.binding.nonce, check.binding.expiresAt);
      } catch (err) {
        deps.logger?.warn({ err }, 'consent link not checked: the seller store is unreachable');
        throw CONSENT_LINK_NOT_CHECKED;
      }
      if (!first) {
        deps.metrics.callbackOutcomes.inc({ reason: 'consent_link_used' });
        sendRefusal(req, res, 'consent_link_used', undefined, undefined);
        return;
      }
    }
    res.append('Set-Cookie', deps.consentCookies.setCookie(deps.consentCookies.cookieFor(check.binding)));
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
      res.locals.sellerId = sellerId; // verified (signed cookie): the request log may name it
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

    const otto = error === undefined ? undefined : { error };
    // OTTO's words are shown only once the state is ours: never someone else's text on our origin.
    if (token === undefined) return refuse('missing_state');
    const check = deps.stateSigner.verify(token);
    if (!check.ok) return refuse(`${check.reason}_state`);
    const { sellerId, nonce } = check.state;
    res.locals.sellerId = sellerId; // verified: the request log may name it
    if (iss !== undefined && iss !== deps.issuer) return refuse('issuer_mismatch', sellerId);
    if (code !== undefined && error !== undefined) return refuse('malformed_request', sellerId);
    // Login CSRF / code injection: the answer must come back to the browser that clicked "Allow access".
    if (!cookie.ok || cookie.binding.nonce !== nonce || cookie.binding.sellerId !== sellerId) {
      return refuse('browser_mismatch', sellerId);
    }

    // The workflow's update validator decides (stale, replayed), the same on every API replica and
    // after restarts. OTTO's error= is the consent's answer too: the assistant explains it.
    try {
      await deps.connections.deliverCallback(sellerId, {
        nonce,
        ...(code === undefined
          ? {}
          : { sealedCode: deps.sealer.seal(code, { purpose: 'authorization-code', sellerId }) }),
        ...(error === undefined ? {} : { error }),
        ...(description === undefined ? {} : { errorDescription: description }),
      });
    } catch (err) {
      const refusal = err instanceof SellerConnectionError ? REFUSAL_BY_KIND[err.kind] : undefined;
      if (refusal === undefined) throw err;
      return refuse(refusal, sellerId, otto);
    }
    // The binding is spent with the consent's answer.
    res.append('Set-Cookie', deps.consentCookies.clearCookie());
    deps.metrics.callbackOutcomes.inc({ reason: code === undefined ? 'otto_error' : 'accepted' });
    // The assistant knows its seller from the browser's assistant session, never from the URL.
    res.redirect(303, '/assistant/otto');
  });

  return router;
}

function sendRefusal(
  req: Request,
  res: Response,
  reason: CallbackRefusal,
  sellerId: string | undefined,
  otto: { error?: string } | undefined,
): void {
  const message = CALLBACK_REFUSALS[reason];
  const ottoSaid =
    otto?.error === undefined
      ? undefined
      : // Own keys only: `error=toString` must not find Object.prototype's function.
        Object.hasOwn(OTTO_ERRORS, otto.error)
        ? OTTO_ERRORS[otto.error]!
        : 'OTTO refused the request with an error code we do not know.';
  res.status(400);
  if (!wantsHtml(req)) {
    res.json({
      error: {
        code: `callback_${reason}`,
        message: `${message} ${START_AGAIN}`,
        ...(otto ? { details: { ottoError: otto.error, ottoSaid } } : {}),
      },
    });
    return;
  }
  const assistant = sellerId === undefined ? '' : '/assistant/otto';
  res.type('html').send(
    page(
      'Access to OTTO was not completed',
      html`<h1>Access to OTTO was not completed</h1>
        <p class="error" id="refusal" data-reason="${reason}">${message}</p>
        ${ottoSaid ? html`<p id="otto-said">OTTO also reported: ${ottoSaid}</p>` : ''}
        <p>${START_AGAIN}</p>
        ${assistant ? html`<p><a id="back" href="${assistant}">Back to the OTTO Market settings</a></p>` : ''}`,
    ),
  );
}
