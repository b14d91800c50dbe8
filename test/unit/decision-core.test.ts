/**
 * The decision core without a server: every public state × every trigger (messages, activity outcomes,
 * time), the token policy's rules, and an exploration proving every lifecycle row can fire.
 */
import * as lifecycle from '../../workflows/connection-state';
import { decide, type Action, type RunSituation } from '../../workflows/decide';
import { workflowSettingsSchema } from '../../common/workflow-schemas';
import { FailureTypes, type ConnectionState, type WorkflowSettings } from '../../workflows/definitions';
import * as core from '../../workflows/seller-state';
import type { SellerConnection } from '../../workflows/seller-state';
import { backoffMs, mintDueAt, plannedRefresh } from '../../workflows/token-policy';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const settings: WorkflowSettings = workflowSettingsSchema.parse({
  revocationConfirmWindowMs: 30 * 60_000,
  revocationMinRefusals: 3,
  refreshJitterMs: 0,
  incidentRetryIntervalMs: 120_000,
});
const SEALED = 'v2.k1.aaaa.bbbb';
const idle: RunSituation = { drainingSince: null, handlersFinished: true, cancelRequested: false };
const ctx = (now: number) => ({ now, settings });

type Mint = 'ok' | 'refused' | 'incident' | 'down';
interface World {
  mint: Mint;
  authorize: 'ok' | 'fail';
  transfer: 'ok' | 'fail' | 'unauthorized';
}
const healthy: World = { mint: 'ok', authorize: 'ok', transfer: 'ok' };

const consentInput = (appVersion: 'v1' | 'v2', nonce = `nonce-${appVersion}-0123456789abcdef`) => ({
  sellerId: 's-1',
  appVersion,
  nonce,
});

/**
 * Runs the actions `decide` asks for the way the workflow does, with activities completing at once as
 * `world` says, until it waits. Returns the wait (or the final action).
 */
function settle(s: SellerConnection, now: number, world: World, run: RunSituation = idle): Action {
  for (let i = 0; i < 100; i++) {
    const c = ctx(now);
    const action = decide(s, c, run);
    switch (action.type) {
      case 'expireConsent':
        core.expireConsent(s, c);
        break;
      case 'tokenExpired':
        core.tokenExpired(s, c);
        break;
      case 'authorize':
        if (world.authorize === 'ok') {
          core.authorized(
            s,
            c,
            {
              appVersion: s.authorization!.appVersion,
              appId: 'app',
              installationId: `inst-${s.authorization!.appVersion}`,
              partnerId: 'P1',
              sealedToken: SEALED,
              expiresAt: now + 30 * 60_000,
              scopes: s.authorization!.appVersion === 'v2' ? ['orders', 'shipping-profiles'] : ['orders'],
            },
            0,
          );
        } else
          core.authorizationFailed(s, c, {
            type: FailureTypes.authorizationRejected,
            message: 'invalid_grant',
          });
        break;
      case 'mint':
        s.token.minting = true;
        if (world.mint === 'ok') {
          core.minted(
            s,
            c,
            action.installationId,
            { sealedToken: SEALED, expiresAt: now + 30 * 60_000, scopes: s.scopes },
            0,
          );
        } else {
          const failure = {
            refused: { type: FailureTypes.installationRevoked, message: 'HTTP 404' },
            incident: { type: FailureTypes.fleetIncident, message: 'breaker open for app v1' },
            down: { type: FailureTypes.ottoUnavailable, message: 'HTTP 503' },
          }[world.mint];
          core.mintFailed(s, c, action.installationId, failure);
        }
        break;
      case 'transfer':
        if (action.skip !== null) {
          core.transferSkipped(s, c, action.kind, action.skip);
          break;
        }
        core.transferStarted(s, action.kind, now);
        if (world.transfer === 'ok')
          core.transferSucceeded(s, c, action.kind, { count: 1, cursor: {}, detail: 'ok' });
        else if (world.transfer === 'unauthorized')
          core.transferFailed(
            s,
            c,
            action.kind,
            { type: FailureTypes.tokenRejected, message: 'HTTP 401' },
            { page: 2 },
          );
        else
          core.transferFailed(
            s,
            c,
            action.kind,
            { type: FailureTypes.ottoUnavailable, message: 'HTTP 503' },
            undefined,
          );
        break;
      default:
        return action;
    }
  }
  throw new Error('the decision core did not come to rest in 100 steps (a hot loop)');
}

