/**
 * OTTO's redirect back to us (otto-api.md §2.3) — public, so the door attackers knock on. A callback is
 * passed to the seller's workflow only when its `state` is ours (signature), fresh (expiry), from the
 * issuer we sent the seller to (RFC 9207 `iss`, mix-up defence), not used before, and for a seller whose
 * connection is waiting for it. Every refusal is a page a seller understands (JSON when asked), counted
 * in /metrics, and signals nothing. The code is sealed before it leaves this process.
 */
import { Router, type Request, type Response } from 'express';
import type { Sealer } from '../../common/seal';
import type { ConnectionState } from '../../workflows/definitions';
import { wantsHtml } from '../errors';
import { html, page } from '../html';
import { callbackQuerySchema } from '../http-schemas';
import type { ApiMetrics } from '../metrics';
import type { StateSigner } from '../oauth-state';
import type { SellerConnections } from '../seller-connections';
import type { UsedNonces } from '../used-nonces';

export interface CallbackRoutesDeps {
  connections: SellerConnections;
  sealer: Sealer;
  stateSigner: StateSigner;
  usedNonces: UsedNonces;
  metrics: ApiMetrics;
  issuer: string;
}

const START_AGAIN = 'Please go back to the OTTO Market settings in your shop and click “Allow access” again.';

/** Why a callback was refused, and what the seller is told. */
export const CALLBACK_REFUSALS = {
  malformed_request: 'The answer from OTTO could not be read: a parameter is missing, repeated or too long.',
  missing_state: 'This page was opened without the information that ties it to your “Allow access” click.',
  malformed_state: 'This link is damaged or was not issued by us, so it was not accepted.',
  forged_state: 'This link was not issued by us or has been altered, so it was not accepted.',
  expired_state: 'This link has expired: it is only valid for a short time after clicking “Allow access”.',
  issuer_mismatch:
    'This answer did not come from OTTO’s login (it names a different sender), so it was not accepted.',
  missing_code: 'OTTO sent neither an authorization nor a reason for refusing it.',
  replayed:
    'This link has already been used. Your connection is being completed or is complete; see the assistant.',
  unknown_seller: 'We could not find the connection request this link belongs to.',
  connection_ended: 'The connection request this link belongs to has ended (it expired or was cancelled).',
} as const;
export type CallbackRefusal = keyof typeof CALLBACK_REFUSALS;

const CONNECTED: ReadonlySet<ConnectionState> = new Set(['active', 'degraded', 'paused']);

export function callbackRoutes(deps: CallbackRoutesDeps): Router {
  const router = Router();

  router.get('/oauth/callback', async (req, res) => {
    // The URL carries a one-time code: never cache it, never leak it in a Referer.
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
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
    const otto = error === undefined ? undefined : { error, description };
    if (token === undefined) return refuse('missing_state', undefined, otto);
    const check = deps.stateSigner.verify(token);
    if (!check.ok) return refuse(`${check.reason}_state`, undefined, otto);
    const { sellerId, nonce, appVersion, expiresAt } = check.state;
    if (iss !== undefined && iss !== deps.issuer) return refuse('issuer_mismatch', sellerId, otto);
    if (code === undefined && error === undefined) return refuse('missing_code', sellerId);
    if (code !== undefined && error !== undefined) return refuse('malformed_request', sellerId);
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
    if (code !== undefined) deps.usedNonces.add(nonce, expiresAt);
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
