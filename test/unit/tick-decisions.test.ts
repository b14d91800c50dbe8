/**
 * The decision core with the `jitTicks` patch on, without a server: transfers due together become one
 * tick that mints only when the carried token will not last through the run; the schedule stays
 * anchored to due times; a paused seller is probed; failed mints back off and count as evidence.
 */
import { decide, type Action, type RunSituation } from '../../workflows/decide';
import { workflowSettingsSchema } from '../../common/workflow-schemas';
import {
  FailureTypes,
  type AuthorizationResult,
  type TransferKind,
  type WorkflowSettings,
} from '../../workflows/definitions';
import * as core from '../../workflows/seller-state';
import type { SellerConnection, TickPlan } from '../../workflows/seller-state';
import type { TickResult } from '../../workflows/tick-types';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const MIN = 60_000;
const settings: WorkflowSettings = workflowSettingsSchema.parse({
  revocationConfirmWindowMs: 30 * MIN,
  revocationMinRefusals: 3,
  refreshJitterMs: 0,
  dailyTransferHour: null,
});
const patches = { jitTicks: true };
const run: RunSituation = { drainingSince: null, handlersFinished: true, cancelRequested: false, patches };
const ctx = (now: number) => ({ now, settings, patches });

/**
 * A seller connected at T0 (every transfer due then): by default on v2 with a 30-minute token minted
 * then; `result` overrides what the authorization returned (e.g. no token: connected just in time).
 */
function connected(result: Partial<AuthorizationResult> = {}, sellerId = 's-1'): SellerConnection {
  const appVersion = result.appVersion ?? 'v2';
  const s = core.initialConnection(sellerId);
  const c = ctx(T0);
  core.beginConsent(s, c, { sellerId, appVersion, nonce: 'nonce-0123456789abcdef' });
  core.answerConsent(s, c, { nonce: 'nonce-0123456789abcdef', sealedCode: 'v2.k1.code.x' });
  core.authorized(
    s,
    c,
    {
      appVersion,
      appId: 'app',
      installationId: 'inst-1',
      partnerId: 'P1',
      sealedToken: 'v2.k1.tok.0',
      expiresAt: T0 + 30 * MIN,
      scopes: ['orders', settings.shippingProfilesScope],
      ...result,
    },
    0,
  );
  return s;
}

function tick(action: Action): TickPlan {
  if (action.type !== 'tick') throw new Error(`expected a tick, got ${JSON.stringify(action)}`);
  return action.plan;
}

const ok = (kinds: TransferKind[], minted?: number): TickResult => ({
  minted:
    minted === undefined
      ? null
      : {
          sealed: `v2.k1.tok.${minted}`,
          expiresAt: minted + 30 * MIN,
          scopes: ['orders', settings.shippingProfilesScope],
          mintedAt: minted,
        },
  mints: minted === undefined ? 0 : 1,
  mintFailure: null,
  outcomes: Object.fromEntries(kinds.map((k) => [k, { ok: { count: 0, cursor: {}, detail: 'ok' } }])),
  progress: {},
});

/** Runs one tick at `now` the way the workflow does: start, the activity's result, finish. */
function runTick(s: SellerConnection, now: number, result?: (plan: TickPlan) => TickResult): TickPlan {
  const plan = tick(decide(s, ctx(now), run));
  core.tickStarted(s, ctx(now), plan);
  // Nothing to wake for while the tick runs: its end does (no timer started, none cancelled).
  expect(decide(s, ctx(now), run)).toEqual({ type: 'wait', until: null });
  const r = result
    ? result(plan)
    : ok(
        plan.kinds.map((k) => k.kind),
        plan.mints ? now : undefined,
      );
  core.tickFinished(s, ctx(now + 200), plan, 'inst-1', r, false);
  return plan;
}

it('every transfer due together runs in one tick, with the carried token when it lasts through the run', () => {
  const s = connected();
  const plan = runTick(s, T0);
  expect(plan.kinds.map((k) => k.kind).sort()).toEqual(
    ['ordersImport', 'pricesExport', 'returnsImport', 'shippingProfilesSync', 'stockExport'].sort(),
  );
  expect(plan.mints).toBe(false);
  expect(plan.probe).toBe(false);
});

