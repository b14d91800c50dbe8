/**
 * Slows down API-key guessing (express-rate-limit, in memory): auth.ts calls this middleware only for a
 * request whose key failed (malformed or unknown), so only failures are counted and a verified key is
 * never blocked; once a client has more than `maxFailures` failures within `windowMs`, its next failures
 * are answered 429 instead of 401, until the window has passed.
 *
 * Clients are counted by address: an IPv4 address each, an IPv6 client by its /64 (one host usually
 * holds a whole /64, so counting single IPv6 addresses would let it rotate freely). Which address is the
 * client's is Express's `req.ip`, so `TRUST_PROXY` decides whether `X-Forwarded-For` is believed.
 *
 * Per process: a brake for one instance, not a distributed limit (put one at the proxy for that).
 */
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { HttpError } from './errors';

export interface LimiterOptions {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_LIMITER_OPTIONS: LimiterOptions = { maxFailures: 10, windowMs: 60_000 };

/** Prefix length by which IPv6 clients are counted. */
export const IPV6_PREFIX = 64;

/** The counting key of an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export const clientKey = (ip: string | undefined): string =>
  ip ? ipKeyGenerator(ip, IPV6_PREFIX) : 'unknown';

export interface LimiterLogger {
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/**
 * Middleware for failed authentications only: counts the failure, then calls `next()` (answer the 401)
 * or `next(HttpError 429)` when the client is over the limit.
 */
export function createFailedAttemptLimiter(options: LimiterOptions, logger?: LimiterLogger): RequestHandler {
  // Never throws: it is called while the app is built and from inside request handling.
  const report = (err: unknown, msg?: string) => {
    try {
      logger?.warn({ err }, `failed-key limiter: ${msg ?? 'configuration check'}`);
    } catch {
      // A failing logger must not break authentication.
    }
  };
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.maxFailures,
    // Spelled out (not via clientKey) so the library's check sees that req.ip goes through ipKeyGenerator.
    keyGenerator: (req) => (req.ip ? ipKeyGenerator(req.ip, IPV6_PREFIX) : 'unknown'),
    standardHeaders: false,
    legacyHeaders: false,
    // The library's configuration checks (for example "X-Forwarded-For sent but trust proxy is off")
    // go to our logger; without one (tests) they are dropped rather than printed to the console.
    logger: {
      warn: (err, msg) => report(err, msg),
      error: (err, msg) => report(err, msg),
    },
    handler: (req, _res, next) => {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const wait = Math.max(
        1,
        Math.ceil(((resetTime?.getTime() ?? Date.now() + options.windowMs) - Date.now()) / 1000),
      );
      next(
        new HttpError(
          429,
          'too_many_failed_attempts',
          `too many failed authentication attempts; retry in ${wait} s`,
          undefined,
          { 'Retry-After': String(wait) },
        ),
      );
    },
  });
}