/** Lets time pass: wakes at each wait's deadline, acting as `world` says, up to `until`. */
function advance(s: SellerConnection, from: number, until: number, world: World): number {
  let now = from;
  for (let i = 0; i < 10_000; i++) {
    const action = settle(s, now, world);
    if (action.type !== 'wait' || action.until === null || action.until > until) return until;
    now = Math.max(now + 1, action.until);
  }
  throw new Error('too many wake-ups');
}

// ---- builders for every public state --------------------------------------------------------------------

function pendingConsent(): SellerConnection {
  const s = core.initialConnection('s-1');
  core.beginConsent(s, ctx(T0), consentInput('v1'));
  return s;
}
function authorizing(): SellerConnection {
  const s = pendingConsent();
  core.answerConsent(s, ctx(T0), { nonce: s.consent!.nonce, sealedCode: SEALED });
  return s;
}
function active(): SellerConnection {
  const s = authorizing();
  settle(s, T0, healthy);
  return s;
}
function degraded(): SellerConnection {
  const s = active();
  core.transferStarted(s, 'ordersImport', T0);
  core.transferFailed(
    s,
    ctx(T0),
    'ordersImport',
    { type: FailureTypes.ottoUnavailable, message: 'HTTP 503' },
    undefined,
  );
  return s;
}
function paused(): SellerConnection {
  const s = active();
  core.pause(s, ctx(T0), undefined);
  return s;
}
function ended(how: 'revoked' | 'disconnected' | 'consent_expired'): SellerConnection {
  if (how === 'consent_expired') {
    const s = pendingConsent();
    settle(s, T0 + settings.consentTimeoutMs, healthy);
    return s;
  }
  const s = active();
  if (how === 'disconnected') core.disconnect(s, ctx(T0), undefined);
  else advance(s, T0, T0 + 2 * 3_600_000, { ...healthy, mint: 'refused', transfer: 'unauthorized' });
  return s;
}

const BUILDERS: Record<ConnectionState, () => SellerConnection> = {
  new: () => core.initialConnection('s-1'),
  pending_consent: pendingConsent,
  authorizing,
  active,
  degraded,
  paused,
  revoked: () => ended('revoked'),
  disconnected: () => ended('disconnected'),
  consent_expired: () => ended('consent_expired'),
};

describe('every public state can be built', () => {
  it.each(Object.keys(BUILDERS) as ConnectionState[])('%s', (state) => {
    expect(core.publicState(BUILDERS[state]())).toBe(state);
  });
});

// ---- state × trigger -------------------------------------------------------------------------------------

/** Each trigger: a message (refused → its refusal type) or an outcome; the result is the next public state. */
const TRIGGERS: Record<string, (s: SellerConnection) => string> = {
  'beginConsent v2': (s) => {
    const refusal = core.beginConsentRefusal(s, consentInput('v2'));
    if (refusal) return `refused ${refusal.type}`;
    core.beginConsent(s, ctx(T0), consentInput('v2'));
    return core.publicState(s);
  },
  'callback with code': (s) => {
    const refusal = core.callbackRefusal(s, s.consent?.nonce ?? 'none');
    if (refusal) return `refused ${refusal.type}`;
    core.answerConsent(s, ctx(T0), { nonce: s.consent!.nonce, sealedCode: SEALED });
    return core.publicState(s);
  },
  disconnect: (s) => {
    const refusal = core.disconnectRefusal(s);
    if (refusal) return `refused ${refusal.type}`;
    core.disconnect(s, ctx(T0), undefined);
    return core.publicState(s);
  },
  pause: (s) => {
    const refusal = core.pauseRefusal(s);
    if (refusal) return `refused ${refusal.type}`;
    core.pause(s, ctx(T0), undefined);
    return core.publicState(s);
  },
  resume: (s) => {
    const refusal = core.resumeRefusal(s);
    if (refusal) return `refused ${refusal.type}`;
    core.resume(s, ctx(T0));
    return core.publicState(s);
  },
  'run ordersImport now': (s) => {
    const refusal = core.runNowRefusal(s);
    if (refusal) return `refused ${refusal.type}`;
    core.requestTransferNow(s, ctx(T0), 'ordersImport');
    return core.publicState(s);
  },
  'OTTO healthy for an hour': (s) => {
    advance(s, T0, T0 + 3_600_000, healthy);
    return core.publicState(s);
  },
  'OTTO down for an hour': (s) => {
    advance(s, T0, T0 + 3_600_000, { mint: 'down', authorize: 'fail', transfer: 'fail' });
    return core.publicState(s);
  },
  'fleet incident for an hour': (s) => {
    advance(s, T0, T0 + 3_600_000, { mint: 'incident', authorize: 'ok', transfer: 'ok' });
    return core.publicState(s);
  },
  'mints refused for an hour': (s) => {
    advance(s, T0, T0 + 3_600_000, { mint: 'refused', authorize: 'ok', transfer: 'unauthorized' });
    return core.publicState(s);
  },
  'consent window passes': (s) => {
    advance(s, T0, T0 + settings.consentTimeoutMs + 1, healthy);
    return core.publicState(s);
  },
};