/** Drives the decision loop as the workflow does (wake at each `wait`, run each tick) until `end`. */
function drive(s: SellerConnection, from: number, end: number): { at: number; plan: TickPlan }[] {
  const done: { at: number; plan: TickPlan }[] = [];
  let now = from;
  let waits = 0;
  while (now < end) {
    const action = decide(s, ctx(now), run);
    if (action.type === 'wait') {
      if (action.until === null || action.until <= now) throw new Error(`stuck at ${now - T0}`);
      now = action.until;
      waits++;
    } else done.push({ at: now - T0, plan: runTick(s, now) });
  }
  // One timer per tick: every wake-up runs a tick (none is a wasted wake before the real one).
  expect(waits).toBeLessThanOrEqual(done.length);
  return done;
}

it('starts a tick early to reuse a token that would run out just before it: 3 ticks per 30-minute token', () => {
  const s = connected(); // token minted at T0, valid to T0+30
  const ticks = drive(s, T0, T0 + 180 * MIN);
  const minute = (ms: number) => ms / MIN;
  const lead = core.MINT_LEAD_MS / MIN;
  // +30 runs at +28 (aimed at twice the 60 s reserve before expiry), +45 mints (the mint lead early) a
  // token valid to +75 − lead, +75 runs at +73 − lead with it, +90 mints, …: a mint every 45 minutes,
  // never a tick with less than the reserve.
  expect(ticks.slice(0, 7).map((t) => [minute(t.at), t.plan.mints])).toEqual([
    [0, false],
    [15, false],
    [28, false],
    [45 - lead, true],
    [60, false],
    [73 - lead, false],
    [90 - lead, true],
  ]);
  // +45, +90, +135 (each the lead early): with the connecting token, 4 tokens in 3 hours (1.33 per hour);
  // the +180 one starts the lead before the end.
  const mints = ticks.filter((t) => t.plan.mints && t.at < 175 * MIN).length;
  expect(mints).toBe(3);
  // Early ticks move no schedule: orders and stock stay on the quarter hours, hourly ones on the hour.
  expect(s.transfers.ordersImport!.nextDueAt).toBe(T0 + 195 * MIN); // the +180 tick ran (lead early)
  expect(
    ticks.filter((t) => t.plan.kinds.some((k) => k.kind === 'returnsImport')).map((t) => minute(t.at)),
  ).toEqual([0, 60, 118 - lead, 180 - lead]); // +120 ran at +118 − lead (reuse), +180 at +180 − lead (mint)
  expect(s.transfers.returnsImport!.nextDueAt).toBe(T0 + 240 * MIN);
  // Every early tick carried both 15-minute transfers and started at most a quarter interval early.
  for (const t of ticks) {
    expect(t.plan.kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(['ordersImport', 'stockExport']));
    expect((15 * MIN - (t.at % (15 * MIN))) % (15 * MIN)).toBeLessThanOrEqual((15 * MIN) / 4);
  }
});

it('the status view’s nextRefreshAt is when the next tick will mint: after every tick, the next minting tick', () => {
  const s = connected();
  const predicted: number[] = [];
  const ticks: { at: number; mints: boolean }[] = [];
  let now = T0;
  while (now < T0 + 300 * MIN) {
    const action = decide(s, ctx(now), run);
    if (action.type === 'wait') {
      now = action.until!;
      continue;
    }
    ticks.push({ at: now, mints: runTick(s, now).mints });
    predicted.push(s.token.nextRefreshAt!);
  }
  let checked = 0;
  ticks.forEach((t, i) => {
    const nextMint = ticks.slice(i + 1).find((later) => later.mints);
    if (nextMint === undefined) return;
    expect([(t.at - T0) / MIN, (predicted[i]! - T0) / MIN]).toEqual([
      (t.at - T0) / MIN,
      (nextMint.at - T0) / MIN,
    ]);
    checked++;
  });
  expect(checked).toBeGreaterThan(10);
  // Not the timer's "expiry − margin": the +45 tick mints, though the token runs out at +30.
  expect(predicted[0]).toBe(T0 + 45 * MIN - core.MINT_LEAD_MS);
  expect(core.toStatus(s, settings, { workflowId: 'w', runId: 'r' }).token.nextRefreshAt).toBe(
    new Date(predicted.at(-1)!).toISOString(),
  );
  // Paused: only the hourly probe mints.
  core.pause(s, ctx(now), 'test');
  expect(core.nextTickMintAt(s, ctx(now))).toBe(
    s.token.lastRefreshedAt! + settings.revocationProbeIntervalMs,
  );
});

