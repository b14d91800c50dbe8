/**
 * API keys with roles (design §4): `support` reads, `admin` also writes. Parsed from API_KEYS as
 * `role:key` pairs; errors name the entry, never the key.
 */
import { z } from 'zod';

export const API_ROLES = ['support', 'admin'] as const;
export type ApiRole = (typeof API_ROLES)[number];

export interface ApiKey {
  role: ApiRole;
  key: string;
}

/** Short keys are guessable; the failed-attempt limit is a brake, not a substitute for entropy. */
export const MIN_API_KEY_LENGTH = 12;

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
        message: `entry ${index + 1} must look like admin:<key> or support:<key>`,
      });
    } else if (key.length < MIN_API_KEY_LENGTH || /\s/.test(key)) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${index + 1} (${role}): the key must be at least ${MIN_API_KEY_LENGTH} characters without spaces`,
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

/** Which roles may do what: admin includes everything support may do. */
export function roleAllows(role: ApiRole, required: ApiRole): boolean {
  return role === 'admin' || role === required;
}
