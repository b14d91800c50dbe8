/**
 * The OAuth `state`: which seller, app version and consent nonce a callback belongs to, and until when.
 * Signed with HMAC-SHA256 so the public callback can trust it without any server-side session; kept
 * short-lived so a leaked callback URL is useless soon. Format: `base64url(json).base64url(mac)`.
 */
import { z } from 'zod';
import { appVersionSchema, beginConsentInputSchema, sellerIdSchema } from '../common/workflow-schemas';
import { signedToken } from './signed-token';

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

export function createStateSigner(
  key: string,
  options: { ttlMs?: number; now?: () => number } = {},
): StateSigner {
  const ttlMs = options.ttlMs ?? DEFAULT_STATE_TTL_MS;
  const now = options.now ?? Date.now;
  // The state signs under STATE_SIGNING_KEY itself; the other signed values under keys derived from it.
  const token = signedToken(key, payloadSchema, MAX_STATE_LENGTH);

  return {
    sign({ sellerId, appVersion, nonce }) {
      return token.seal({ v: 1, s: sellerId, a: appVersion, n: nonce, e: now() + ttlMs });
    },
    verify(value) {
      const opened = token.open(value);
      if (!opened.ok) return opened;
      const { s, a, n, e } = opened.payload;
      if (now() >= e) return { ok: false, reason: 'expired', expiredAt: e };
      return { ok: true, state: { sellerId: s, appVersion: a, nonce: n, expiresAt: e } };
    },
  };
}
