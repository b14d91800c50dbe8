/**
 * API-key authentication with roles for /api (design §4): `Authorization: Bearer <key>`; no or unknown
 * key → 401, known key without the role → 403, too many failures from one IP → 429.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { roleAllows, type ApiKey, type ApiRole } from './api-keys';
import { HttpError } from './errors';
import type { FailedAttemptLimiter } from './failed-attempt-limiter';

const digest = (value: string) => createHash('sha256').update(value).digest();

export interface Authenticator {
  requireRole(role: ApiRole): RequestHandler;
}

export function createAuthenticator(keys: readonly ApiKey[], limiter: FailedAttemptLimiter): Authenticator {
  // Comparing fixed-length digests keeps timingSafeEqual usable whatever the presented key's length.
  const known = keys.map((k) => ({ role: k.role, digest: digest(k.key) }));

  /** Checks every key without stopping early, so timing does not tell how many keys were tried. */
  function roleOf(presented: string): ApiRole | undefined {
    const candidate = digest(presented);
    let role: ApiRole | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, candidate)) role = k.role;
    return role;
  }

  return {
    requireRole(required) {
      return (req, _res, next) => {
        const ip = req.ip ?? 'unknown';
        const wait = limiter.retryAfterSeconds(ip);
        if (wait > 0) {
          next(
            new HttpError(
              429,
              'too_many_failed_attempts',
              `too many failed authentication attempts; retry in ${wait} s`,
              undefined,
              {
                'Retry-After': String(wait),
              },
            ),
          );
          return;
        }
        const header = req.get('authorization');
        const match = header === undefined ? null : /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
        if (!match?.[1]) {
          if (header !== undefined) limiter.recordFailure(ip);
          next(
            new HttpError(
              401,
              'unauthorized',
              header === undefined
                ? 'an API key is required: Authorization: Bearer <key>'
                : 'the Authorization header must be "Bearer <key>"',
              undefined,
              { 'WWW-Authenticate': 'Bearer' },
            ),
          );
          return;
        }
        const role = roleOf(match[1]);
        if (role === undefined) {
          limiter.recordFailure(ip);
          next(
            new HttpError(401, 'unauthorized', 'the API key is not valid', undefined, {
              'WWW-Authenticate': 'Bearer',
            }),
          );
          return;
        }
        if (!roleAllows(role, required)) {
          next(
            new HttpError(
              403,
              'forbidden',
              `this action needs the ${required} role; the key has the ${role} role`,
            ),
          );
          return;
        }
        next();
      };
    },
  };
}
