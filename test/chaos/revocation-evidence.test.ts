/**
 * Revocation needs evidence (issue 14 item 1), on accelerated time: a confirmation window of 3 s instead
 * of 30 min, tokens of seconds instead of 30 min, the fleet breaker's window of seconds instead of 10 min.
 *
 * (a) OTTO answers 404 to every mint for five windows ("30 minutes" and more): every seller's mints are
 *     refused often enough, over long enough, to have revoked it, yet nobody is revoked: all are
 *     `degraded` with the incident named, and all are `active` again once the fault is removed.
 * (b) The workers restart with a wrong appId in OTTO_APPS: the same, with an error naming the appId.
 * (c) One seller among 50 removes the app: only that seller is revoked, once its refusals span the
 *     window; the breaker that caught (a) and (b) stays closed for it.
 *
 * The three use the same breaker options and the same per-seller overrides, so what tells a revocation
 * from an incident is the breaker's judgement, not different settings.
 */
import type { Worker } from '@temporalio/worker';
import type { FleetBreakerOptions } from '../../common/fleet-breaker-config';
import type { OttoApp } from '../../common/otto-apps';
import { createWorkers, runWorkers } from '../../worker/create-workers';
import { createWorkerMetrics, type WorkerMetrics } from '../../worker/metrics';
import { TICK_HEARTBEAT_TIMEOUT_MS } from '../../workflows/activity-options';
import type { ConnectionStatus, SettingsOverrides } from '../../workflows/definitions';
import { REDIRECT_URI, TestStack, type LoggedRequest, type SellerHandle } from '../support/stack';
import { eventually, uniqueName, workflowBundleCode } from '../support/temporal';

const WINDOW_MS = 3_000;
const MIN_REFUSALS = 3;
/** "30 minutes" of outage, scaled: five confirmation windows. */
const OUTAGE_MS = 5 * WINDOW_MS;
/** Slack on top of the window for the confirming attempt (backoff ≤ 500 ms) and a workflow task. */
const CONFIRM_SLACK_MS = 4_000;
/**
 * After a worker restart, a tick may be late by up to its heartbeat timeout: the stopped worker's poll,
 * interrupted at shutdown, can take a tick that was in transit to it and never run it (the server retries
 * it once the heartbeat timeout passes). Waits that span a restart allow for that, on top of their own.
 */
const LOST_TICK_MS = TICK_HEARTBEAT_TIMEOUT_MS;

/**
 * Per-seller overrides: no transfers (only the revocation probe talks to OTTO, so every mint is a probe),
 * mint retries at most 500 ms apart, revocation after refusals spanning 3 s (at least 3 of them).
 */
const FAST: SettingsOverrides = {
  refreshJitterMs: 300,
  refreshRetryMaxIntervalMs: 500,
  revocationConfirmWindowMs: WINDOW_MS,
  revocationMinRefusals: MIN_REFUSALS,
  incidentRetryIntervalMs: 500,
  minTokenValidityMs: 1_000,
  // No transfers: the revocation probe mints (each describe sets how often; tokens are otherwise
  // minted just in time).
  transferIntervalsMs: {
    ordersImport: null,
    stockExport: null,
    pricesExport: null,
    returnsImport: null,
    shippingProfilesSync: null,
  },
};

/**
 * The breaker, scaled like the window: 3 distinct installations refused within 10 s, and at least 30 %
 * of those that minted within it. One seller among 50 is neither.
 */
const BREAKER: FleetBreakerOptions = { windowMs: 10_000, minRefusals: 3, ratio: 0.3 };

interface Seller {
  sellerId: string;
  partnerId: string;
  installationId: string;
  handle: SellerHandle;
}

/** The emulator's request log entry, with the fields `LoggedRequest` leaves out. */
type Logged = LoggedRequest & { installationId?: string; appId?: string; fault?: string };

const MINT_PATH = /^\/v1\/apps\/([^/]+)\/installations\/([^/]+)\/accessToken$/;

/** Installation-token mints since `since` (answered by OTTO or by an injected fault). */
async function mints(
  stack: TestStack,
  since: string,
): Promise<Array<{ at: number; appId: string; installationId: string; status: number }>> {
  const logged = (await stack.requests(since)) as Logged[];
  return logged.flatMap((r) => {
    const m = r.method === 'POST' ? MINT_PATH.exec(r.path) : null;
    return m
      ? [
          {
            at: Date.parse(r.at),
            appId: decodeURIComponent(m[1]!),
            installationId: decodeURIComponent(m[2]!),
            status: r.status,
          },
        ]
      : [];
  });
}

