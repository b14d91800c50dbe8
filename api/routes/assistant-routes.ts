/**
 * The seller's assistant, behind an assistant session (api/assistant-session.ts): the shop's backend
 * creates a one-time link for its logged-in seller (POST /api/sellers/:sellerId/assistant-sessions),
 * the seller's browser opens it (`GET /assistant/otto/session?token=…`) and gets a session cookie for
 * that seller only. Every assistant route takes the seller from that session, never from the query or
 * the form: without a session nothing is shown or started for anyone (401 page: open the settings
 * from the shop), and a session for seller A can do nothing for seller B.
 *
 * "Allow access" (POST) also needs the session's form token (CSRF, on top of SameSite=Lax), refuses
 * cross-site posts by Origin, and is rate-limited per session and per address. The pages may be framed
 * by the shop's admin UI (ASSISTANT_FRAME_ANCESTORS → CSP frame-ancestors).
 */
import express, { type RequestHandler, type Response, type Router } from 'express';
import { createRouter, headWithoutEffect } from '../routing';
import type { Logger } from '../../common/logger';
import type { AppVersion } from '../../workflows/definitions';
import { renderAssistant } from '../assistant-page';
import type { AssistantSession, AssistantSessions, LinkCheck } from '../assistant-session';
import { ASSISTANT_SESSION_PATH } from '../assistant-session';
import type { ConsentCookies } from '../consent-cookie';
import { SellerConnectionError } from '../connection-errors';
import type { ConsentStarter } from '../consent-starter';
import { HttpError, serviceUnavailable } from '../errors';
import { allowAccessFormSchema, assistantLinkQuerySchema, assistantQuerySchema } from '../http-schemas';
import type { SellerConnections, StatusSummaryView } from '../seller-connections';
import { parse } from '../validate';

export interface AssistantRoutesDeps {
  connections: SellerConnections;
  startConsent: ConsentStarter;
  consentCookies: ConsentCookies;
  sessions: AssistantSessions;
  /** Per-session and per-address limits on consent starts (consent-start-limit.ts). */
  consentStartLimit: RequestHandler[];
  latestAppVersion: AppVersion;
  publicBaseUrl: string;
  /** The CSP `frame-ancestors` sources of the assistant pages (ASSISTANT_FRAME_ANCESTORS). */
  frameAncestors: string;
  /** Where a one-time link that could not be checked (store unreachable) is reported. */
  logger?: Pick<Logger, 'warn'>;
}

const OPEN_FROM_SHOP = 'Please open the OTTO Market settings from your shop again.';

const noSession = () =>
  new HttpError(
    401,
    'assistant_session_required',
    `These OTTO Market settings can only be opened from your shop: this browser has no session for them, or it has expired. ${OPEN_FROM_SHOP}`,
  );

const LINK_NOT_CHECKED = serviceUnavailable(
  'assistant_link_unchecked',
  'The OTTO Market settings cannot be opened right now. Please reload this page in a moment.',
);

const LINK_REFUSALS = {
  invalid: new HttpError(
    400,
    'assistant_link_invalid',
    `This link to the OTTO Market settings is damaged or was not issued by us. ${OPEN_FROM_SHOP}`,
  ),
  expired: new HttpError(
    410,
    'assistant_link_expired',
    `This link to the OTTO Market settings has expired: it is only valid for a few minutes. ${OPEN_FROM_SHOP}`,
  ),
  used: new HttpError(
    410,
    'assistant_link_used',
    `This link to the OTTO Market settings has already been opened; each link works once. ${OPEN_FROM_SHOP}`,
  ),
} as const;

/** The session of this request (put there by `requireSession`). */
const sessionOf = (res: Response): AssistantSession => res.locals.assistantSession as AssistantSession;