it('woken too late for an early tick (the token no longer lasts the reserve), it runs then and mints', () => {
  const s = connected();
  runTick(s, T0);
  runTick(s, T0 + 15 * MIN);
  expect(decide(s, ctx(T0 + 16 * MIN), run)).toEqual({ type: 'wait', until: T0 + 28 * MIN });
  const plan = runTick(s, T0 + 29 * MIN + 30_000); // the timer fired 90 s late: 30 s of token left
  expect(plan.mints).toBe(true);
  expect(plan.kinds.map((k) => k.kind).sort()).toEqual(['ordersImport', 'stockExport']);
  expect(s.transfers.ordersImport!.nextDueAt).toBe(T0 + 45 * MIN);
});

it('never starts early when the token would not reach the early window (the tick at its due time mints)', () => {
  const s = connected({ expiresAt: T0 + 20 * MIN }); // runs out 10 minutes before the +30 tick
  const ticks = drive(s, T0, T0 + 31 * MIN);
  expect(ticks.map((t) => [t.at / MIN, t.plan.mints])).toEqual([
    [0, false],
    [15, false],
    [30 - core.MINT_LEAD_MS / MIN, true], // the mint lead early: its wait in the token queue ends by +30
  ]);
  // Transfers are told when they were due.
  expect(s.transfers.ordersImport!.servedDueAt).toBe(T0 + 30 * MIN);
});

it('keeps the schedule anchored to due times: hourly transfers stay in every fourth tick', () => {
  const s = connected();
  runTick(s, T0);
  const hourly: number[] = [];
  for (let i = 1; i <= 8; i++) {
    const at = T0 + i * 15 * MIN + 700; // each tick fires and ends a little late
    const plan = runTick(s, at);
    if (plan.kinds.some((k) => k.kind === 'returnsImport')) hourly.push(i);
    expect(s.transfers.ordersImport!.nextDueAt).toBe(T0 + (i + 1) * 15 * MIN);
  }
  expect(hourly).toEqual([4, 8]);
});

it('a transfer due within the join window runs with the tick that starts now', () => {
  const s = connected();
  runTick(s, T0);
  s.transfers.returnsImport!.nextDueAt = T0 + 15 * MIN + 30_000;
  const plan = runTick(s, T0 + 15 * MIN);
  expect(plan.kinds.map((k) => k.kind)).toContain('returnsImport');
  expect(s.transfers.returnsImport!.nextDueAt).toBe(T0 + 75 * MIN);
});

it('never starts a second tick while one runs', () => {
  const s = connected();
  const plan = tick(decide(s, ctx(T0), run));
  core.tickStarted(s, ctx(T0), plan);
  expect(decide(s, ctx(T0 + 20 * MIN), run)).toEqual({ type: 'wait', until: null });
});

it('an expired token is no reason to act (the next tick mints), never `degraded`', () => {
  const s = connected();
  runTick(s, T0);
  expect(decide(s, ctx(T0 + 31 * MIN), run).type).not.toBe('tokenExpired');
  expect(core.publicState(s)).toBe('active');
});

it('a paused seller runs no transfer but is probed an interval after its last mint', () => {
  const s = connected();
  runTick(s, T0);
  core.pause(s, ctx(T0 + MIN), 'test');
  const wait = decide(s, ctx(T0 + MIN), run);
  expect(wait).toEqual({ type: 'wait', until: T0 + 60 * MIN });
  const plan = runTick(s, T0 + 60 * MIN);
  expect(plan).toEqual({ kinds: [], probe: true, mints: true });
  // The next probe an interval after that mint (recorded when the tick ended, 200 ms later).
  expect(decide(s, ctx(T0 + 61 * MIN), run)).toEqual({ type: 'wait', until: T0 + 120 * MIN + 200 });
});

