/**
 * The seller-data side of OTTO: every call with the installation token, the per-partner rate limit,
 * 429s waited out in place for short waits (`Retry-After` when OTTO sends one, our own exponential
 * backoff when not: OTTO documents no such header), and errors classified once (401 → TokenRejected so
 * the workflow re-mints; 5xx/network → retry; other 4xx → non-retryable).
 *
 * Every request, including the ones that follow a `next`/`self`/`failed` link from OTTO's answers, goes
 * only to OTTO's own origin (the configured apiBaseUrl): a link elsewhere fails the transfer before any
 * byte leaves for that host, so the installation token cannot be sent to another host. Redirects are
 * not followed for the same reason.
 *
 * Every request carries the activity's cancellation signal (`CallContext.signal`) and heartbeats its
 * progress first; the rate-limit and 429 waits heartbeat too and end at once on cancellation.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { z } from 'zod';
import { SealError, type Sealer } from '../common/seal';
import { FailureTypes } from '../workflows/definitions';
import type { ActivityMetrics } from './activity-metrics';
import { classifyOttoError, madeFrom } from './otto-errors';
import { waitWithHeartbeats } from './activity-waits';
import {
  OttoHttpError,
  ottoRequest,
  ottoTransportOf,
  ottoDeprecationListenerOf,
  type OttoHttpDeps,
} from './otto-http';
import { PartnerRateLimiter } from './partner-rate-limiter';

/** How many 429s one call waits out in place by default (OTTO_RATE_LIMIT_WAITS). */
export const DEFAULT_RATE_LIMIT_WAITS = 3;

export interface OttoDataClientDeps extends OttoHttpDeps {
  apiBaseUrl: string;
  sealer: Sealer;
  now?: () => number;
  /** OTTO: 20/s per partner. */
  partnerRequestsPerSecond?: number;
  /** Every call to OTTO is counted by endpoint pattern and status, with its latency (`ottoCall`). */
  metrics?: Pick<ActivityMetrics, 'ottoCall'>;
  /** 429s asking for a longer wait fail the attempt instead (the activity retries after that wait). */
  maxInPlaceRetryAfterMs?: number;
  /** Never send a token that expires within this long. */
  tokenSafetyMarginMs?: number;
  /** A 429 without `Retry-After` waits this long, doubling per attempt (default 1 s). */
  rateLimitBackoffMs?: number;
  /** How many 429s one call waits out in place before the attempt fails (default 3). */
  maxRateLimitWaits?: number;
  /** Heartbeat at least this often while waiting out a 429 (default 5 s). */
  heartbeatEveryMs?: number;
  /**
   * Injectable for tests. The default waits in slices, heartbeating through the call's `heartbeat` and
   * ending early (rejecting) when the call's `signal` aborts.
   */
  sleep?: (ms: number, ctx: CallContext) => Promise<void>;
}

export interface CallContext {
  /** Whose installation token this is: the token is unsealed for exactly this seller (common/seal.ts). */
  sellerId: string;
  partnerId: string;
  sealedToken: string;
  tokenExpiresAt: number;
  /**
   * Heartbeats the activity's current progress: called before each request and regularly while waiting
   * (rate limit, 429), so an activity with a heartbeat timeout stays alive and resumable.
   */
  heartbeat?: () => void;
  /** The activity's cancellation signal: requests in flight are aborted and waits end early. */
  signal?: AbortSignal;
}

export interface DataRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A path (`/v4/orders?…`) or a link href from OTTO's answer; either must resolve to OTTO's origin. */
  path: string;
  json?: unknown;
}

/** Thrown (as a non-retryable failure) for any URL outside OTTO's origin. */
export const FOREIGN_ORIGIN_MESSAGE = 'refusing to call outside OTTO’s origin';

/**
 * Resolves `href` (relative, absolute or protocol-relative) against OTTO's API base URL and returns it
 * only when it stays on that exact origin (scheme, host and port) and carries no credentials.
 * Throws a non-retryable failure otherwise. Pure.
 */
export function resolveOttoUrl(href: string, apiBaseUrl: string): URL {
  const base = new URL(apiBaseUrl);
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    throw foreignOrigin(`"${href.slice(0, 80)}" is not a URL`, base);
  }
  if (url.origin !== base.origin || url.origin === 'null') {
    throw foreignOrigin(`a link points to ${url.origin === 'null' ? url.protocol : url.origin}`, base);
  }
  if (url.username || url.password) throw foreignOrigin('a link carries credentials', base);
  return url;
}

function foreignOrigin(what: string, base: URL): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.requestRejected,
    message: `${FOREIGN_ORIGIN_MESSAGE}: ${what}, not OTTO's ${base.origin}; nothing was sent there (the installation token never leaves OTTO's origin)`,
    nonRetryable: true,
  });
}

