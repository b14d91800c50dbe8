/**
 * The browser binding of a consent (docs/otto-api.md §2.2): OTTO's first redirect after the seller installed
 * our app carries no parameters, so only a cookie set when the seller clicked "Allow access" can say
 * which seller (and which consent) the browser belongs to. The admin's one-time consent link
 * (`/oauth/start?ticket=…`) carries the same binding as a ticket, which sets the cookie in the first
 * browser that opens it only (its nonce is spent then, api/one-time-ids.ts). Cookie and ticket are signed
 * (HMAC-SHA256) under two keys derived from STATE_SIGNING_KEY, so neither a state nor a ticket can pass as
 * a cookie, and no cookie as a ticket: a seller who copied their own cookie out of the browser cannot
 * hand it to someone else as a consent link, which would connect that person's OTTO account to the
 * copier's seller. Short-lived, HttpOnly + SameSite=Lax (`__Host-` prefixed and Secure over https).
 */
import { z } from 'zod';
import { appVersionSchema, beginConsentInputSchema, sellerIdSchema } from '../common/workflow-schemas';
import { cookieAttributes, deriveKey, readCookie, signedToken } from './signed-token';

/** Far above a real value (~600 characters with an invitation link): anything longer is refused unread. */
export const MAX_CONSENT_TICKET_LENGTH = 3072;

const payloadSchema = z.strictObject({
  v: z.literal(1),
  s: sellerIdSchema,
  a: appVersionSchema,
  n: beginConsentInputSchema.shape.nonce,
  /** Expiry, epoch ms. */
  e: z.number().int().positive(),
  /** The PKCE challenge (public by design) when OTTO_PKCE is on. */
  c: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional(),
  /** Where "Allow access" sends the browser: the app's installation link or an invitation link. */
  u: z.url({ protocol: /^https?$/ }),
});

export interface ConsentBinding {
  sellerId: string;
  appVersion: z.infer<typeof appVersionSchema>;
  nonce: string;
  expiresAt: number;
  codeChallenge?: string;
  consentUrl: string;
}

export type ConsentCheck =
  { ok: true; binding: ConsentBinding } | { ok: false; reason: 'invalid' | 'expired' };

export interface ConsentCookies {
  /** The cookie's name for this deployment (`__Host-` prefixed over https). */
  readonly name: string;
  /** The binding as the cookie's value and as a consent link's ticket (same content, different keys). */
  issue(binding: Omit<ConsentBinding, 'expiresAt'>): { value: string; ticket: string; expiresAt: number };
  /** A cookie's value (never a ticket). */
  verify(value: string | undefined): ConsentCheck;
  /** A consent link's ticket (never a cookie's value). */
  verifyTicket(ticket: string | undefined): ConsentCheck;
  /** The cookie's value for a binding a ticket carried (the same expiry). */
  cookieFor(binding: ConsentBinding): string;
  /** The `Set-Cookie` header value that stores `value`. */
  setCookie(value: string): string;
  /** The `Set-Cookie` header value that removes the cookie. */
  clearCookie(): string;
  /** This cookie's value from a request's `Cookie` header. */
  read(cookieHeader: string | undefined): string | undefined;
}

export function createConsentCookies(
  stateSigningKey: string,
  options: { ttlMs: number; publicBaseUrl: string; now?: () => number },
): ConsentCookies {
  const now = options.now ?? Date.now;
  const secure = new URL(options.publicBaseUrl).protocol === 'https:';
  const name = secure ? '__Host-otto-consent' : 'otto-consent';
  const cookieToken = signedToken(
    deriveKey(stateSigningKey, 'otto-connect consent cookie v1'),
    payloadSchema,
    MAX_CONSENT_TICKET_LENGTH,
  );
  const ticketToken = signedToken(
    deriveKey(stateSigningKey, 'otto-connect consent link ticket v1'),
    payloadSchema,
    MAX_CONSENT_TICKET_LENGTH,
  );
  const attributes = cookieAttributes(secure);
  const payloadOf = (binding: ConsentBinding): z.infer<typeof payloadSchema> => ({
    v: 1,
    s: binding.sellerId,
    a: binding.appVersion,
    n: binding.nonce,
    e: binding.expiresAt,
    ...(binding.codeChallenge === undefined ? {} : { c: binding.codeChallenge }),
    u: binding.consentUrl,
  });
  const check = (token: typeof cookieToken, value: string | undefined): ConsentCheck => {
    const opened = token.open(value);
    if (!opened.ok) return { ok: false, reason: 'invalid' };
    const p = opened.payload;
    if (now() >= p.e) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      binding: {
        sellerId: p.s,
        appVersion: p.a,
        nonce: p.n,
        expiresAt: p.e,
        consentUrl: p.u,
        ...(p.c === undefined ? {} : { codeChallenge: p.c }),
      },
    };
  };

  return {
    name,
    issue(binding) {
      const expiresAt = now() + options.ttlMs;
      const payload = payloadOf({ ...binding, expiresAt });
      return { value: cookieToken.seal(payload), ticket: ticketToken.seal(payload), expiresAt };
    },
    verify: (value) => check(cookieToken, value),
    verifyTicket: (ticket) => check(ticketToken, ticket),
    cookieFor: (binding) => cookieToken.seal(payloadOf(binding)),
    setCookie(value) {
      return `${name}=${value}; Max-Age=${Math.ceil(options.ttlMs / 1000)}; ${attributes}`;
    },
    clearCookie() {
      return `${name}=; Max-Age=0; ${attributes}`;
    },
    read(cookieHeader) {
      return readCookie(cookieHeader, name);
    },
  };
}