it('refused probes back off, count as evidence and revoke once they span the confirmation window', () => {
  const s = connected();
  runTick(s, T0);
  core.pause(s, ctx(T0 + MIN), 'test');
  const refused = (): TickResult => ({
    minted: null,
    mints: 0,
    mintFailure: { type: FailureTypes.installationRevoked, message: 'OTTO refused (404)' },
    outcomes: {},
    progress: {},
  });
  let now = T0 + 60 * MIN;
  runTick(s, now, refused);
  expect(core.publicState(s)).toBe('paused');
  expect(s.health.revocation).toMatchObject({ refusals: 1 });
  // No probe before the backoff.
  const next = decide(s, ctx(now + 1), run);
  expect(next).toEqual({ type: 'wait', until: s.token.retryAt });
  for (let i = 0; i < 200 && core.publicState(s) !== 'revoked'; i++) {
    now = s.token.retryAt!;
    runTick(s, now, refused);
  }
  expect(core.publicState(s)).toBe('revoked');
  expect(s.health.revocation!.lastAt - s.health.revocation!.firstAt).toBeGreaterThanOrEqual(30 * MIN);
});

it('transfers left without an outcome (a failed mint) stay due and resume from their progress', () => {
  const s = connected();
  runTick(s, T0);
  const at = T0 + 30 * MIN;
  runTick(s, at, () => ({
    minted: null,
    mints: 0,
    mintFailure: { type: 'OttoServerError', message: '503' },
    outcomes: {},
    progress: { ordersImport: { page: 2 } },
  }));
  expect(s.transfers.ordersImport!.resume).toEqual({ page: 2 });
  expect(s.transfers.ordersImport!.nextDueAt).toBeLessThanOrEqual(at);
  expect(decide(s, ctx(at + 1), run)).toEqual({ type: 'wait', until: s.token.retryAt });
});

it('"run now" during a tick makes that transfer due again when the tick ends', () => {
  const s = connected();
  const plan = tick(decide(s, ctx(T0), run));
  core.tickStarted(s, ctx(T0), plan);
  core.requestTransferNow(s, ctx(T0 + 100), 'ordersImport');
  core.tickFinished(s, ctx(T0 + 200), plan, 'inst-1', ok(plan.kinds.map((k) => k.kind)), false);
  expect(s.transfers.ordersImport!.nextDueAt).toBe(T0 + 200);
  expect(s.transfers.stockExport!.nextDueAt).toBe(T0 + 15 * MIN);
});

it('connected just in time (no token yet): the first tick mints, and a seller that cannot is degraded', () => {
  const s = connected({ appVersion: 'v1', sealedToken: null, expiresAt: null, scopes: ['orders'] });
  expect(core.publicState(s)).toBe('active');
  // Shipping profiles without the v2 scope are skipped (no activity), then the tick runs.
  const skip = decide(s, ctx(T0), run);
  expect(skip).toMatchObject({ type: 'transfer', kind: 'shippingProfilesSync' });
  if (skip.type === 'transfer') core.transferSkipped(s, ctx(T0), skip.kind, skip.skip!);
  const plan = runTick(s, T0, () => ({
    minted: null,
    mints: 0,
    mintFailure: { type: 'OttoServerError', message: 'OTTO answered 503' },
    outcomes: {},
    progress: {},
  }));
  expect(plan.mints).toBe(true);
  expect(core.publicState(s)).toBe('degraded');
  expect(s.lastError).toMatch(/No installation token could be minted/);
});

/**
 * Drives the decision loop until `end` with `kind` failing at once every time it runs (OTTO keeps
 * refusing it, with `message(now)`), the others succeeding; a tick takes `tickMs`. When each tick ran,
 * and when the failing kind did.
 */