const R = (type: string) => `refused ${type}`;
const IT = R(FailureTypes.invalidTransition);
// An ended connection refuses with its own type, whether or not its run has closed yet.
const ENDED = R(FailureTypes.connectionEnded);
// prettier-ignore
const EXPECTED: Record<ConnectionState, Record<keyof typeof TRIGGERS, string>> = {
  new: {
    'beginConsent v2': 'pending_consent', 'callback with code': R(FailureTypes.callbackStale), disconnect: 'disconnected',
    pause: IT, resume: IT, 'run ordersImport now': IT, 'OTTO healthy for an hour': 'new', 'OTTO down for an hour': 'new',
    'fleet incident for an hour': 'new', 'mints refused for an hour': 'new', 'consent window passes': 'new',
  },
  pending_consent: {
    'beginConsent v2': 'pending_consent', 'callback with code': 'authorizing', disconnect: 'disconnected',
    pause: IT, resume: IT, 'run ordersImport now': IT, 'OTTO healthy for an hour': 'pending_consent',
    'OTTO down for an hour': 'pending_consent', 'fleet incident for an hour': 'pending_consent',
    'mints refused for an hour': 'pending_consent', 'consent window passes': 'consent_expired',
  },
  authorizing: {
    'beginConsent v2': IT, 'callback with code': R(FailureTypes.callbackReplayed), disconnect: 'disconnected',
    pause: IT, resume: IT, 'run ordersImport now': IT, 'OTTO healthy for an hour': 'active',
    // A failed exchange goes back to waiting for consent; the window then still runs.
    'OTTO down for an hour': 'pending_consent', 'fleet incident for an hour': 'degraded',
    'mints refused for an hour': 'revoked', 'consent window passes': 'active',
  },
  active: {
    'beginConsent v2': 'active', 'callback with code': R(FailureTypes.callbackStale), disconnect: 'disconnected',
    pause: 'paused', resume: IT, 'run ordersImport now': 'active', 'OTTO healthy for an hour': 'active',
    'OTTO down for an hour': 'degraded', 'fleet incident for an hour': 'degraded',
    // An hour of refusals spans the 30-minute window with no data call in between: revoked.
    'mints refused for an hour': 'revoked', 'consent window passes': 'active',
  },
  degraded: {
    'beginConsent v2': 'degraded', 'callback with code': R(FailureTypes.callbackStale), disconnect: 'disconnected',
    pause: 'paused', resume: IT, 'run ordersImport now': 'degraded', 'OTTO healthy for an hour': 'active',
    'OTTO down for an hour': 'degraded', 'fleet incident for an hour': 'degraded',
    'mints refused for an hour': 'revoked', 'consent window passes': 'active',
  },
  paused: {
    'beginConsent v2': 'paused', 'callback with code': R(FailureTypes.callbackStale), disconnect: 'disconnected',
    pause: IT, resume: 'active', 'run ordersImport now': IT, 'OTTO healthy for an hour': 'paused',
    'OTTO down for an hour': 'paused', 'fleet incident for an hour': 'paused',
    // Paused sellers still mint, so a revocation is still noticed.
    'mints refused for an hour': 'revoked', 'consent window passes': 'paused',
  },
  revoked: {
    'beginConsent v2': ENDED, 'callback with code': R(FailureTypes.callbackStale), disconnect: ENDED, pause: ENDED, resume: ENDED,
    'run ordersImport now': ENDED, 'OTTO healthy for an hour': 'revoked', 'OTTO down for an hour': 'revoked',
    'fleet incident for an hour': 'revoked', 'mints refused for an hour': 'revoked', 'consent window passes': 'revoked',
  },
  disconnected: {
    'beginConsent v2': ENDED, 'callback with code': R(FailureTypes.callbackStale), disconnect: ENDED, pause: ENDED, resume: ENDED,
    'run ordersImport now': ENDED, 'OTTO healthy for an hour': 'disconnected', 'OTTO down for an hour': 'disconnected',
    'fleet incident for an hour': 'disconnected', 'mints refused for an hour': 'disconnected',
    'consent window passes': 'disconnected',
  },
  consent_expired: {
    'beginConsent v2': ENDED, 'callback with code': R(FailureTypes.callbackStale), disconnect: ENDED, pause: ENDED, resume: ENDED,
    'run ordersImport now': ENDED, 'OTTO healthy for an hour': 'consent_expired',
    'OTTO down for an hour': 'consent_expired', 'fleet incident for an hour': 'consent_expired',
    'mints refused for an hour': 'consent_expired', 'consent window passes': 'consent_expired',
  },
};

