/**
 * Token activities: completing an authorization (code → user token → installation → first installation
 * token) and minting installation tokens. They run on their own rate-limited task queue so many sellers
 * refreshing at once never exceed OTTO's token-endpoint limit. Only sealed tokens leave these functions.
 *
 * A refused mint (401/403/404 after a fresh developer token) is evidence of one seller's revocation
 * (InstallationRevoked) only while the app's fleet breaker is closed; while most installations of the
 * app are refused at once it is an incident (OttoFleetIncident), and so is OTTO refusing the app's
 * client credentials during a mint: nobody is revoked for either. Every OTTO call carries the activity's
 * cancellation signal; every wait (token-endpoint limit, a developer token another mint is fetching)
 * heartbeats and ends early on cancellation.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import { SealError, type SealContext, type Sealer } from '../common/seal';
import { findApp, type OttoApp } from '../common/otto-apps';
import type { FleetBreakerOptions } from '../common/fleet-breaker-config';
import { FailureTypes } from '../workflows/definitions';
import type {
  AuthorizationResult,
  CompleteAuthorizationInput,
  MintedToken,
  MintInstallationTokenInput,
} from '../workflows/definitions';
import { noMetrics, type ActivityMetrics } from './activity-metrics';
import { awaitWithHeartbeats, type WaitOptions } from './activity-waits';
import { FleetBreaker, type FleetBreakerStatus } from './fleet-breaker';
import { classifyOttoError } from './otto-errors';
import {
  OttoHttpError,
  ottoRequest,
  ottoTransportOf,
  ottoDeprecationListenerOf,
  type HttpRequest,
  type OttoHttpDeps,
} from './otto-http';
import { PartnerRateLimiter } from './partner-rate-limiter';

export interface TokenActivityDeps extends OttoHttpDeps {
  sealer: Sealer;
  apps: readonly OttoApp[];
  /** Where /oauth2/auth and /oauth2/token live. */
  authBaseUrl: string;
  /** Where /v1/token, /v1/apps/… and the data endpoints live. */
  apiBaseUrl: string;
  /** Exactly the callback URL registered for the apps. */
  redirectUri: string;
  now?: () => number;
  metrics?: ActivityMetrics;
  /** Hard cap on this process's requests to OTTO's token endpoints per second (OTTO: 10/s per IP). */
  tokenRequestsPerSecond?: number;
  /**
   * Token requests per second a code exchange (a seller waiting in the browser) may send above
   * `tokenRequestsPerSecond` (TOKEN_EXCHANGE_HEADROOM; default 2, so 8 + 2 = OTTO's 10/s).
   */
  tokenExchangeHeadroom?: number;
  /**
   * User-token claims that may carry the partner id, tried in order (OTTO_PARTNER_ID_CLAIM; OTTO's samples
   * show `partner_id` and `partner`, docs/otto-api.md §2.4).
   */
  partnerIdClaims?: readonly string[];
  /** Send `redirect_uri` in the code exchange (OTTO_SEND_REDIRECT_URI; must match the authorize request). */
  sendRedirectUri?: boolean;
  /** `scope` for installation tokens (OTTO_INSTALLATION_TOKEN_SCOPE); omitted when empty (docs/otto-api.md §3). */
  installationTokenScope?: string;
  /**
   * The fleet breaker (FLEET_BREAKER_WINDOW, FLEET_BREAKER_MIN_REFUSALS, FLEET_BREAKER_RATIO through
   * `fleetBreakerOptions()` of common/fleet-breaker-config.ts); defaults when absent.
   */
  fleetBreaker?: FleetBreakerOptions;
  /** Heartbeat at least this often while waiting (default 5 s; the workflow's heartbeat timeout is 20 s). */
  heartbeatEveryMs?: number;
  /**
   * The other sellers of the shop whose connections hold this OTTO partner (the worker: running seller
   * workflows with that `OttoPartnerId`, worker/partner-holders.ts). A consent that lands on a partner
   * another seller holds is refused: one OTTO account feeding two shop sellers would import its orders
   * into both and let two stock feeds overwrite each other at OTTO. Absent: no such check.
   */
  sellersHoldingPartner?: (partnerId: string, exceptSellerId: string) => Promise<string[]>;
}

