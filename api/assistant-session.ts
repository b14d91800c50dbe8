/**
 * Assistant sessions, the way Nango's connect sessions and Stripe's account links work: the shop's
 * backend, which knows who its logged-in seller is, asks for a session with the admin key
 * (`POST /api/sellers/:sellerId/assistant-sessions`) and hands the one-time link it gets to that seller's
 * browser; opening the link sets a session cookie naming that seller and nobody else. The assistant and
 * "Allow access" take the seller from that cookie only, never from a query or a form.
 *
 * Three values, each HMAC-SHA256 under its own key derived from STATE_SIGNING_KEY with a distinct
 * purpose string (so none can pass as another, nor as an OAuth state or a consent cookie):
 * - the **link token** (`/assistant/otto/session?token=…`, ASSISTANT_LINK_TTL, minutes): seller, link id,
 *   expiry, and the app version and invitation link the shop may have asked for;
 * - the **session cookie** (ASSISTANT_SESSION_TTL): seller, a fresh session id, expiry, the same two
 *   options; HttpOnly, SameSite=Lax, Path=/, `__Host-` prefixed and Secure over https;
 * - the **form token**: the HMAC of the session id, a hidden field of every "Allow access" form,
 *   compared with timingSafeEqual; a form post needs both the cookie and a page of that same session.
 * Format of the first two: `base64url(json).base64url(mac)`. The invitation link travels inside them as
 * it already does in the consent cookie and the admin's consent link: only between our API and the
 * seller's own browser, never in a Referer (the link answers `Referrer-Policy: no-referrer`).
 *
 * **Single use**: an opened link's id is spent in the seller store the API shares with the other
 * replicas (api/one-time-ids.ts), so a link opens once across replicas and restarts; a store that cannot
 * be reached refuses the link (503, try again) rather than risk a second opening. An API without a store
 * (tests) remembers opened ids in its own memory (api/create-app.ts chooses).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { appVersionSchema, sellerIdSchema, type AppVersion } from '../common/workflow-schemas';
import { HttpError } from './errors';
import type { OneTimeIds } from './one-time-ids';
import { cookieAttributes, deriveKey, macText, readCookie, sameMac, signedToken } from './signed-token';

/** Far above a real value (~2,900 characters with the longest invitation link): longer is refused unread. */
export const MAX_ASSISTANT_TOKEN_LENGTH = 3072;
/** Where the shop's one-time link points. */
export const ASSISTANT_SESSION_PATH = '/assistant/otto/session';
/** The name of the hidden field that carries the form token. */
export const FORM_TOKEN_FIELD = 'formToken';

const idSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
const optionsShape = {
  /** The app version "Allow access" starts consent for (default: the newest offered). */
  a: appVersionSchema.optional(),
  /** A private app's invitation link from OPC, for "Allow access" of that version. */
  u: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
};
const linkSchema = z.strictObject({
  v: z.literal(1),
  s: sellerIdSchema,
  n: idSchema,
  e: z.number().int().positive(),
  ...optionsShape,
});
const sessionSchema = z.strictObject({
  v: z.literal(1),
  s: sellerIdSchema,
  i: idSchema,
  e: z.number().int().positive(),
  ...optionsShape,
});

/** What the shop may fix for the session: "Allow access" uses them. */
export interface AssistantSessionOptions {
  appVersion?: AppVersion;
  invitationUrl?: string;
}

export interface AssistantSession extends AssistantSessionOptions {
  sellerId: string;
  sessionId: string;
  expiresAt: number;
}

export type LinkCheck =
  | { ok: true; sellerId: string; linkId: string; expiresAt: number; options: AssistantSessionOptions }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' };

export type SessionCheck =
  { ok: true; session: AssistantSession } | { ok: false; reason: 'none' | 'invalid' };

export interface AssistantSessions {
  /** The session cookie's name for this deployment (`__Host-` prefixed over https). */
  readonly cookieName: string;
  /** A one-time link (absolute URL on PUBLIC_BASE_URL) for this seller; throws 400 for options not offered. */
  createLink(sellerId: string, options?: AssistantSessionOptions): { url: string; expiresAt: number };
  /**
   * Verifies a link token and, when it is good, spends it (single use, see `spentLinks`); rejects when
   * the spent ids cannot be reached.
   */
  redeemLink(token: string): Promise<LinkCheck>;
  /** A new session for the seller a redeemed link named: the `Set-Cookie` header value. */
  startSession(link: Extract<LinkCheck, { ok: true }>): { setCookie: string; session: AssistantSession };
  /** The session a request's `Cookie` header carries, if a valid one. */
  read(cookieHeader: string | undefined): SessionCheck;
  /** The form token of a session: the hidden field of its "Allow access" forms. */
  formToken(session: AssistantSession): string;
  /** Whether a posted form token belongs to this session (constant time). */
  verifyFormToken(session: AssistantSession, given: string): boolean;
}

export interface AssistantSessionDeps {
  stateSigningKey: string;
  publicBaseUrl: string;
  linkTtlMs: number;
  sessionTtlMs: number;
  /** The offered apps and OPC's host: a session's app version and invitation link are checked up front. */
  apps: readonly { version: string }[];
  portalBaseUrl: string;
  now?: () => number;
  /** Where opened links' ids are spent (api/one-time-ids.ts). */
  spentLinks: OneTimeIds;
}