describe('every state × every trigger', () => {
  const cases = (Object.keys(BUILDERS) as ConnectionState[]).flatMap((state) =>
    Object.keys(TRIGGERS).map((trigger) => [state, trigger] as const),
  );
  it.each(cases)('%s + %s', (state, trigger) => {
    const s = BUILDERS[state]();
    expect(TRIGGERS[trigger]!(s)).toBe(EXPECTED[state][trigger]);
    // Whatever happened, the core comes to rest (no hot loop) and never plans to act in the past.
    const rest = settle(s, T0 + 2 * 3_600_000, healthy);
    if (rest.type === 'wait' && rest.until !== null)
      expect(rest.until).toBeGreaterThan(T0 + 2 * 3_600_000 - 1);
  });
});

// ---- the rules, one by one ---------------------------------------------------------------------------------

describe('revocation needs evidence', () => {
  it('one refusal makes the seller degraded with revocationSuspectedAt, not revoked', () => {
    const s = active();
    const at = s.token.nextRefreshAt!;
    // No transfer due meanwhile (a data call that works would clear the suspicion).
    for (const t of Object.values(s.transfers)) t.nextDueAt = at + 600_000;
    settle(s, at, { ...healthy, mint: 'refused' });
    expect(core.publicState(s)).toBe('degraded');
    expect(core.toStatus(s, settings, { workflowId: 'w', runId: 'r' }).health).toMatchObject({
      revocationSuspectedAt: new Date(at).toISOString(),
      refusals: 1,
      incident: null,
    });
  });

  it('refusals within the window do not revoke; spanning it with enough attempts does', () => {
    const s = active();
    const start = s.token.nextRefreshAt!;
    advance(s, start, start + settings.revocationConfirmWindowMs - 1, { ...healthy, mint: 'refused' });
    expect(core.publicState(s)).toBe('degraded');
    expect(s.health.revocation!.refusals).toBeGreaterThanOrEqual(3);
    advance(
      s,
      start + settings.revocationConfirmWindowMs - 1,
      start + settings.revocationConfirmWindowMs + 60_000,
      {
        ...healthy,
        mint: 'refused',
      },
    );
    expect(core.publicState(s)).toBe('revoked');
  });

  it('a successful data call in between clears the evidence', () => {
    const s = active();
    const start = s.token.nextRefreshAt!;
    advance(s, start, start + 20 * 60_000, { ...healthy, mint: 'refused' });
    // Transfers ran with the still-valid token right after the first refusal: the evidence started over.
    expect(s.transfers.ordersImport!.lastRunAt).toBe(start);
    expect(s.health.revocation!.firstAt).toBeGreaterThan(start);
    expect(core.publicState(s)).toBe('degraded');
  });

  it('a fleet incident is never evidence and resets what came before', () => {
    const s = active();
    const start = s.token.nextRefreshAt!;
    settle(s, start, { ...healthy, mint: 'refused' });
    advance(s, start, start + 3 * 3_600_000, { ...healthy, mint: 'incident' });
    expect(core.publicState(s)).toBe('degraded');
    expect(s.health).toMatchObject({ incident: 'breaker open for app v1', revocation: null });
    expect(s.lastError).toBe('breaker open for app v1');
    advance(s, start + 3 * 3_600_000, start + 4 * 3_600_000, healthy);
    expect(core.publicState(s)).toBe('active');
    expect(s.health.incident).toBeNull();
  });
});

