/**
 * Limits consent starts from the assistant ("Allow access"): at most `max` per assistant session and at
 * most `max` per client address within `windowMs` (default 10 per 10 minutes each), so neither a
 * session nor one address can flood the seller workflows with consents or OTTO with installations.
 * express-rate-limit, in memory: per process, like the API-key limiter (put a limit at the proxy for a
 * fleet-wide one). Addresses are Express's `req.ip` (TRUST_PROXY decides whether X-Forwarded-For counts),
 * IPv6 clients by their /64.
 */
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { HttpError } from './errors';

export interface ConsentStartLimit {
  max: number;
  windowMs: number;
}

export const DEFAULT_CONSENT_START_LIMIT: ConsentStartLimit = { max: 10, windowMs: 10 * 60_000 };

export interface ConsentStartLimitLogger {
  warn(obj: unknown, msg?: string): void;
}

/**
 * Two middlewares (per session, then per address); the route puts the session's id in
 * `res.locals.assistantSessionId` before them. Over a limit → `next(HttpError 429)` with Retry-After.
 */
export function createConsentStartLimit(
  options: ConsentStartLimit = DEFAULT_CONSENT_START_LIMIT,
  logger?: ConsentStartLimitLogger,
): RequestHandler[] {
  const limiter = (name: string, keyGenerator: (req: Request, res: Response) => string) =>
    rateLimit({
      windowMs: options.windowMs,
      limit: options.max,
      keyGenerator,
      requestPropertyName: `consentStartLimit_${name}`,
      standardHeaders: false,
      legacyHeaders: false,
      // The library's configuration checks go to our logger; without one (tests) they are dropped.
      logger: {
        warn: (err, msg) => logger?.warn({ err }, msg ?? 'express-rate-limit warning'),
        error: (err, msg) => logger?.warn({ err }, msg ?? 'express-rate-limit configuration check'),
      },
      handler: (req, _res, next) => {
        const info = (req as unknown as Record<string, { resetTime?: Date } | undefined>)[
          `consentStartLimit_${name}`
        ];
        const reset = info?.resetTime?.getTime() ?? Date.now() + options.windowMs;
        const wait = Math.max(1, Math.ceil((reset - Date.now()) / 1000));
        next(
          new HttpError(
            429,
            'too_many_consent_starts',
            `“Allow access” was clicked too often; please wait ${Math.ceil(wait / 60)} minute(s) and try again.`,
            undefined,
            { 'Retry-After': String(wait) },
          ),
        );
      },
    });
  return [
    limiter('session', (_req, res) => `session:${String(res.locals.assistantSessionId)}`),
    limiter('address', (req) => `ip:${req.ip ? ipKeyGenerator(req.ip, 64) : 'unknown'}`),
  ];
}
