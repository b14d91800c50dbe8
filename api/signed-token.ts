/**
 * The signed values the API hands out (OAuth state, consent cookie, assistant link and session):
 * `base64url(json).base64url(mac)`, HMAC-SHA256. Each kind signs under its own key, derived from
 * STATE_SIGNING_KEY with a distinct purpose string, so none can pass as another.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** A key of its own for one purpose, derived from the signing secret. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(purpose).digest();
}

/** The base64url HMAC-SHA256 of `text` under `key`. */
export function macText(key: string | Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/**
 * Whether `given` is exactly the MAC text `expected`, in constant time. Compared as the canonical text:
 * a base64url variant with other unused bits is not the same MAC.
 */
export function sameMac(given: string, expected: string): boolean {
  if (!SEGMENT.test(given)) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; the length of a MAC is public, its bytes are not.
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why a value did not open: not of the format or schema (`malformed`), or not signed by us (`forged`). */
export type OpenFailure = 'malformed' | 'forged';

export type Opened<T> = { ok: true; payload: T } | { ok: false; reason: OpenFailure };

export interface SignedToken<S extends z.ZodType> {
  seal(payload: z.input<S>): string;
  /** Checks length and format, then the MAC, then the payload's schema. */
  open(value: string | undefined): Opened<z.output<S>>;
}

/** A signed-JSON codec under `key`; values longer than `maxLength` are refused before any crypto. */
export function signedToken<S extends z.ZodType>(
  key: string | Buffer,
  schema: S,
  maxLength: number,
): SignedToken<S> {
  return {
    seal(payload) {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${macText(key, body)}`;
    },
    open(value) {
      if (value === undefined || value.length > maxLength) return { ok: false, reason: 'malformed' };
      const parts = value.split('.');
      if (parts.length !== 2) return { ok: false, reason: 'malformed' };
      const [body, signature] = parts as [string, string];
      if (!SEGMENT.test(body) || !SEGMENT.test(signature)) return { ok: false, reason: 'malformed' };
      if (!sameMac(signature, macText(key, body))) return { ok: false, reason: 'forged' };
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      const parsed = schema.safeParse(json);
      return parsed.success ? { ok: true, payload: parsed.data } : { ok: false, reason: 'malformed' };
    },
  };
}

/** One cookie's value from a `Cookie` header; two cookies of that name (one planted by a sibling host): neither. */
export function readCookie(cookieHeader: string | undefined, name: string): string | undefined {
  if (!cookieHeader) return undefined;
  let found: string | undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found;
}

/** The attributes of our session-like cookies: HttpOnly, SameSite=Lax, Path=/, Secure over https. */
export function cookieAttributes(secure: boolean): string {
  return `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