describe('lastError shows a problem that is still live', () => {
  const fail = (s: SellerConnection, now: number, kind: 'ordersImport' | 'stockExport', message: string) => {
    core.transferStarted(s, kind, now);
    core.transferFailed(s, ctx(now), kind, { type: FailureTypes.ottoUnavailable, message }, undefined);
  };
  const succeed = (s: SellerConnection, now: number, kind: 'ordersImport' | 'stockExport') => {
    core.transferStarted(s, kind, now);
    core.transferSucceeded(s, ctx(now), kind, { count: 0, cursor: {}, detail: 'ok' });
  };
  const mintFails = (s: SellerConnection, now: number, message: string) => {
    s.token.minting = true;
    core.mintFailed(s, ctx(now), s.installationId!, { type: FailureTypes.ottoUnavailable, message });
  };
  const mintWorks = (s: SellerConnection, now: number) => {
    s.token.minting = true;
    core.minted(
      s,
      ctx(now),
      s.installationId!,
      { sealedToken: SEALED, expiresAt: now + 30 * 60_000, scopes: s.scopes },
      0,
    );
  };

  it('when the newer of two failing transfers recovers, the older one is shown again', () => {
    const s = active();
    fail(s, T0 + 1_000, 'ordersImport', 'HTTP 503 orders');
    fail(s, T0 + 2_000, 'stockExport', 'HTTP 502 stock');
    expect(s.lastError).toBe('stockExport failed: HTTP 502 stock');
    succeed(s, T0 + 3_000, 'stockExport');
    expect(core.publicState(s)).toBe('degraded');
    expect(s.lastError).toBe('ordersImport failed: HTTP 503 orders');
    succeed(s, T0 + 4_000, 'ordersImport');
    expect(core.publicState(s)).toBe('active');
    expect(s.lastError).toBeNull();
  });

  it('a mint that works again never leaves its failure shown while a transfer still fails', () => {
    const s = active();
    fail(s, T0 + 1_000, 'ordersImport', 'HTTP 503 orders');
    mintFails(s, T0 + 2_000, 'HTTP 504 token');
    expect(s.lastError).toBe('Token refresh failed: HTTP 504 token');
    mintWorks(s, T0 + 3_000);
    expect(s.lastError).toBe('ordersImport failed: HTTP 503 orders');
  });

  it('an expired token names the mint failure, not the transfer failure shown last', () => {
    const s = active();
    mintFails(s, T0 + 1_000, 'HTTP 504 token');
    fail(s, T0 + 2_000, 'ordersImport', 'HTTP 503 orders');
    core.tokenExpired(s, ctx(s.token.expiresAt!));
    expect(s.lastError).toBe(
      'The installation token expired before a new one could be minted: HTTP 504 token',
    );
    succeed(s, s.token.expiresAt! + 1_000, 'ordersImport');
    expect(s.lastError).toBe(
      'The installation token expired before a new one could be minted: HTTP 504 token',
    );
    mintWorks(s, s.token.expiresAt! + 2_000);
    expect(core.publicState(s)).toBe('active');
    expect(s.lastError).toBeNull();
    expect(s.health.reasons).toEqual({});
  });

  it('a suspected revocation stays shown until a call with the token works', () => {
    const s = active();
    fail(s, T0 + 1_000, 'stockExport', 'HTTP 503 stock');
    core.transferStarted(s, 'ordersImport', T0 + 1_500);
    s.token.minting = true;
    core.mintFailed(s, ctx(T0 + 2_000), s.installationId!, {
      type: FailureTypes.installationRevoked,
      message: 'HTTP 400 invalid_grant',
    });
    const suspicion = s.lastError;
    expect(suspicion).toMatch(/^OTTO refuses installation tokens for this seller/);
    // The orders run started before the refusal: its success proves nothing about the revocation.
    core.transferSucceeded(s, ctx(T0 + 2_500), 'ordersImport', { count: 0, cursor: {}, detail: 'ok' });
    expect(s.lastError).toBe(suspicion);
    expect(s.health.reasons).toEqual({
      stockExport: 'stockExport failed: HTTP 503 stock',
      revocation: suspicion,
    });
    // A run started after it works: the suspicion clears with the failure, nothing is left to show.
    succeed(s, T0 + 3_000, 'stockExport');
    expect(core.publicState(s)).toBe('active');
    expect(s.lastError).toBeNull();
    expect(s.health.reasons).toEqual({});
  });
});