// OTTO may add fields at any time: parse what we need, ignore the rest (zod objects strip unknown keys).
const tokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  scope: z.string().optional(),
});
// The code exchange's answer is not specified (docs/otto-api.md §2.4: parse every field as optional): only
// the token itself is needed, its lifetime is not (the user token is used once, for the installation id).
const userTokenResponse = z.object({ access_token: z.string().min(1) });
// OTTO documents only `{ installationId }` (optional in the spec, so a missing one is a clear error).
const installationResponse = z.object({ installationId: z.string().min(1) });

const authorizationCheckpoint = z.object({
  sealedUserToken: z.string().optional(),
  partnerId: z.string().nullable().optional(),
  installationId: z.string().optional(),
});
type AuthorizationCheckpoint = z.infer<typeof authorizationCheckpoint>;

/** A developer token must be valid this long after a request is sent with it. */
const DEV_TOKEN_SEND_MARGIN_MS = 1_000;
/** TOKEN_EXCHANGE_HEADROOM's default: with TOKEN_REQUESTS_PER_SECOND's 8, code exchanges reach OTTO's 10/s. */
export const DEFAULT_TOKEN_EXCHANGE_HEADROOM = 2;

/** The cached developer token expired while its mint waited for a slot: the mint starts over. */
class StaleDeveloperToken extends Error {}

/** Developer tokens belong to the app, not a seller: one per app per worker process, reused until near expiry. */
class DeveloperTokenCache {
  private readonly tokens = new Map<string, { token: string; refreshAt: number; sendBy: number }>();
  private readonly inFlight = new Map<string, Promise<string>>();
  constructor(
    private readonly fetchToken: (app: OttoApp) => Promise<{ token: string; expiresAt: number }>,
    private readonly now: () => number,
  ) {}

  /**
   * The app's developer token. A fetch is shared by every mint waiting for it, so it is not tied to one
   * activity's cancellation: each caller waits for it heartbeating, and stops waiting when cancelled.
   */
  async get(app: OttoApp, waiting: WaitOptions = {}): Promise<string> {
    const cached = this.tokens.get(app.appId);
    if (cached && cached.refreshAt > this.now()) return cached.token;
    let pending = this.inFlight.get(app.appId);
    if (!pending) {
      pending = this.fetchToken(app)
        .then((fresh) => {
          // Renew a minute before expiry, or halfway through a short-lived token (tests, emulators).
          const lifetime = fresh.expiresAt - this.now();
          this.tokens.set(app.appId, {
            token: fresh.token,
            refreshAt: fresh.expiresAt - Math.min(60_000, lifetime / 2),
            // Sent no later than a second (or a quarter of a short life) before it expires.
            sendBy: fresh.expiresAt - Math.min(DEV_TOKEN_SEND_MARGIN_MS, lifetime / 4),
          });
          return fresh.token;
        })
        .finally(() => this.inFlight.delete(app.appId));
      this.inFlight.set(app.appId, pending);
    }
    return await awaitWithHeartbeats(pending, waiting);
  }

  /** The cached token if a request may still be sent with it now (never fetches); else null. */
  sendable(app: OttoApp): string | null {
    const cached = this.tokens.get(app.appId);
    return cached && cached.sendBy > this.now() ? cached.token : null;
  }

  invalidate(app: OttoApp): void {
    this.tokens.delete(app.appId);
  }
}

export const DEFAULT_PARTNER_ID_CLAIMS = ['partner_id', 'partner'] as const;

/**
 * The partner id from the user token's claims (docs/otto-api.md §2.4: undocumented for this flow, `partner_id`
 * or `partner` in OTTO's samples). We only read what OTTO just gave us over TLS; OTTO checks the signature.
 */
export function partnerIdFromToken(token: string, claims: readonly string[]): string | null {
  const [, payload] = token.split('.');
  if (!payload) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (decoded === null || typeof decoded !== 'object') return null;
  for (const claim of claims) {
    const value = (decoded as Record<string, unknown>)[claim];
    if ((typeof value === 'string' && value.length > 0) || typeof value === 'number') return String(value);
  }
  return null;
}

function failure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/**
 * Unseals a secret of this seller's authorization. A value sealed for another seller or purpose, by an
 * older version, or tampered with can never unseal on a retry, so it fails the authorization at once
 * (non-retryable, nothing sent to OTTO with it) and the seller is asked to consent again.
 */
