/**
 * The seller-data side of OTTO: every call with the installation token, the per-partner rate limit,
 * `Retry-After` honoured in place for short waits, and errors classified once (401 → TokenRejected so
 * the workflow re-mints; 5xx/network → retry; other 4xx → non-retryable).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { z } from 'zod';
import type { Sealer } from '../common/seal';
import { FailureTypes } from '../workflows/definitions';
import { classifyOttoError } from './otto-errors';
import { OttoHttpError, ottoRequest, type FetchFn } from './otto-http';
import { PartnerRateLimiter } from './partner-rate-limiter';

export interface OttoDataClientDeps {
  apiBaseUrl: string;
  sealer: Sealer;
  fetch?: FetchFn;
  now?: () => number;
  /** OTTO: 20/s per partner. */
  partnerRequestsPerSecond?: number;
  /** 429s asking for a longer wait fail the attempt instead (the activity retries after Retry-After). */
  maxInPlaceRetryAfterMs?: number;
  /** Never send a token that expires within this long. */
  tokenSafetyMarginMs?: number;
}

export interface CallContext {
  partnerId: string;
  sealedToken: string;
  tokenExpiresAt: number;
  /** Called while waiting out a 429, so the activity can heartbeat its current progress. */
  onWait?: () => void;
}

export interface DataRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  json?: unknown;
}

export function createOttoDataClient(deps: OttoDataClientDeps) {
  const fetchFn = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const limiter = new PartnerRateLimiter(deps.partnerRequestsPerSecond ?? 20, now);
  const maxInPlace = deps.maxInPlaceRetryAfterMs ?? 10_000;
  const safety = deps.tokenSafetyMarginMs ?? 5_000;

  async function call<S extends z.ZodType>(
    ctx: CallContext,
    req: DataRequest,
    schema: S,
  ): Promise<z.output<S>> {
    for (let attempt = 1; ; attempt++) {
      await limiter.acquire(ctx.partnerId);
      if (ctx.tokenExpiresAt - now() < safety) {
        throw ApplicationFailure.create({
          type: FailureTypes.tokenExpiring,
          message: 'the installation token is about to expire; refresh first',
          nonRetryable: true,
        });
      }
      try {
        const { body } = await ottoRequest(fetchFn, {
          method: req.method,
          url: new URL(req.path, deps.apiBaseUrl).toString(),
          bearer: deps.sealer.unseal(ctx.sealedToken),
          json: req.json,
        });
        return schema.parse(body ?? {});
      } catch (err) {
        if (err instanceof OttoHttpError && err.status === 401) {
          throw ApplicationFailure.create({
            type: FailureTypes.tokenRejected,
            message: err.message,
            nonRetryable: true,
          });
        }
        if (err instanceof OttoHttpError && err.status === 429 && attempt <= 3) {
          const wait = err.retryAfterMs ?? 1_000;
          if (wait <= maxInPlace) {
            ctx.onWait?.();
            await new Promise((r) => setTimeout(r, wait));
            continue;
          }
        }
        throw classifyOttoError(err, 'data');
      }
    }
  }

  return { call };
}

export type OttoDataClient = ReturnType<typeof createOttoDataClient>;