describe('the token policy', () => {
  it('plans the refresh at the margin before expiry, never sooner than half the life', () => {
    expect(plannedRefresh(T0, T0 + 30 * 60_000, settings, 0)).toBe(T0 + 25 * 60_000);
    const huge = { ...settings, tokenRefreshMarginMs: 29 * 60_000 };
    expect(plannedRefresh(T0, T0 + 30 * 60_000, huge, 0)).toBe(T0 + 15 * 60_000);
  });

  it('backs off 1 s doubling up to the maximum, and a due transfer never overrides the backoff', () => {
    expect([1, 2, 3, 6, 20].map((n) => backoffMs(n, settings))).toEqual([
      1_000, 2_000, 4_000, 30_000, 30_000,
    ]);
    const s = active();
    const at = s.token.expiresAt! + 1;
    settle(s, at, { ...healthy, mint: 'down' });
    const retryAt = s.token.retryAt!;
    expect(retryAt).toBeGreaterThan(at);
    core.requestTransferNow(s, ctx(at), 'stockExport');
    expect(mintDueAt(s.token, at)).toBe(retryAt);
    expect(decide(s, ctx(at), idle)).toMatchObject({ type: 'wait' });
  });

  it('a non-retryable mint failure is retried on the backoff, not in a hot loop', () => {
    const s = active();
    const start = s.token.nextRefreshAt!;
    let wakes = 0;
    let now = start;
    while (now < start + 10 * 60_000) {
      const action = settle(s, now, { ...healthy, mint: 'incident' });
      if (action.type !== 'wait' || action.until === null) break;
      now = action.until;
      wakes++;
    }
    // 10 minutes with incidents retried every 2 minutes (plus transfer wake-ups): bounded.
    expect(wakes).toBeLessThan(30);
    expect(s.token.retryAt! - s.token.lastRefreshedAt!).toBeGreaterThanOrEqual(120_000);
  });

  it('a transfer only starts with a token valid long enough; otherwise it asks for a mint first', () => {
    const s = active();
    const late = s.token.expiresAt! - settings.minTokenValidityMs / 2;
    s.token.nextRefreshAt = late + 3_600_000; // a refresh that has not come
    s.transfers.ordersImport!.nextDueAt = late;
    expect(decide(s, ctx(late), idle)).toMatchObject({ type: 'mint' });
  });

  it('a 401 on a data call discards the token, mints once and reruns; a second 401 is a failure', () => {
    const s = active();
    const now = T0 + 60_000;
    core.requestTransferNow(s, ctx(now), 'ordersImport');
    const first = settle(s, now, { ...healthy, transfer: 'unauthorized' });
    expect(first.type).toBe('wait');
    const t = s.transfers.ordersImport!;
    expect(t.lastResult).toBe('failed');
    expect(s.events.filter((e) => e.type === 'token_remint_requested')).toHaveLength(1);
    expect(t.resume).toEqual({ page: 2 });
  });

  it('drops a mint that finishes for an installation replaced meanwhile', () => {
    const s = active();
    const before = s.token.sealed;
    s.token.minting = true;
    core.minted(
      s,
      ctx(T0 + 1),
      'inst-old',
      { sealedToken: 'v2.k1.other.token', expiresAt: T0 + 10, scopes: [] },
      0,
    );
    expect(s.token.sealed).toBe(before);
    expect(s.token.minting).toBe(false);
  });
});

