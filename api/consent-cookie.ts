/**
 * The browser binding of a consent (otto-api.md §2.2): OTTO's first redirect after the seller installed
 * our app carries no parameters, so only a cookie set when the seller clicked "Allow access" can say
 * which seller (and which consent) the browser belongs to. The same signed value is the admin's one-time
 * consent link (`/oauth/start?ticket=…`), which sets it. Signed (HMAC-SHA256 under a key derived from
 * STATE_SIGNING_KEY, so a state can never pass as a cookie or the other way round), short-lived, and
 * HttpOnly + SameSite=Lax (`__Host-` prefixed and Secure over https).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { appVersionSchema, beginConsentInputSchema, sellerIdSchema } from '../workflows/definitions';

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
  issue(binding: Omit<ConsentBinding, 'expiresAt'>): { value: string; expiresAt: number };
  verify(value: string | undefined): ConsentCheck;
  /** The `Set-Cookie` header value that stores `value`. */
  setCookie(value: string): string;
  /** The `Set-Cookie` header value that removes the cookie. */
  clearCookie(): string;
  /** This cookie's value from a request's `Cookie` header. */
  read(cookieHeader: string | undefined): string | undefined;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export function createConsentCookies(
  stateSigningKey: string,
  options: { ttlMs: number; publicBaseUrl: string; now?: () => number },
): ConsentCookies {
  const now = options.now ?? Date.now;
  const secure = new URL(options.publicBaseUrl).protocol === 'https:';
  const name = secure ? '__Host-otto-consent' : 'otto-consent';
  const key = createHmac('sha256', stateSigningKey).update('otto-connect consent cookie v1').digest();
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  const attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;

  return {
    name,
    issue(binding) {
      const expiresAt = now() + options.ttlMs;
      const payload = {
        v: 1,
        s: binding.sellerId,
        a: binding.appVersion,
        n: binding.nonce,
        e: expiresAt,
        ...(binding.codeChallenge === undefined ? {} : { c: binding.codeChallenge }),
        u: binding.consentUrl,
      };
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return { value: `${body}.${mac(body).toString('base64url')}`, expiresAt };
    },
    verify(value) {
      if (value === undefined || value.length > MAX_CONSENT_TICKET_LENGTH)
        return { ok: false, reason: 'invalid' };
      const parts = value.split('.');
      if (parts.length !== 2) return { ok: false, reason: 'invalid' };
      const [body, signature] = parts as [string, string];
      if (!SEGMENT.test(body) || !SEGMENT.test(signature)) return { ok: false, reason: 'invalid' };
      // Compared as the canonical text: a base64url variant with other unused bits is not the same MAC.
      const given = Buffer.from(signature);
      const expected = Buffer.from(mac(body).toString('base64url'));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return { ok: false, reason: 'invalid' };
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'invalid' };
      }
      const parsed = payloadSchema.safeParse(json);
      if (!parsed.success) return { ok: false, reason: 'invalid' };
      const p = parsed.data;
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
    },
    setCookie(value) {
      return `${name}=${value}; Max-Age=${Math.ceil(options.ttlMs / 1000)}; ${attributes}`;
    },
    clearCookie() {
      return `${name}=; Max-Age=0; ${attributes}`;
    },
    read(cookieHeader) {
      if (!cookieHeader) return undefined;
      let found: string | undefined;
      for (const part of cookieHeader.split(';')) {
        const eq = part.indexOf('=');
        if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
        // Two cookies of our name (one planted by a sibling host, say): trust neither.
        if (found !== undefined) return undefined;
        found = part.slice(eq + 1).trim();
      }
      return found;
    },
  };
}