function driveFailing(
  s: SellerConnection,
  kind: TransferKind,
  end: number,
  message: (now: number) => string,
  tickMs: number,
): { ticks: number[]; failing: number[] } {
  const ticks: number[] = [];
  const failing: number[] = [];
  let now = T0;
  while (now < end) {
    const action = decide(s, ctx(now), run);
    if (action.type === 'wait') {
      now = action.until!;
      continue;
    }
    const plan = tick(action);
    core.tickStarted(s, ctx(now), plan);
    const needMint = plan.mints || s.token.expiresAt! < now + MIN;
    const result = ok(
      plan.kinds.map((k) => k.kind).filter((k) => k !== kind),
      needMint ? now : undefined,
    );
    if (plan.kinds.some((k) => k.kind === kind)) {
      failing.push(now);
      result.outcomes[kind] = { failed: { type: FailureTypes.requestRejected, message: message(now) } };
    }
    core.tickFinished(s, ctx(now + tickMs), plan, 'inst-1', result, false);
    ticks.push(now);
    now += tickMs;
  }
  return { ticks, failing };
}

it('a transfer that keeps failing is retried at its retry interval, also just before the token expires (no hot loop)', () => {
  const s = connected();
  // Prices fails at once every time (a 400 OTTO keeps answering); the others succeed. A tick takes 300 ms.
  const { ticks } = driveFailing(s, 'pricesExport', T0 + 50 * MIN, () => 'OTTO answered 400', 300);
  // At most one tick per retry interval (30 s), however close the token is to its expiry: before the fix,
  // a quarter-interval early start ran the retry at once, about 200 times in the minute before expiry.
  const retryMs = settings.transferRetryMaxIntervalMs;
  const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(retryMs - 10_000 - 300);
  expect(ticks.length).toBeLessThanOrEqual((50 * MIN) / (retryMs - 10_000) + 2);
});

it('a kind that keeps failing backs off (30 s, 1, 2, 4 … min, at most its interval) and tells the shop once per new message', () => {
  const s = connected();
  // After 100 minutes OTTO says something else about it.
  const { failing: runs } = driveFailing(
    s,
    'ordersImport',
    T0 + 180 * MIN,
    (now) => (now >= T0 + 100 * MIN ? 'OTTO answered 403' : 'OTTO answered 400'),
    200,
  );
  const failing = runs.map((at) => ({ at }));
  const gaps = failing.slice(1).map((f, i) => Math.round((f.at - failing[i]!.at) / 1000));
  // Each retry twice as late as the last (up to the quarter-hour interval); it may join a tick of the
  // other kinds that starts within the join window (60 s) before it.
  for (const [i, gap] of gaps.slice(0, 5).entries()) {
    expect(gap).toBeGreaterThanOrEqual(30 * 2 ** i - 60);
    expect(gap).toBeLessThanOrEqual(30 * 2 ** i);
  }
  expect(gaps[4]).toBeGreaterThan(gaps[0]! * 8);
  expect(Math.max(...gaps)).toBeLessThanOrEqual(15 * 60);
  expect(failing.length).toBeLessThan(20); // a retry per 30 s would be 360
  const told = s.outbox.filter((e) => e.type === 'transfer.failed').map((e) => e.data.message);
  expect(told).toEqual(['OTTO answered 400', 'OTTO answered 403']);
});

