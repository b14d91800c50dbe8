/**
 * The OAuth `state`: which seller, app version and consent nonce a callback belongs to, and until when.
 * Signed with HMAC-SHA256 so the public callback can trust it without any server-side session; kept
 * short-lived so a leaked callback URL is useless soon. Format: `base64url(json).base64url(mac)`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { appVersionSchema, beginConsentInputSchema, sellerIdSchema } from '../workflows/definitions';

export const DEFAULT_STATE_TTL_MS = 15 * 60_000;
/** Far above a real state (~200 chars): anything longer is refused before any crypto. */
export const MAX_STATE_LENGTH = 1024;

const payloadSchema = z.strictObject({
  v: z.literal(1),
  s: sellerIdSchema,
  a: appVersionSchema,
  n: beginConsentInputSchema.shape.nonce,
  /** Expiry, epoch ms. */
  e: z.number().int().positive(),
});

export interface OAuthState {
  sellerId: string;
  appVersion: z.infer<typeof appVersionSchema>;
  nonce: string;
  expiresAt: number;
}

export type StateCheck =
  | { ok: true; state: OAuthState }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired'; expiredAt?: number };

export interface StateSigner {
  sign(input: Omit<OAuthState, 'expiresAt'>): string;
  verify(token: string): StateCheck;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export function createStateSigner(
  key: string,
  options: { ttlMs?: number; now?: () => number } = {},
): StateSigner {
  const ttlMs = options.ttlMs ?? DEFAULT_STATE_TTL_MS;
  const now = options.now ?? Date.now;
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();

  return {
    sign({ sellerId, appVersion, nonce }) {
      const payload = { v: 1, s: sellerId, a: appVersion, n: nonce, e: now() + ttlMs };
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${mac(body).toString('base64url')}`;
    },
    verify(token) {
      if (token.length > MAX_STATE_LENGTH) return { ok: false, reason: 'malformed' };
      const parts = token.split('.');
      if (parts.length !== 2) return { ok: false, reason: 'malformed' };
      const [body, signature] = parts as [string, string];
      if (!SEGMENT.test(body) || !SEGMENT.test(signature)) return { ok: false, reason: 'malformed' };
      // Compared as the canonical text: a base64url variant with other unused bits is not the same MAC.
      const given = Buffer.from(signature);
      const expected = Buffer.from(mac(body).toString('base64url'));
      // timingSafeEqual needs equal lengths; the length of a MAC is public, its bytes are not.
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return { ok: false, reason: 'forged' };
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      const parsed = payloadSchema.safeParse(json);
      if (!parsed.success) return { ok: false, reason: 'malformed' };
      const { s, a, n, e } = parsed.data;
      if (now() >= e) return { ok: false, reason: 'expired', expiredAt: e };
      return { ok: true, state: { sellerId: s, appVersion: a, nonce: n, expiresAt: e } };
    },
  };
}