/** How long to wait before retrying a 429 (attempt 1 = first 429): OTTO's Retry-After if any, else base·2^(attempt-1). */
export function rateLimitDelayMs(attempt: number, retryAfterMs: number | undefined, baseMs: number): number {
  if (retryAfterMs !== undefined) return Math.max(retryAfterMs, 0);
  return baseMs * 2 ** Math.max(0, attempt - 1);
}

export function createOttoDataClient(deps: OttoDataClientDeps) {
  /**
   * The installation token, unsealed for this seller. One that cannot be unsealed (sealed for another
   * seller or purpose, by an older version, or tampered with) never unseals on a retry: it fails as
   * TokenRejected (non-retryable), on which the workflow mints a fresh token for its own seller and runs
   * the transfer again once, so nothing is sent to OTTO with it and a running workflow heals by itself.
   */
  function unsealToken(ctx: CallContext): string {
    try {
      return deps.sealer.unseal(ctx.sealedToken, { purpose: 'installation-token', sellerId: ctx.sellerId });
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      throw ApplicationFailure.create({
        type: FailureTypes.tokenRejected,
        message: `${err.message} (seller ${ctx.sellerId}); nothing was sent to OTTO, a new token is minted`,
        nonRetryable: true,
      });
    }
  }

  const transport = ottoTransportOf(deps);
  const now = deps.now ?? Date.now;
  const heartbeatEveryMs = deps.heartbeatEveryMs ?? 5_000;
  const sleep =
    deps.sleep ??
    ((ms: number, ctx: CallContext) =>
      waitWithHeartbeats(ms, { signal: ctx.signal, heartbeat: ctx.heartbeat, heartbeatEveryMs }));
  const limiter = new PartnerRateLimiter(deps.partnerRequestsPerSecond ?? 20, now);
  const maxInPlace = deps.maxInPlaceRetryAfterMs ?? 10_000;
  const safety = deps.tokenSafetyMarginMs ?? 5_000;
  const backoffMs = deps.rateLimitBackoffMs ?? 1_000;
  const maxWaits = deps.maxRateLimitWaits ?? DEFAULT_RATE_LIMIT_WAITS;
  const onDeprecation = ottoDeprecationListenerOf(deps);

  /** The request with OTTO's status code (200 vs 207 vs 202 matter to exports). */
  async function send<S extends z.ZodType>(
    ctx: CallContext,
    req: DataRequest,
    schema: S,
  ): Promise<{ status: number; body: z.output<S> }> {
    // Checked before anything else: a foreign link fails even before the token is unsealed.
    const url = resolveOttoUrl(req.path, deps.apiBaseUrl);
    const where = `${req.method} ${url.pathname}`;
    const bearer = unsealToken(ctx);
    for (let attempt = 1; ; attempt++) {
      ctx.heartbeat?.();
      await limiter.acquire(ctx.partnerId, { signal: ctx.signal, heartbeat: ctx.heartbeat });
      if (ctx.tokenExpiresAt - now() < safety) {
        throw ApplicationFailure.create({
          type: FailureTypes.tokenExpiring,
          message: 'the installation token is about to expire; refresh first',
          nonRetryable: true,
        });
      }
      let status: number;
      let body: unknown;
      try {
        ({ status, body } = await ottoRequest(transport, {
          method: req.method,
          url: url.toString(),
          bearer,
          json: req.json,
          headers: { 'x-request-timestamp': new Date(now()).toISOString() },
          signal: ctx.signal,
          metrics: deps.metrics,
          onDeprecation,
        }));
      } catch (err) {
        if (err instanceof OttoHttpError && err.status === 401) {
          throw madeFrom(
            ApplicationFailure.create({
              type: FailureTypes.tokenRejected,
              message: err.message,
              nonRetryable: true,
            }),
            err,
          );
        }
        if (err instanceof OttoHttpError && err.status === 429) {
          const wait = rateLimitDelayMs(attempt, err.retryAfterMs, backoffMs);
          if (attempt <= maxWaits && wait <= maxInPlace) {
            await sleep(wait, ctx);
            continue;
          }
          throw madeFrom(
            ApplicationFailure.create({
              type: FailureTypes.rateLimited,
              message: err.message,
              nextRetryDelay: Math.max(wait, 100),
            }),
            err,
          );
        }
        throw classifyOttoError(err, 'data');
      }
      const parsed = schema.safeParse(body ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
          .join('; ');
        throw ApplicationFailure.create({
          type: FailureTypes.requestRejected,
          message: `OTTO's answer ${status} to ${where} does not match its documented model: ${issues}`,
          nonRetryable: true,
        });
      }
      return { status, body: parsed.data };
    }
  }

  async function call<S extends z.ZodType>(
    ctx: CallContext,
    req: DataRequest,
    schema: S,
  ): Promise<z.output<S>> {
    return (await send(ctx, req, schema)).body;
  }

  return {
    call,
    send,
    /** A link from OTTO's answer as a URL on OTTO's origin (throws a non-retryable failure otherwise). */
    resolve: (href: string) => resolveOttoUrl(href, deps.apiBaseUrl),
  };
}

export type OttoDataClient = ReturnType<typeof createOttoDataClient>;