describe('draining for continue-as-new', () => {
  it('starts no transfer, keeps minting and authorizing, and cancels stragglers after the bound', () => {
    const s = active();
    const now = s.token.nextRefreshAt!;
    core.transferStarted(s, 'stockExport', now - 1_000);
    const draining: RunSituation = { drainingSince: now, handlersFinished: true, cancelRequested: false };
    core.requestTransferNow(s, ctx(now), 'ordersImport');
    expect(decide(s, ctx(now), draining)).toMatchObject({ type: 'mint' });
    s.token.minting = true;
    expect(decide(s, ctx(now), draining)).toEqual({ type: 'wait', until: now + settings.drainTimeoutMs });
    s.token.minting = false;
    core.minted(
      s,
      ctx(now),
      s.installationId!,
      { sealedToken: SEALED, expiresAt: now + 1_800_000, scopes: [] },
      0,
    );
    expect(decide(s, ctx(now + settings.drainTimeoutMs), draining)).toEqual({ type: 'cancelTransfers' });
    expect(
      decide(s, ctx(now + settings.drainTimeoutMs), { ...draining, cancelRequested: true }),
    ).toMatchObject({
      type: 'wait',
    });
    core.transferFailed(s, ctx(now), 'stockExport', { message: 'cancelled', cancelled: true }, { sent: 400 });
    expect(s.transfers.stockExport).toMatchObject({ running: false, resume: { sent: 400 } });
    expect(decide(s, ctx(now + settings.drainTimeoutMs), draining)).toEqual({ type: 'continueAsNew' });
    expect(decide(s, ctx(now), { ...draining, handlersFinished: false })).toMatchObject({ type: 'wait' });
  });

  it('with patch webhookDrain, a running webhook delivery holds the continue-as-new until the bound', () => {
    const s = active();
    const now = T0 + 60_000;
    const draining: RunSituation = {
      drainingSince: now,
      handlersFinished: true,
      cancelRequested: false,
      patches: { webhookDrain: true },
      webhooksInFlight: true,
    };
    const bound = now + settings.drainTimeoutMs;
    const held = settle(s, now, healthy, draining);
    expect(held.type).toBe('wait');
    expect((held as { until: number | null }).until).toBeLessThanOrEqual(bound);
    // The delivery ended: the run continues at once.
    expect(settle(s, now, healthy, { ...draining, webhooksInFlight: false })).toEqual({
      type: 'continueAsNew',
    });
    // Still running at the bound (the shop is down): the next run takes the delivery over.
    expect(settle(s, bound, healthy, draining)).toEqual({ type: 'continueAsNew' });
    // Runs recorded before the patch never waited for deliveries.
    expect(settle(s, now, healthy, { ...draining, patches: {} })).toEqual({ type: 'continueAsNew' });
  });

  it('expires a consent and completes an authorization while draining', () => {
    const s = pendingConsent();
    const draining: RunSituation = { drainingSince: T0, handlersFinished: true, cancelRequested: false };
    expect(decide(s, ctx(s.consent!.deadline), draining)).toEqual({ type: 'expireConsent' });
    const a = authorizing();
    expect(decide(a, ctx(T0), draining)).toEqual({ type: 'authorize' });
  });
});

describe('settings', () => {
  it('a new interval moves the next due time at once', () => {
    const s = active();
    const t = s.transfers.ordersImport!;
    const lastRunAt = t.lastRunAt!;
    expect(t.nextDueAt).toBe(lastRunAt + 15 * 60_000);
    const faster = workflowSettingsSchema.parse({ transferIntervalsMs: { ordersImport: 60_000 } });
    core.applySettings(s, { now: lastRunAt + 1_000, settings: faster });
    expect(t).toMatchObject({ intervalMs: 60_000, nextDueAt: lastRunAt + 60_000 });
    const off = workflowSettingsSchema.parse({ transferIntervalsMs: { ordersImport: null } });
    core.applySettings(s, { now: lastRunAt + 2_000, settings: off });
    expect(t.nextDueAt).toBeNull();
  });

  it('shipping profiles without the scope are skipped with the upgrade hint, never failed', () => {
    const s = active();
    const t = s.transfers.shippingProfilesSync!;
    expect(t.lastResult).toBe('skipped');
    expect(t.lastDetail).toMatch(/upgrade to the v2 app/);
    expect(s.health.failing).toEqual([]);
  });
});

// ---- exploration: every lifecycle row fires ----------------------------------------------------------------

/** Exploration also starts at the older app, so upgrades happen. */
const beginV1 = (s: SellerConnection) => {
  if (core.beginConsentRefusal(s, consentInput('v1')) === null)
    core.beginConsent(s, ctx(T0), consentInput('v1'));
};