export function assistantRoutes(deps: AssistantRoutesDeps): Router {
  const router = createRouter();
  const ownOrigin = new URL(deps.publicBaseUrl).origin;
  const form = express.urlencoded({ extended: false, limit: '2kb', parameterLimit: 10 });

  // The assistant's answers (pages, refusals, redirects) may be framed by the shop's admin UI.
  router.use('/assistant', (_req, res, next) => {
    const csp = res.get('Content-Security-Policy') ?? '';
    const frameAncestors = `frame-ancestors ${deps.frameAncestors}`;
    res.set(
      'Content-Security-Policy',
      /frame-ancestors [^;]*/.test(csp)
        ? csp.replace(/frame-ancestors [^;]*/, frameAncestors)
        : `${csp}${csp ? '; ' : ''}${frameAncestors}`,
    );
    next();
  });

  const requireSession: RequestHandler = (req, res, next) => {
    const check = deps.sessions.read(req.get('cookie'));
    if (!check.ok) {
      next(noSession());
      return;
    }
    res.locals.assistantSession = check.session;
    res.locals.assistantSessionId = check.session.sessionId;
    next();
  };

  // The shop's one-time link: spend it, set the session cookie, show the assistant (HEAD spends nothing).
  router.head(ASSISTANT_SESSION_PATH, headWithoutEffect);
  router.get(ASSISTANT_SESSION_PATH, async (req, res) => {
    // The URL carries the one-time token: never cache it, never leak it in a Referer.
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    const parsed = assistantLinkQuerySchema.safeParse(req.query);
    let link: LinkCheck | undefined;
    try {
      link = parsed.success ? await deps.sessions.redeemLink(parsed.data.token) : undefined;
    } catch (err) {
      // The spent links could not be read: the link stays unspent and may be opened again shortly.
      deps.logger?.warn({ err }, 'assistant link not checked: the seller store is unreachable');
      throw LINK_NOT_CHECKED;
    }
    if (!link?.ok) throw LINK_REFUSALS[link?.reason ?? 'invalid'];
    res.append('Set-Cookie', deps.sessions.startSession(link).setCookie);
    res.redirect(303, '/assistant/otto');
  });

  router.get('/assistant/otto', requireSession, async (req, res) => {
    const session = sessionOf(res);
    const { sellerId: named } = parse(assistantQuerySchema, req.query, 'query');
    if (named !== undefined && named !== session.sellerId) {
      throw new HttpError(
        403,
        'assistant_other_seller',
        `The OTTO Market settings open in this browser belong to another seller. ${OPEN_FROM_SHOP}`,
      );
    }
    let status: StatusSummaryView | null;
    try {
      status = await deps.connections.status(session.sellerId);
    } catch (err) {
      if (!(err instanceof SellerConnectionError && err.kind === 'not_connected')) throw err;
      status = null;
    }
    res
      // Browsers send "Origin: null" on form posts from a no-referrer page; the POST below checks Origin.
      .set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'same-origin' })
      .type('html')
      .send(
        renderAssistant({
          sellerId: session.sellerId,
          formToken: deps.sessions.formToken(session),
          status,
          latestAppVersion: deps.latestAppVersion,
        }),
      );
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
    requireSession,
    form,
    (req, res, next) => {
      const { formToken } = parse(allowAccessFormSchema, req.body, 'body');
      if (!deps.sessions.verifyFormToken(sessionOf(res), formToken)) {
        next(
          new HttpError(
            403,
            'invalid_form_token',
            'This form does not belong to the OTTO Market settings open in this browser (it is from an older or another session). Reload the settings and click “Allow access” again.',
          ),
        );
        return;
      }
      next();
    },
    ...deps.consentStartLimit,
    async (req, res) => {
      const session = sessionOf(res);
      const { appVersion } = parse(allowAccessFormSchema, req.body, 'body');
      // The form's version (a pending consent's, an upgrade) wins; otherwise the one the shop chose.
      const version = appVersion ?? session.appVersion;
      // The shop's invitation link belongs to the version it chose (default: the newest).
      const invitationFits =
        session.invitationUrl !== undefined &&
        (version ?? deps.latestAppVersion) === (session.appVersion ?? deps.latestAppVersion);
      const started = await deps.startConsent(session.sellerId, {
        ...(version === undefined ? {} : { appVersion: version }),
        ...(invitationFits ? { invitationUrl: session.invitationUrl } : {}),
      });
      // The cookie lets OTTO's parameterless redirect after the installation find this consent again.
      res.append('Set-Cookie', deps.consentCookies.setCookie(started.cookie));
      // 303: the browser follows with a GET to OTTO's installation (or invitation) page.
      res.redirect(303, started.consentUrl);
    },
  );

  return router;
}