describe('the mint phase spread: sellers whose token cycles began together mint in different ticks', () => {
  const justInTime = { sealedToken: null, expiresAt: null };
  const minute = (ms: number) => ms / MIN;
  /** A v2 seller connected just in time at T0, driven for `hours`: the minutes at which it minted. */
  const mintMinutes = (sellerId: string, hours: number) => {
    const s = connected(justInTime, sellerId);
    // Rounded: the mint lead starts a minting tick seconds before its quarter hour.
    return drive(s, T0, T0 + hours * 60 * MIN)
      .filter((t) => t.plan.mints)
      .map((t) => Math.round(minute(t.at)));
  };
  const ids = Array.from({ length: 60 }, (_, i) => `seller-${i}`);

  it('a wave connected at once mints in all three slots of the 45-minute cycle, not in one', () => {
    const slots = new Map<number, number>();
    for (const id of ids) {
      const mints = mintMinutes(id, 4);
      expect(mints[0]).toBe(0); // the first token right away: data flows at once
      // Its own slot (tick 1, 2 or 3 of the first token), then every 45 minutes from there.
      const slot = mints[1]!;
      expect([15, 30, 45]).toContain(slot);
      for (let i = 2; i < mints.length; i++) expect(mints[i]! - mints[i - 1]!).toBe(45);
      slots.set(slot, (slots.get(slot) ?? 0) + 1);
    }
    // Evenly enough: every slot holds a fair share of the 60 sellers.
    expect([...slots.keys()].sort()).toEqual([15, 30, 45]);
    for (const count of slots.values()) expect(count).toBeGreaterThanOrEqual(10);
  });

  it('costs at most one extra mint per seller, once: over 12 hours at most one more than without it', () => {
    for (const id of ids.slice(0, 20)) {
      const mints = mintMinutes(id, 12).length;
      // Without the spread: +0, then every 45 minutes (+0 … +675: 16 in 12 hours).
      expect(mints).toBeGreaterThanOrEqual(16);
      expect(mints).toBeLessThanOrEqual(17);
    }
  });

  it('the retiring tick mints although the carried token would last (the run keeps it for a failed mint)', () => {
    const id = ids.find((sellerId) => mintMinutes(sellerId, 1)[1] === 15)!;
    const s = connected(justInTime, id);
    runTick(s, T0);
    expect(s.token.retireAt).toBe(T0 + 15 * MIN - (15 * MIN) / 4);
    const plan = runTick(s, T0 + 15 * MIN); // the token would last to +30
    expect(plan).toMatchObject({ mints: true, retire: true, probe: false });
    expect(s.token.retireAt).toBeNull(); // a later mint keeps its natural phase
    expect(s.token.expiresAt).toBe(T0 + 45 * MIN);
  });

  it('a token retired at its third tick is not reused by an early start there', () => {
    const id = ids.find((sellerId) => mintMinutes(sellerId, 1)[1] === 30)!;
    const s = connected(justInTime, id);
    runTick(s, T0);
    expect(s.token.retireAt).toBe(T0 + 30 * MIN - (15 * MIN) / 4);
    runTick(s, T0 + 15 * MIN);
    // No early start at +28 (token reuse would): the tick due at +30 mints (the mint lead early).
    const at = T0 + 30 * MIN - core.MINT_LEAD_MS;
    expect(decide(s, ctx(T0 + 16 * MIN), run)).toEqual({ type: 'wait', until: at });
    expect(runTick(s, at).mints).toBe(true);
    expect(s.token.retireAt).toBeNull();
  });

  it('re-spreads after an outage (the first token after failed mints), not after every natural mint', () => {
    const id = ids.find((sellerId) => mintMinutes(sellerId, 1)[1] === 15)!;
    const s = connected({}, id); // a token from the authorization: no reset, no spread
    runTick(s, T0);
    expect(s.token.retireAt ?? null).toBeNull();
    runTick(s, T0 + 15 * MIN);
    runTick(s, T0 + 28 * MIN);
    const failed = (): TickResult => ({
      minted: null,
      mints: 0,
      mintFailure: { type: 'OttoServerError', message: 'OTTO answered 503' },
      outcomes: {},
      progress: {},
    });
    runTick(s, T0 + 45 * MIN, failed);
    const retry = decide(s, ctx(T0 + 46 * MIN), run);
    expect(retry.type).toBe('tick');
    runTick(s, T0 + 46 * MIN);
    expect(s.token.retireAt).toBe(T0 + 45 * MIN + 15 * MIN - (15 * MIN) / 4);
  });

  it('an hourly-only seller (each tick needs a new token anyway) gets no spread', () => {
    const s = connected(justInTime, ids[0]);
    for (const t of Object.values(s.transfers)) if (t) t.intervalMs = 60 * MIN;
    expect(core.spreadRetireAt({ ...s, token: { ...s.token, expiresAt: T0 + 30 * MIN } }, ctx(T0), T0)).toBe(
      null,
    );
  });
});