describe('the lifecycle table has no unreachable row', () => {
  it('exploring the decision core fires every row', () => {
    const fired = new Set<string>();
    const original = lifecycle.transition;
    const spy = jest.spyOn(lifecycle, 'transition').mockImplementation((from, event) => {
      const result = original(from, event);
      if (result.ok) fired.add(`${from} ${event}`);
      return result;
    });
    try {
      const seen = new Set<string>();
      let frontier: SellerConnection[] = [core.initialConnection('s-1')];
      for (let depth = 0; depth < 8 && frontier.length > 0; depth++) {
        const next: SellerConnection[] = [];
        for (const s of frontier) {
          for (const trigger of [...Object.values(TRIGGERS), beginV1]) {
            const copy = structuredClone(s);
            trigger(copy);
            const key = JSON.stringify([
              core.publicState(copy),
              copy.consent?.appVersion,
              copy.authorization !== null,
              copy.appVersion,
              copy.pause !== null,
            ]);
            if (seen.has(key)) continue;
            seen.add(key);
            next.push(copy);
          }
        }
        frontier = next;
      }
    } finally {
      spy.mockRestore();
    }
    const rows = Object.entries(lifecycle.TRANSITIONS).flatMap(([from, events]) =>
      Object.keys(events).map((event) => `${from} ${event}`),
    );
    expect(rows.filter((row) => !fired.has(row))).toEqual([]);
  });
});

describe('kept webhooks', () => {
  const record = (i: number, status: core.WebhookRecord['status']): core.WebhookRecord => ({
    eventId: `evt_${i}`,
    type: 'transfer.failed',
    at: i,
    status,
    attempts: 1,
    lastError: status === 'failed' ? 'HTTP 503' : null,
    deliveredAt: status === 'delivered' ? i : null,
    deadline: i + 1_000,
    payload: { type: 'transfer.failed', timestamp: new Date(i).toISOString(), data: { sellerId: 's' } },
  });
  /** An outage (40 failed), then the shop back (30 delivered), one pending throughout. */
  const afterOutage = () => {
    const s = core.initialConnection('s');
    s.webhooks = [
      record(0, 'pending'),
      ...Array.from({ length: 40 }, (_, i) => record(1 + i, 'failed')),
      ...Array.from({ length: 30 }, (_, i) => record(100 + i, 'delivered')),
    ];
    return s;
  };

  it('patch keepFailedWebhooks: delivered ones go before failed ones, which an admin may still redeliver', () => {
    const s = afterOutage();
    core.pruneWebhooks(s, 30, true);
    const kept = (status: string) => s.webhooks.filter((w) => w.status === status).map((w) => w.at);
    expect(kept('pending')).toEqual([0]);
    // The newest 30 failed ones; no delivered one is worth a failed one's place.
    expect(kept('failed')).toEqual(Array.from({ length: 30 }, (_, i) => 11 + i));
    expect(kept('delivered')).toEqual([]);
  });

  it('without the patch (runs from before it): the oldest settled go, failed or not', () => {
    const s = afterOutage();
    core.pruneWebhooks(s, 30);
    expect(s.webhooks.filter((w) => w.status === 'failed')).toEqual([]);
    expect(s.webhooks.filter((w) => w.status === 'delivered')).toHaveLength(30);
  });
});

it('one orders.changed for several waiting: their ids (newest kept, each once), counts added, the newest cursor', () => {
  const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `o${from + i}`);
  const merged = core.mergeOrdersChanged([
    { sellerId: 's', salesOrderIds: ids(0, 60), salesOrderIdsTruncated: false, count: 60, feedCursor: 'c1' },
    { salesOrderIds: ['o5', ...ids(60, 50)], salesOrderIdsTruncated: false, count: 51, feedCursor: 'c2' },
  ]);
  expect(merged).toMatchObject({ count: 111, feedCursor: 'c2', salesOrderIdsTruncated: true });
  const kept = merged.salesOrderIds as string[];
  expect(kept).toHaveLength(core.MAX_WEBHOOK_ORDER_IDS);
  expect(new Set(kept).size).toBe(kept.length);
  expect(kept.at(-1)).toBe('o109');
  expect(kept).toContain('o5'); // named again by the newer one: kept as one of the newest
  expect(core.mergeOrdersChanged([{ salesOrderIds: ['a'], count: 1, feedCursor: null }])).toEqual({
    salesOrderIds: ['a'],
    salesOrderIdsTruncated: false,
    count: 1,
    feedCursor: null,
  });
});
