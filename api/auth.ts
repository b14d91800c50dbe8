/**
 * API-key authentication with roles for /api (docs/design.md §4): `Authorization: Bearer <key>`; no or unknown
 * key → 401, known key without the role → 403. The key is verified first: a valid key always gets
 * through; only malformed or unknown keys are counted, and they get 429 once their client (IP, or IPv6
 * /64) has failed too often.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { MAX_API_KEY_LENGTH, roleAllows, type ApiKey, type ApiRole } from './api-keys';
import { HttpError } from './errors';

const digest = (value: string) => createHash('sha256').update(value).digest();

export interface Authenticator {
  requireRole(role: ApiRole): RequestHandler;
}

/**
 * `limiter` sees only failed attempts (failed-attempt-limiter.ts): it calls back without an error for a
 * 401, or with a 429 once the client's failures are over the limit.
 */
export function createAuthenticator(keys: readonly ApiKey[], limiter: RequestHandler): Authenticator {
  // Comparing fixed-length digests keeps timingSafeEqual usable whatever the presented key's length.
  const known = keys.map((k) => ({ role: k.role, digest: digest(k.key) }));

  /** Checks every key without stopping early, so timing does not tell how many keys were tried. */
  function roleOf(presented: string): ApiRole | undefined {
    const candidate = digest(presented);
    let role: ApiRole | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, candidate)) role = k.role;
    return role;
  }

  const invalid = (message: string) =>
    new HttpError(401, 'unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer' });

  return {
    requireRole(required) {
      return (req, res, next) => {
        const header = req.get('authorization');
        // No key at all is a plain 401 and not counted: nothing was guessed.
        if (header === undefined) {
          next(invalid('an API key is required: Authorization: Bearer <key>'));
          return;
        }
        // RFC 9110 §11.1: the scheme is case-insensitive ("bearer" is Bearer), followed by one or more spaces.
        const presented = /^Bearer +([\x21-\x7e]+)$/i.exec(header)?.[1];
        // The key is checked first: a verified key is never blocked, whatever failed before it.
        const role =
          presented !== undefined && presented.length <= MAX_API_KEY_LENGTH ? roleOf(presented) : undefined;
        if (role === undefined) {
          // A malformed or unknown key counts as a failure; past the limit it is answered 429.
          limiter(req, res, (err?: unknown) => {
            if (err !== undefined) next(err);
            else
              next(
                invalid(
                  presented !== undefined
                    ? 'the API key is not valid'
                    : 'the Authorization header must be "Bearer <key>"',
                ),
              );
          });
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