function unsealForAuthorization(sealer: Sealer, sealed: string, context: SealContext): string {
  try {
    return sealer.unseal(sealed, context);
  } catch (err) {
    if (!(err instanceof SealError)) throw err;
    throw failure(
      FailureTypes.authorizationRejected,
      `${err.message} (seller ${context.sellerId}; it was not sent to OTTO)`,
    );
  }
}

/**
 * Everything that talks to OTTO's token endpoints in one worker process: the developer-token cache, the
 * hard per-process limit on token requests, the fleet breaker — shared by the token activities and the
 * ticks (activities/tick-activities.ts), which mint just in time.
 */
export function createTokenService(deps: TokenActivityDeps) {
  const transport = ottoTransportOf(deps);
  const metrics = deps.metrics ?? noMetrics;
  const onDeprecation = ottoDeprecationListenerOf(deps);
  const now = deps.now ?? Date.now;
  const partnerClaims = deps.partnerIdClaims ?? DEFAULT_PARTNER_ID_CLAIMS;
  const installationScope = deps.installationTokenScope?.trim() ?? '';
  const heartbeatEveryMs = deps.heartbeatEveryMs ?? 5_000;
  const api = (path: string) => new URL(path, deps.apiBaseUrl).toString();
  const auth = (path: string) => new URL(path, deps.authBaseUrl).toString();
  const breaker = new FleetBreaker(deps.fleetBreaker, now);

  // OTTO's token endpoints allow 10 requests/s per IP. The task queue's rate limit is an average that
  // lets short bursts through; this sliding window is a hard per-process bound on what we send.
  // Background mints paced 1/N s apart, so a code exchange never waits long behind a clump of them; code
  // exchanges may also use the headroom up to OTTO's 10/s that the mints leave free.
  const tokenEndpoint = new PartnerRateLimiter(deps.tokenRequestsPerSecond ?? 8, now, {
    paceOrdinary: true,
    urgentHeadroom: deps.tokenExchangeHeadroom ?? DEFAULT_TOKEN_EXCHANGE_HEADROOM,
  });
  /**
   * A token-endpoint request; `waiting` (the activity's signal and heartbeat) when it belongs to one
   * activity. `urgent` (a code exchange: a person waits in the browser, and the code expires) goes ahead
   * of the background mints waiting for the same limit. A request given as a function is built once the
   * slot is granted (a mint's developer token must be fresh when it is sent, not when it began to wait).
   */
  const tokenRequest = async (
    req: HttpRequest | (() => HttpRequest),
    waiting: WaitOptions = {},
    urgent = false,
  ) => {
    waiting.heartbeat?.();
    await tokenEndpoint.acquire('token-endpoint', { ...waiting, urgent });
    let request: HttpRequest;
    try {
      request = typeof req === 'function' ? req() : req;
    } catch (err) {
      tokenEndpoint.release('token-endpoint'); // not sent: the slot goes to the next request
      throw err;
    }
    return await ottoRequest(transport, { ...request, signal: waiting.signal, metrics, onDeprecation });
  };

  /** This activity's cancellation signal, and a heartbeat with `details()` (its checkpoint, if any). */
  function activityWaiting(details: () => unknown = () => undefined): WaitOptions {
    const ctx = Context.current();
    return {
      signal: ctx.cancellationSignal,
      heartbeat: () => ctx.heartbeat(details()),
      heartbeatEveryMs,
    };
  }

  const devTokens = new DeveloperTokenCache(async (app) => {
    const startedAt = now();
    try {
      // Shared by every mint of the app waiting for it: no single activity's signal (see get()).
      const { body } = await tokenRequest({
        method: 'POST',
        url: api('/v1/token'),
        form: {
          grant_type: 'client_credentials',
          client_id: app.clientId,
          client_secret: app.clientSecret,
          scope: 'developer',
        },
      });
      const parsed = tokenResponse.parse(body);
      return { token: parsed.access_token, expiresAt: startedAt + parsed.expires_in * 1_000 };
    } catch (err) {
      throw classifyOttoError(err, 'developer-token');
    }
  }, now);

  /** One log line per breaker transition, and the gauge. */
  function reportBreaker(app: OttoApp, status: FleetBreakerStatus): void {
    if (!status.transition) return;
    const log = Context.current().log;
    const counts = {
      appVersion: app.version,
      appId: app.appId,
      refused: status.refused,
      attempted: status.attempted,
    };
    if (status.transition === 'opened') {
      metrics.fleetIncident?.(app.version, true);
      log.warn(
        `fleet breaker OPEN for app ${app.version} (appId ${app.appId}): ${status.refused} of ${status.attempted} installations refused minting within the window; refusals count as an incident, nobody is revoked until it clears`,
        counts,
      );
    } else {
      metrics.fleetIncident?.(app.version, false);
      log.info(
        `fleet breaker closed for app ${app.version} (appId ${app.appId}): ${status.refused} of ${status.attempted} installations refused within the window; refusals count as revocation evidence again`,
        counts,
      );
    }
  }

  /**
   * Every installation-token mint (first one and refreshes) is counted once by outcome and recorded in
   * the app's fleet breaker. `during` says which activity mints: OTTO refusing the client credentials is
   * an incident during a refresh, and stays InvalidClientCredentials while completing an authorization.
   */
  async function mintWith(
    app: OttoApp,
    installationId: string,
    sellerId: string,
    during: 'refresh' | 'authorization',
    waiting: WaitOptions,
  ): Promise<MintedToken> {
    let minted: MintedToken;
    try {
      minted = await mintOnce(app, installationId, sellerId, waiting);
    } catch (err) {
      throw classifyMintFailure(app, installationId, during, err);
    }
    metrics.tokenMint('ok');
    // For the oldest-token gauge: keyed by app and installation (a newer mint replaces the older), never the token.
    metrics.tokenIssued?.(`${app.appId}/${installationId}`, minted.expiresAt);
    reportBreaker(app, breaker.recordSuccess(app.appId, installationId));
    return minted;
  }

  function classifyMintFailure(
    app: OttoApp,
    installationId: string,
    during: 'refresh' | 'authorization',
    err: unknown,
  ): unknown {
    if (err instanceof CancelledFailure) return err; // neither a failure nor a refusal
    if (!(err instanceof ApplicationFailure)) {
      metrics.tokenMint('failed');
      return err;
    }
    if (err.type === FailureTypes.installationRevoked) {
      const status = breaker.recordRefusal(app.appId, installationId);
      reportBreaker(app, status);
      if (!status.open) {
        metrics.tokenMint('revoked');
        metrics.mintRefusal?.(app.version, 'revocation_evidence');
        return err;
      }
      metrics.tokenMint('incident');
      metrics.mintRefusal?.(app.version, 'fleet_incident');
      return ApplicationFailure.create({
        type: FailureTypes.fleetIncident,
        message: `OTTO refuses minting for most installations of app ${app.version} (appId ${app.appId}): ${status.refused} of ${status.attempted} installations refused within the window (this one: ${err.message}). This is an OTTO outage or a wrong appId in OTTO_APPS; nobody is revoked until it clears`,
        nonRetryable: true,
        cause: err,
      });
    }
    if (err.type === FailureTypes.invalidClientCredentials && during === 'refresh') {
      metrics.tokenMint('incident');
      metrics.mintRefusal?.(app.version, 'client_refused');
      return ApplicationFailure.create({
        type: FailureTypes.fleetIncident,
        message: `OTTO refuses the client credentials of app ${app.version} (appId ${app.appId}, client ${app.clientId}): ${err.message.replace(/: check the app's client id and secret in OTTO_APPS$/, '')}. Check the app's client id and secret in OTTO_APPS; nobody is revoked until it clears`,
        nonRetryable: true,
        cause: err,
      });
    }
    metrics.tokenMint('failed');
    return err;
  }

  async function mintOnce(
    app: OttoApp,
    installationId: string,
    sellerId: string,
    waiting: WaitOptions,
  ): Promise<MintedToken> {
    const url = api(
      `/v1/apps/${encodeURIComponent(app.appId)}/installations/${encodeURIComponent(installationId)}/accessToken`,
    );
    const attempt = async () => {
      // The developer token is fetched (if due) before the wait for a slot, and checked again once the
      // slot is granted: a wait of seconds at the token caps must not send one that expired meanwhile
      // (OTTO: 401). Expired by then, the slot is given up and the mint starts over (a fetch never runs
      // while slots are held: mints blocked on it would all go out at once when it ends).
      let startedAt = now();
      let body: unknown;
      for (;;) {
        await devTokens.get(app, waiting);
        try {
          ({ body } = await tokenRequest((): HttpRequest => {
            const bearer = devTokens.sendable(app);
            if (bearer === null) throw new StaleDeveloperToken();
            startedAt = now();
            const form: Record<string, string> = installationScope ? { scope: installationScope } : {};
            return { method: 'POST', url, bearer, form };
          }, waiting));
          break;
        } catch (err) {
          if (!(err instanceof StaleDeveloperToken)) throw err;
        }
      }
      const parsed = tokenResponse.parse(body);
      return {
        sealedToken: deps.sealer.seal(parsed.access_token, { purpose: 'installation-token', sellerId }),
        // Counted from before the request: never later than OTTO's own expiry.
        expiresAt: startedAt + parsed.expires_in * 1_000,
        scopes: parsed.scope ? parsed.scope.split(/\s+/).filter(Boolean) : [...app.scopes],
      };
    };
    try {
      return await attempt();
    } catch (err) {
      // A 401 can mean our cached developer token went stale, not that the seller left: retry once fresh.
      if (err instanceof OttoHttpError && err.status === 401) {
        devTokens.invalidate(app);
        try {
          return await attempt();
        } catch (second) {
          throw classifyOttoError(second, 'mint');
        }
      }
      throw classifyOttoError(err, 'mint');
    }
  }

  const activities = {
    /**
     * Code → user token → installation → first installation token. Each finished step is checkpointed in
     * heartbeat details (sealed), so a retry after a late failure (a 429 on minting, say) resumes there
     * instead of spending the single-use code a second time.
     */
    async completeAuthorization(input: CompleteAuthorizationInput): Promise<AuthorizationResult> {
      const app = findApp(deps.apps, input.appVersion);
      const ctx = Context.current();
      const saved = authorizationCheckpoint.safeParse(ctx.info.heartbeatDetails);
      const checkpoint: AuthorizationCheckpoint = saved.success ? saved.data : {};
      let { sealedUserToken, installationId } = checkpoint;
      let partnerId = checkpoint.partnerId;
      const pkce = input.sealedPkceVerifier !== undefined;
      // Every heartbeat (waits included) carries the checkpoint so far: never a blank that loses a step.
      let current: AuthorizationCheckpoint = checkpoint;
      const waiting = activityWaiting(() => current);

      const { sellerId } = input;

      if (sealedUserToken === undefined) {
        // Unsealed for this seller before anything is sent: a code or verifier sealed for another seller
        // (or purpose) fails here, non-retryably, and never reaches OTTO.
        const code = unsealForAuthorization(deps.sealer, input.sealedCode, {
          purpose: 'authorization-code',
          sellerId,
        });
        const verifier = pkce
          ? unsealForAuthorization(deps.sealer, input.sealedPkceVerifier!, {
              purpose: 'pkce-verifier',
              sellerId,
            })
          : undefined;
        try {
          const { body } = await tokenRequest(
            {
              method: 'POST',
              url: auth('/oauth2/token'),
              form: {
                grant_type: 'authorization_code',
                code,
                ...(deps.sendRedirectUri === false ? {} : { redirect_uri: deps.redirectUri }),
                client_id: app.clientId,
                client_secret: app.clientSecret,
                ...(verifier === undefined ? {} : { code_verifier: verifier }),
              },
            },
            waiting,
            true,
          );
          const userToken = userTokenResponse.parse(body).access_token;
          sealedUserToken = deps.sealer.seal(userToken, { purpose: 'user-token', sellerId });
          partnerId = partnerIdFromToken(userToken, partnerClaims);
        } catch (err) {
          throw exchangeFailure(err, pkce);
        }
        current = { sealedUserToken, partnerId };
        ctx.heartbeat(current);
      }
      partnerId ??= null;

      // Before anything is minted: a consent that landed on another OTTO account is refused.
      if (
        input.expectedPartnerId !== undefined &&
        partnerId !== null &&
        partnerId !== input.expectedPartnerId
      ) {
        throw failure(
          FailureTypes.partnerMismatch,
          `The OTTO account that was confirmed (partner ${partnerId}) is not the one this seller is connected to (partner ${input.expectedPartnerId}), so it was refused.`,
        );
      }

      // … and so is one that landed on an OTTO account another seller of the shop is connected to (the
      // seller's own partner is its own, whoever else might hold it from before this check existed).
      if (partnerId !== null && partnerId !== input.expectedPartnerId && deps.sellersHoldingPartner) {
        const holders = await deps.sellersHoldingPartner(partnerId, sellerId);
        if (holders.length > 0) {
          throw failure(
            FailureTypes.partnerTaken,
            `The OTTO account that was confirmed (partner ${partnerId}) is already connected to seller ${holders.join(', ')} of this shop, so it was refused.`,
          );
        }
      }

      if (installationId === undefined) {
        try {
          waiting.heartbeat?.();
          const { body } = await ottoRequest(transport, {
            method: 'GET',
            url: api(`/v1/apps/${encodeURIComponent(app.appId)}/installation`),
            bearer: unsealForAuthorization(deps.sealer, sealedUserToken, { purpose: 'user-token', sellerId }),
            signal: waiting.signal,
            metrics,
            onDeprecation,
          });
          installationId = installationResponse.parse(body).installationId;
        } catch (err) {
          if (err instanceof OttoHttpError && err.status === 404) {
            throw failure(
              FailureTypes.appNotInstalled,
              `app ${app.appId} is not installed for this OTTO account (installation lookup answered 404)`,
            );
          }
          if (err instanceof z.ZodError) {
            throw failure(FailureTypes.authorizationRejected, 'OTTO named no installationId for this app');
          }
          throw classifyOttoError(err, 'installation');
        }
        current = { sealedUserToken, partnerId, installationId };
        ctx.heartbeat(current);
      }

      const result = { appVersion: app.version, appId: app.appId, installationId, partnerId };
      // Just in time (the workflow's first tick mints): connecting costs one token request, not two.
      if (input.mintToken === false)
        return { ...result, sealedToken: null, expiresAt: null, scopes: [...app.scopes] };
      const token = await mintWith(app, installationId, sellerId, 'authorization', waiting);
      return { ...token, ...result };
    },

    /**
     * A refresh: heartbeats while it waits (the workflow sets a heartbeat timeout), ends early when
     * cancelled; a refusal is revocation evidence or, while the app's fleet breaker is open, an incident.
     */
    async mintInstallationToken(input: MintInstallationTokenInput): Promise<MintedToken> {
      const app = findApp(deps.apps, input.appVersion);
      return await mintWith(app, input.installationId, input.sellerId, 'refresh', activityWaiting());
    },
  };

  return {
    activities,
    /** A mint inside another activity (a tick): `waiting` carries that activity's signal and heartbeat. */
    async mint(input: MintInstallationTokenInput, waiting: WaitOptions): Promise<MintedToken> {
      const app = findApp(deps.apps, input.appVersion);
      return await mintWith(app, input.installationId, input.sellerId, 'refresh', waiting);
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;

export function createTokenActivities(deps: TokenActivityDeps) {
  return createTokenService(deps).activities;
}

export type TokenActivities = ReturnType<typeof createTokenActivities>;

/**
 * A refused code exchange. With PKCE on, Keycloak refuses our verifier when OTTO's front door dropped the
 * challenge (docs/otto-api.md §2.3); the message then names the switch, since every seller would hit it.
 */
function exchangeFailure(err: unknown, pkce: boolean): Error {
  const classified = classifyOttoError(err, 'exchange');
  if (!pkce || !(err instanceof OttoHttpError) || err.status !== 400 || err.reason !== 'invalid_grant') {
    return classified;
  }
  const description = err.description ?? '';
  const aboutPkce = /pkce|code[_ ]?verifier|challenge/i.test(description);
  return failure(
    FailureTypes.authorizationRejected,
    aboutPkce
      ? `OTTO refused the PKCE code verifier (${description}): OTTO's login seems to drop the PKCE challenge. Set OTTO_PKCE=off for the API and connect again`
      : `${err.message}${description ? `: ${description}` : ''}. PKCE is on (OTTO_PKCE=on); if every seller fails like this, OTTO may not support PKCE: try OTTO_PKCE=off`,
  );
}