/** Refused mints per installation: how many, and over how long. */
function refusalSpans(refused: Array<{ at: number; installationId: string }>) {
  const spans = new Map<string, { first: number; last: number; count: number }>();
  for (const r of refused) {
    const s = spans.get(r.installationId);
    if (!s) spans.set(r.installationId, { first: r.at, last: r.at, count: 1 });
    else {
      s.first = Math.min(s.first, r.at);
      s.last = Math.max(s.last, r.at);
      s.count += 1;
    }
  }
  return spans;
}

/** Connects `n` sellers, a few at a time (the token endpoint's rate limit paces onboarding anyway). */
async function connectFleet(stack: TestStack, n: number, concurrency = 8): Promise<Seller[]> {
  const sellers: Seller[] = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next += 1;
      const { sellerId, handle, partner, status } = await stack.connectSeller(uniqueName('fleet'));
      sellers.push({
        sellerId,
        partnerId: partner.partnerId,
        installationId: status.installationId!,
        handle,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  return sellers;
}

async function statuses(stack: TestStack, sellers: Seller[]): Promise<ConnectionStatus[]> {
  return await Promise.all(sellers.map((s) => stack.status(s.handle)));
}

/** A one-line view of a fleet's states, for failure messages. */
function summary(list: ConnectionStatus[]): string {
  const counts = new Map<string, number>();
  for (const s of list) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${state}: ${n}`).join(', ');
}

/** Fails at once (not at the timeout) when any seller was revoked. */
function noneRevoked(list: ConnectionStatus[], sellers: Seller[]): ConnectionStatus[] {
  const revoked = list.filter((s) => s.state === 'revoked');
  if (revoked.length > 0) {
    const detail = revoked.map((s) => ({
      sellerId: s.sellerId,
      lastError: s.lastError,
      health: s.health,
      events: s.events.slice(-8),
    }));
    throw new Error(
      `${revoked.length} of ${sellers.length} sellers were revoked: ${JSON.stringify(detail, null, 2)}`,
    );
  }
  return list;
}

/** OTTO's refusals of a mint (docs/otto-api.md §4: 401/403/404; a 429 or 5xx is no refusal). */
const REFUSED = new Set([401, 403, 404]);

const degradedByIncident = (s: ConnectionStatus) =>
  s.state === 'degraded' && typeof s.health.incident === 'string' && s.health.incident.length > 0;

/** …and the seller's lastError is that incident (a transient timeout may stand there for a moment). */
const namesIncident = (s: ConnectionStatus) =>
  degradedByIncident(s) && s.lastError !== null && s.lastError.includes(s.health.incident!);

const healthy = (s: ConnectionStatus) =>
  s.state === 'active' &&
  s.health.incident === null &&
  s.health.revocationSuspectedAt === null &&
  s.health.failing.length === 0;

/** Each seller's token was minted again after `since` (the fleet refreshes on its own rhythm). */
async function waitForRefreshes(stack: TestStack, sellers: Seller[], since: number, timeoutMs: number) {
  await eventually(
    () => statuses(stack, sellers),
    (list) =>
      list.every((s) => s.token.lastRefreshedAt !== null && Date.parse(s.token.lastRefreshedAt) > since),
    timeoutMs,
  );
}

describe('OTTO answers 404 to every mint for "30 minutes" (five confirmation windows)', () => {
  const FLEET = 12;
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({
      // A probe mint every 3 s per seller: everybody meets the outage within its first second or three.
      tokenTtlSeconds: 6,
      settings: { ...FAST, tokenRefreshMarginMs: 2_000, revocationProbeIntervalMs: 3_000 },
      fleetBreaker: BREAKER,
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('revokes nobody, names the incident on every seller, and all are active again once it clears', async () => {
    const sellers = await connectFleet(stack, FLEET);
    // Steady state: every installation has minted at least once since the last seller connected.
    await waitForRefreshes(stack, sellers, Date.now(), 20_000);

    const outageAt = new Date().toISOString();
    const { id: faultId } = await stack.admin<{ id: string }>('POST', '/faults', {
      method: 'POST',
      pathPattern: '/accessToken$',
      status: 404,
    });

    // Every seller degraded with the incident named, and nobody revoked on the way.
    const during = await eventually(
      async () => noneRevoked(await statuses(stack, sellers), sellers),
      (list) => list.every(namesIncident),
      20_000,
    );
    for (const s of during) expect(s.health.incident).toMatch(/OTTO refuses minting|incident|outage/i);
    console.log(
      `[revocation-evidence] outage: ${summary(during)}; incident: ${during[0]!.health.incident}; lastError: ${during[0]!.lastError}`,
    );

    // The outage goes on until it is "30 minutes" long and every seller's mints were refused often
    // enough, across long enough, to have revoked it twice over if refusals alone decided.
    await eventually(
      async () => {
        noneRevoked(await statuses(stack, sellers), sellers);
        return refusalSpans((await mints(stack, outageAt)).filter((m) => REFUSED.has(m.status)));
      },
      (spans) =>
        Date.now() - Date.parse(outageAt) >= OUTAGE_MS &&
        sellers.every((s) => {
          const span = spans.get(s.installationId);
          return span !== undefined && span.count >= MIN_REFUSALS && span.last - span.first >= 2 * WINDOW_MS;
        }),
      OUTAGE_MS + 20_000,
    );
    const atEnd = noneRevoked(await statuses(stack, sellers), sellers);
    expect(
      atEnd.filter((s) => !degradedByIncident(s)).map((s) => [s.sellerId, s.state, s.lastError]),
    ).toEqual([]);

    // OTTO is back: everybody mints again and is active, the incident and the suspicion cleared.
    const clearedAt = Date.now();
    await stack.admin('DELETE', `/faults/${faultId}`);
    const after = await eventually(
      async () => noneRevoked(await statuses(stack, sellers), sellers),
      (list) => list.every(healthy),
      30_000,
    );
    for (const s of after) {
      expect(Date.parse(s.token.lastRefreshedAt!)).toBeGreaterThan(clearedAt);
      expect(s.lastError).toBeNull();
    }
  }, 120_000);
});

/**
 * The stack's workers, built here: a deploy with another OTTO_APPS needs other activity dependencies
 * (TestStack.restartWorkers changes only the settings defaults).
 */
class OwnWorkers {
  private constructor(
    private readonly workers: Worker[],
    private readonly running: Promise<void>,
    /** The worker's own Prometheus metrics (what WORKER_APP_METRICS_PORT serves). */
    readonly metrics: WorkerMetrics,
  ) {}

  static async start(stack: TestStack, apps: OttoApp[]): Promise<OwnWorkers> {
    const metrics = createWorkerMetrics({ defaultMetrics: false });
    const workers = await createWorkers({
      connection: stack.env.nativeConnection,
      taskQueue: stack.taskQueue,
      tokenTaskQueue: stack.tokenTaskQueue,
      tokenActivitiesPerSecond: 50,
      workflowBundle: { code: workflowBundleCode() },
      deps: {
        sealer: stack.sealer,
        apps,
        authBaseUrl: stack.emulatorUrl,
        apiBaseUrl: stack.emulatorUrl,
        redirectUri: REDIRECT_URI,
        store: stack.store,
        tokenSafetyMarginMs: 500,
        fleetBreaker: BREAKER,
        metrics,
      },
      settings: { tokenTaskQueues: [stack.tokenTaskQueue] },
    });
    return new OwnWorkers(workers, runWorkers(workers), metrics);
  }

  async stop(): Promise<void> {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await this.running;
  }
}

describe('a wrong appId in the workers’ OTTO_APPS', () => {
  const FLEET = 10;
  let stack: TestStack;
  let workers: OwnWorkers | undefined;

  beforeAll(async () => {
    stack = await TestStack.start({
      inProcessWorkers: false,
      tokenTtlSeconds: 6,
      settings: { ...FAST, tokenRefreshMarginMs: 2_000, revocationProbeIntervalMs: 3_000 },
    });
    workers = await OwnWorkers.start(stack, stack.apps);
  }, 60_000);

  afterAll(async () => {
    await workers?.stop();
    await stack?.close();
  });

  it('revokes nobody and says which appId OTTO refuses', async () => {
    const sellers = await connectFleet(stack, FLEET);

    // A deploy with the staging app's id in OTTO_APPS: every mint names an app OTTO does not match
    // with our developer token.
    const wrongApps = stack.apps.map((a) => ({ ...a, appId: `${a.appId}-staging` }));
    const wrongAppId = wrongApps.find((a) => a.version === 'v1')!.appId;
    await workers!.stop();
    workers = undefined;
    const deployedAt = new Date().toISOString();
    workers = await OwnWorkers.start(stack, wrongApps);

    const during = await eventually(
      async () => noneRevoked(await statuses(stack, sellers), sellers),
      (list) => list.every(namesIncident),
      LOST_TICK_MS + 20_000,
    );
    for (const s of during) {
      // A clear error: it names the app id OTTO refused and the setting that holds it.
      expect(s.health.incident).toContain(wrongAppId);
      expect(s.health.incident).toContain('OTTO_APPS');
    }
    // …and the worker's metrics say so.
    const metricsText = await workers.metrics.registry.metrics();
    expect(metricsText).toMatch(/^otto_connect_fleet_incident\{app_version="v1"\} 1$/m);
    expect(metricsText).toMatch(
      /^otto_connect_mint_refusals_total\{app_version="v1",outcome="fleet_incident"\} [1-9]\d*$/m,
    );
    console.log(
      `[revocation-evidence] wrong appId: ${summary(during)}; incident: ${during[0]!.health.incident}; lastError: ${during[0]!.lastError}`,
    );

    // Refusals that would have revoked everybody, twice over: still nobody revoked.
    await eventually(
      async () => {
        noneRevoked(await statuses(stack, sellers), sellers);
        return refusalSpans(
          (await mints(stack, deployedAt)).filter((m) => m.appId === wrongAppId && REFUSED.has(m.status)),
        );
      },
      (spans) =>
        sellers.every((s) => {
          const span = spans.get(s.installationId);
          return span !== undefined && span.count >= MIN_REFUSALS && span.last - span.first >= 2 * WINDOW_MS;
        }),
      30_000,
    );
    expect(noneRevoked(await statuses(stack, sellers), sellers).every(degradedByIncident)).toBe(true);

    // The configuration is fixed and the workers restarted: everybody is active again.
    await workers.stop();
    workers = undefined;
    workers = await OwnWorkers.start(stack, stack.apps);
    await eventually(
      async () => noneRevoked(await statuses(stack, sellers), sellers),
      (list) => list.every(healthy),
      LOST_TICK_MS + 30_000,
    );
  }, 200_000);
});

describe('a real revocation of one seller among 50', () => {
  const FLEET = 50;
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({
      // A probe mint every 9 s per seller: ~6 mints/s for the fleet, under the worker's 8/s token cap.
      tokenTtlSeconds: 12,
      settings: { ...FAST, tokenRefreshMarginMs: 3_000, revocationProbeIntervalMs: 9_000 },
      fleetBreaker: BREAKER,
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('revokes only that seller, once its refusals span the confirmation window', async () => {
    const sellers = await connectFleet(stack, FLEET);
    const victim = sellers[Math.floor(FLEET / 2)]!;
    const others = sellers.filter((s) => s !== victim);

    const revokeAt = new Date().toISOString();
    await stack.admin('POST', `/partners/${victim.partnerId}/revoke`, {});

    // Noticed at its next refresh (≤ 12 s), then confirmed by refusals spanning the window.
    const closed = await eventually(
      () => victim.handle.describe(),
      (d) => d.status.name !== 'RUNNING',
      12_000 + WINDOW_MS + CONFIRM_SLACK_MS + 10_000,
    );
    expect(closed.status.name).toBe('COMPLETED');
    expect((await victim.handle.result()).state).toBe('revoked');
    const revokedAt = closed.closeTime!.getTime();

    const since = await mints(stack, revokeAt);
    const refused = since.filter((m) => m.installationId === victim.installationId && REFUSED.has(m.status));
    expect(refused.length).toBeGreaterThanOrEqual(MIN_REFUSALS);
    const firstRefusal = Math.min(...refused.map((m) => m.at));
    // Not on the first refusal: only once refusals span the window; and then within the window + slack.
    expect(revokedAt - firstRefusal).toBeGreaterThanOrEqual(WINDOW_MS - 250);
    expect(revokedAt - firstRefusal).toBeLessThanOrEqual(WINDOW_MS + CONFIRM_SLACK_MS);
    console.log(
      `[revocation-evidence] revoked ${revokedAt - Date.parse(revokeAt)} ms after the revocation, ${revokedAt - firstRefusal} ms after the first of ${refused.length} refusals`,
    );

    // Nobody else was refused, suspected, degraded or revoked; the breaker never spoke.
    expect(since.filter((m) => m.installationId !== victim.installationId && REFUSED.has(m.status))).toEqual(
      [],
    );
    const rest = await statuses(stack, others);
    expect(rest.filter((s) => !healthy(s)).map((s) => [s.sellerId, s.state, s.health, s.lastError])).toEqual(
      [],
    );
  }, 150_000);
});