const newId = () => randomBytes(16).toString('base64url');

const optionsOf = (p: { a?: AppVersion | undefined; u?: string | undefined }): AssistantSessionOptions => ({
  ...(p.a === undefined ? {} : { appVersion: p.a }),
  ...(p.u === undefined ? {} : { invitationUrl: p.u }),
});

export function createAssistantSessions(deps: AssistantSessionDeps): AssistantSessions {
  const now = deps.now ?? Date.now;
  const secure = new URL(deps.publicBaseUrl).protocol === 'https:';
  const cookieName = secure ? '__Host-otto-assistant' : 'otto-assistant';
  const attributes = cookieAttributes(secure);
  const codec = <S extends z.ZodType>(purpose: string, schema: S) =>
    signedToken(deriveKey(deps.stateSigningKey, purpose), schema, MAX_ASSISTANT_TOKEN_LENGTH);
  const links = codec('otto-connect assistant link v1', linkSchema);
  const sessions = codec('otto-connect assistant session v1', sessionSchema);
  const formKey = deriveKey(deps.stateSigningKey, 'otto-connect assistant form token v1');
  const portalOrigin = new URL(deps.portalBaseUrl).origin;

  const { spentLinks } = deps;

  return {
    cookieName,
    createLink(sellerId, options = {}) {
      if (options.appVersion !== undefined && !deps.apps.some((a) => a.version === options.appVersion)) {
        throw new HttpError(
          400,
          'app_version_not_offered',
          `app version ${options.appVersion} is not offered by this deployment`,
        );
      }
      if (options.invitationUrl !== undefined && new URL(options.invitationUrl).origin !== portalOrigin) {
        throw new HttpError(
          400,
          'invalid_invitation_url',
          `invitationUrl must be an invitation link of OTTO's portal (${portalOrigin}), as OPC generates it`,
        );
      }
      const expiresAt = now() + deps.linkTtlMs;
      const token = links.seal({
        v: 1,
        s: sellerId,
        n: newId(),
        e: expiresAt,
        ...(options.appVersion === undefined ? {} : { a: options.appVersion }),
        ...(options.invitationUrl === undefined ? {} : { u: options.invitationUrl }),
      });
      const url = new URL(ASSISTANT_SESSION_PATH, deps.publicBaseUrl);
      url.searchParams.set('token', token);
      return { url: url.toString(), expiresAt };
    },
    async redeemLink(token) {
      const opened = links.open(token);
      if (!opened.ok) return { ok: false, reason: 'invalid' };
      const link = opened.payload;
      if (now() >= link.e) return { ok: false, reason: 'expired' };
      if (!(await spentLinks.spend(link.n, link.e))) return { ok: false, reason: 'used' };
      return { ok: true, sellerId: link.s, linkId: link.n, expiresAt: link.e, options: optionsOf(link) };
    },
    startSession(link) {
      const session: AssistantSession = {
        sellerId: link.sellerId,
        sessionId: newId(),
        expiresAt: now() + deps.sessionTtlMs,
        ...link.options,
      };
      const value = sessions.seal({
        v: 1,
        s: session.sellerId,
        i: session.sessionId,
        e: session.expiresAt,
        ...(session.appVersion === undefined ? {} : { a: session.appVersion }),
        ...(session.invitationUrl === undefined ? {} : { u: session.invitationUrl }),
      });
      return {
        session,
        setCookie: `${cookieName}=${value}; Max-Age=${Math.ceil(deps.sessionTtlMs / 1000)}; ${attributes}`,
      };
    },
    read(cookieHeader) {
      const value = readCookie(cookieHeader, cookieName);
      if (value === undefined) return { ok: false, reason: 'none' };
      const opened = sessions.open(value);
      if (!opened.ok || now() >= opened.payload.e) return { ok: false, reason: 'invalid' };
      const p = opened.payload;
      return { ok: true, session: { sellerId: p.s, sessionId: p.i, expiresAt: p.e, ...optionsOf(p) } };
    },
    formToken(session) {
      return macText(formKey, session.sessionId);
    },
    verifyFormToken(session, given) {
      return given.length <= 128 && sameMac(given, macText(formKey, session.sessionId));
    },
  };
}

/**
 * ASSISTANT_FRAME_ANCESTORS: who may embed the assistant pages (CSP `frame-ancestors`). Space- or
 * comma-separated sources, each `'self'`, `'none'` (alone) or a scheme + host (`*.` wildcard allowed)
 * + optional port, without path; nothing else, so the value can never break out of the CSP header.
 * Unset or empty: `'self'`.
 */
export const frameAncestorsSchema = z
  .string()
  .optional()
  .transform((text, ctx) => {
    const sources = (text ?? '').split(/[\s,]+/).filter((s) => s !== '');
    if (sources.length === 0) return "'self'";
    const source = /^(?:'self'|'none'|https?:\/\/(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?)$/;
    const bad = sources.find((s) => !source.test(s));
    if (bad !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${bad.slice(0, 80)}" is not a frame-ancestors source: use origins like https://admin.shop.example (no path), https://*.shop.example or 'self'`,
      });
      return z.NEVER;
    }
    if (sources.includes("'none'") && sources.length > 1) {
      ctx.addIssue({ code: 'custom', message: "'none' cannot be combined with other sources" });
      return z.NEVER;
    }
    return [...new Set(sources)].join(' ');
  });