describe('applySettings under ticks', () => {
  it('a kind switched off while failing no longer keeps the seller degraded (patch offClearsFailure)', () => {
    const failPrices = (plan: TickPlan): TickResult => {
      const result = ok(plan.kinds.map((k) => k.kind).filter((k) => k !== 'pricesExport'));
      result.outcomes.pricesExport = {
        failed: { type: FailureTypes.requestRejected, message: 'OTTO answered 400' },
      };
      return result;
    };
    const off = workflowSettingsSchema.parse({
      ...settings,
      transferIntervalsMs: { ...settings.transferIntervalsMs, pricesExport: null },
    });
    for (const offClearsFailure of [true, false]) {
      const s = connected();
      runTick(s, T0, failPrices);
      expect(core.publicState(s)).toBe('degraded');
      core.applySettings(s, { now: T0 + MIN, settings: off, patches: { ...patches, offClearsFailure } });
      // Without the patch (runs recorded before it) the old behaviour stays: degraded for good.
      expect([offClearsFailure, core.publicState(s)]).toEqual([
        offClearsFailure,
        offClearsFailure ? 'active' : 'degraded',
      ]);
      if (offClearsFailure) {
        expect(s.lastError).toBeNull();
        expect(s.health.failing).toEqual([]);
      }
    }
  });

  it('a changed interval is counted from the due time the last tick served, not from its early start', () => {
    const s = connected();
    let now = T0;
    // Run the first half hour of ticks (one of them starts early to reuse the token).
    while (now < T0 + 29 * MIN) {
      const action = decide(s, ctx(now), run);
      if (action.type === 'wait') {
        now = action.until!;
        continue;
      }
      runTick(s, now);
    }
    const orders = s.transfers.ordersImport!;
    expect(orders.lastRunAt).toBeLessThan(orders.servedDueAt!); // the early start
    const slower = workflowSettingsSchema.parse({
      ...settings,
      transferIntervalsMs: { ...settings.transferIntervalsMs, ordersImport: 30 * MIN },
    });
    core.applySettings(s, { now: T0 + 29 * MIN, settings: slower, patches });
    // On the grid of the served due time (T0 + 30 min → T0 + 60 min), where stock is due too.
    expect(orders.nextDueAt).toBe(orders.servedDueAt! + 30 * MIN);
    expect(s.transfers.stockExport!.nextDueAt! % (15 * MIN)).toBe(orders.nextDueAt! % (15 * MIN));
  });
});

describe('shipping profiles when nothing names the installation’s scopes', () => {
  // OTTO documents the installation token's answer as { access_token, expires_in } only (docs/otto-api.md
  // §3), and OTTO_APPS may list no scopes for the app: the seller's scopes are then empty.
  const kindsAt = (s: SellerConnection, c: ReturnType<typeof ctx> & { patches: object }) => {
    const action = decide(s, c, { ...run, patches: c.patches });
    return action.type === 'tick' ? action.plan.kinds.map((k) => k.kind) : action;
  };
  const withPatch = (now: number) => ({
    ...ctx(now),
    patches: { jitTicks: true, shippingByAppVersion: true },
  });

  it('the v2 app syncs them (before: skipped on every app, so no seller ever had them)', () => {
    const s = connected({ appVersion: 'v2', scopes: [] });
    expect(kindsAt(s, withPatch(T0))).toContain('shippingProfilesSync');
    // The run before the patch (replayed histories): skipped, as it was.
    expect(decide(connected({ appVersion: 'v2', scopes: [] }), ctx(T0), run)).toMatchObject({
      type: 'transfer',
      kind: 'shippingProfilesSync',
      skip: expect.stringMatching(/missing scope "shipping-profiles"/),
    });
  });

  it('the v1 app skips them; named scopes decide whatever the app', () => {
    expect(decide(connected({ appVersion: 'v1', scopes: [] }), withPatch(T0), run)).toMatchObject({
      type: 'transfer',
      kind: 'shippingProfilesSync',
      skip: expect.stringMatching(/upgrade to the v2 app/),
    });
    // Scopes named (by the token or OTTO_APPS) without the shipping scope: skipped even on v2.
    expect(decide(connected({ appVersion: 'v2', scopes: ['orders'] }), withPatch(T0), run)).toMatchObject({
      type: 'transfer',
      kind: 'shippingProfilesSync',
    });
    expect(
      kindsAt(connected({ appVersion: 'v1', scopes: [settings.shippingProfilesScope] }), withPatch(T0)),
    ).toContain('shippingProfilesSync');
  });
});
