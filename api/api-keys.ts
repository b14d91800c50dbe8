/**
 * API keys with roles (docs/design.md §4): `support` reads, `admin` also writes, `shop` moves data (the shop
 * API: stock and prices in, order and return feeds out). Parsed from API_KEYS as `role:key` pairs;
 * errors name the entry, never the key.
 *
 * The roles are separate credentials, not a ladder past support: admin includes support, but neither
 * admin nor support may use the shop routes, and a shop key may use nothing else. The shop's backend
 * holds a key that can write stock and read buyers' orders; an operator's key cannot do either by
 * accident, and a leaked shop key cannot disconnect sellers.
 */
import { z } from 'zod';
import { textSecretWeakness } from '../common/config';

export const API_ROLES = ['support', 'admin', 'shop'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiKey {
  role: ApiRole;
  key: string;
}

/** Short keys are guessable; the failed-attempt limit is a brake, not a substitute for entropy. */
export const MIN_API_KEY_LENGTH = 12;
/**
 * The longest key a request may present (api/auth.ts reads no further), so no longer key can be configured:
 * it could never be used.
 */
export const MAX_API_KEY_LENGTH = 512;
/** What a Bearer token may hold (RFC 6750's b64token is narrower; printable ASCII without spaces here). */
export const API_KEY_CHARACTERS = /^[\x21-\x7e]+$/;
/** Outside dev (`OTTO_CONNECT_ENV=dev`), keys must be at least this long: e.g. `openssl rand -hex 24`. */
export const MIN_PRODUCTION_API_KEY_LENGTH = 32;

/** Keys published in this repository (README, dev defaults): never accepted outside dev. */
export const DEV_API_KEYS = 'admin:dev-admin-key,support:dev-support-key,shop:dev-shop-key';
export const PUBLISHED_API_KEYS: readonly string[] = ['dev-admin-key', 'dev-support-key', 'dev-shop-key'];

/**
 * Why a key is not good enough outside dev, or undefined: published in the repository, shorter than
 * 32 characters, or obviously low-entropy (one repeated character, a short pattern, abcd…/1234…).
 */
export function productionApiKeyWeakness(key: string): string | undefined {
  if (PUBLISHED_API_KEYS.some((published) => key.includes(published)))
    return 'is a published dev key (see README); generate one, e.g. openssl rand -hex 24';
  if (key.length < MIN_PRODUCTION_API_KEY_LENGTH)
    return `must be at least ${MIN_PRODUCTION_API_KEY_LENGTH} characters outside dev`;
  const weakness = textSecretWeakness(key);
  return weakness && `${weakness}; use random keys, e.g. openssl rand -hex 24`;
}

export const apiKeysEnvSchema = z.string().transform((text, ctx): ApiKey[] => {
  const entries = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const keys: ApiKey[] = [];
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const role = entry.slice(0, Math.max(colon, 0));
    const key = entry.slice(colon + 1);
    if (colon <= 0 || !(API_ROLES as readonly string[]).includes(role)) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${index + 1} must look like admin:<key>, support:<key> or shop:<key>`,
      });
    } else if (
      key.length < MIN_API_KEY_LENGTH ||
      key.length > MAX_API_KEY_LENGTH ||
      !API_KEY_CHARACTERS.test(key)
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${index + 1} (${role}): the key must be ${MIN_API_KEY_LENGTH}–${MAX_API_KEY_LENGTH} printable ASCII characters without spaces (a request could not present it otherwise)`,
      });
    } else {
      keys.push({ role: role as ApiRole, key });
    }
  });
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'holds no key' });
  if (new Set(keys.map((k) => k.key)).size !== keys.length) {
    ctx.addIssue({ code: 'custom', message: 'the same key appears twice' });
  }
  return keys;
});

/** Which roles may do what: admin includes everything support may do; shop is only itself. */
export function roleAllows(role: ApiRole, required: ApiRole): boolean {
  return role === required || (role === 'admin' && required === 'support');
}
