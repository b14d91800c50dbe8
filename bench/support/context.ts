/** What every benchmark gets: the parameters of this run, the Temporal side and the (lazy) fleet. */
import { formatGoalTable, type GoalId, type GoalRow } from './goals';
import { Fleet, OTTO_TOKEN_CAP_PER_SECOND, type BenchEnv } from './harness';
import { isTokenCall, perSecond, requestsSince } from './otto-log';
import { log, percentile, round } from './report';

export interface BenchParams {
  mode: 'quick' | 'full' | 'scale';
  /** Sellers connected and measured by `lifecycle` (a stream, `onboardConcurrency` at a time). */
  lifecycleSellers: number;
  /** `lifecycle`: consents started at the same moment (the callback → active goal), after the stream. */
  burstConsents: number;
  /** `lifecycle`: consents one at a time, alone, after the burst (the single-consent goal). */
  singleConsents: number;
  /** Active sellers for `steady`, `api` and `ceiling` (the fleet grows to this size once). */
  fleetSellers: number;
  /** Emulator token lifetime; all workflow timing is production timing × tokenTtlSeconds / 1800. */
  tokenTtlSeconds: number;
  /** Sellers going through consent at the same time. */
  onboardConcurrency: number;
  /** Growing the fleet starts no new consent after this long (the scale run measures what it has then). */
  onboardBudgetMs: number;
  /**
   * Onboarding admits a consent only while the token task queue keeps up (its backlog at most this many
   * mints), as a shop rolling out a wave of sellers should: the connected sellers' mints never queue
   * behind the newcomers'. Null: as fast as `onboardConcurrency` allows (lifecycle measures that).
   */
  onboardMaxTokenBacklog: number | null;
  /**
   * Pause after onboarding, so connection-time transfers are out of the steady-state window; at least two
   * of the shortest transfer interval (each seller's first token cycle, with the mint phase spread's one
   * early mint, ends before the window), and until the token queue's backlog is gone.
   */
  settleMs: number;
  /** Steady-state (and floor) measuring window (wall clock). */
  windowMs: number;
  /** Sellers whose histories are read for lateness and for what the workflow runs (a spread sample). */
  historySample: number;
  /** Status API: requests per second, open loop (sent on schedule whatever the answers). */
  statusRatePerSecond: number;
  /** List API: pages per second, open loop. */
  listRatePerSecond: number;
  /** Per API path. */
  apiDurationMs: number;
  /** `idle`: sellers per cohort (paused; hourly transfers only), on their own faster-clock fleet. */
  idleSellers: number;
  /** `idle`: token lifetime of that fleet (its time acceleration is 1800 / this). */
  idleTokenTtlSeconds: number;
  /** `idle`: measuring window, in multiples of the (accelerated) hour. */
  idleHours: number;
  /** `memory`: cached seller workflows measured. */
  memorySellers: number;
}

const COMMON = {
  burstConsents: 20,
  singleConsents: 5,
  historySample: 200,
  statusRatePerSecond: 200,
  listRatePerSecond: 10,
  idleSellers: 10,
  idleTokenTtlSeconds: 15,
  idleHours: 3,
} as const;

export const QUICK: BenchParams = {
  ...COMMON,
  mode: 'quick',
  lifecycleSellers: 100,
  fleetSellers: 500,
  tokenTtlSeconds: 120,
  onboardConcurrency: 20,
  onboardBudgetMs: 1_800_000,
  onboardMaxTokenBacklog: 4,
  settleMs: 10_000,
  windowMs: 60_000,
  apiDurationMs: 10_000,
  memorySellers: 500,
};

/** Real 30-minute tokens and real intervals; about two hours (onboarding 10,000 at ≤ 5/s alone takes ~35 min). */
export const FULL: BenchParams = {
  ...COMMON,
  mode: 'full',
  lifecycleSellers: 1_000,
  fleetSellers: 10_000,
  tokenTtlSeconds: 1_800,
  onboardConcurrency: 40,
  onboardBudgetMs: 7_200_000,
  onboardMaxTokenBacklog: 4,
  settleMs: 120_000,
  windowMs: 900_000,
  historySample: 500,
  apiDurationMs: 60_000,
  idleSellers: 20,
  memorySellers: 2_000,
};

/**
 * The 17,000-seller equivalent: 1,700 sellers at time ×10 (180-second tokens, every interval ÷ 10) make
 * the token-endpoint traffic, timers and activities of 17,000 real sellers; the window is 45 minutes of
 * accelerated time (4.5 minutes of wall clock: one mint cycle with token reuse, so every seller's mint is
 * counted once). Onboarding 1,700 (one code exchange each) under the worker's 8 token requests/s takes
 * ≥ 210 s by itself.
 */
export const SCALE: BenchParams = {
  ...QUICK,
  mode: 'scale',
  fleetSellers: 1_700,
  tokenTtlSeconds: 180,
  onboardConcurrency: 20,
  onboardBudgetMs: 1_500_000,
  settleMs: 20_000,
  windowMs: 270_000,
  historySample: 400,
  apiDurationMs: 10_000,
  memorySellers: 1_000,
};

/** Snapshot of our fleet's schedule at the start of the steady window, so the floor replays the same load. */
export interface SteadyOutcome {
  sellers: number;
  windowMs: number;
  timeScale: number;
  /**
   * Our workflow runs every transfer due at a tick as ONE activity (`runTick`, minting inside it only
   * when the token will not last): detected from the histories. Otherwise: a refresh timer and mint
   * activity, and one activity per transfer.
   */
  tickMode: boolean;
  /** Time between two refresh mints (timer-refreshing workflow): token lifetime − margin. */
  mintPeriodMs: number;
  /** Token lifetime (tick mode: a tick mints when the token will not last `reserveMs` more). */
  tokenLifetimeMs: number;
  reserveMs: number;
  /**
   * Per seller: first mint, its token's expiry and the first run of each transfer kind, as offsets from
   * the window start.
   */
  schedule: {
    mintPhaseMs: number;
    tokenExpiresInMs: number;
    transfers: { intervalMs: number; phaseMs: number }[];
  }[];
  activitiesPerSecond: number;
  historyEventsPerSecond: number;
  workerCpuPercent: number;
  serverCpuPercent: number;
  workerCpuMsPerActivity: number;
  /** Worker CPU per (real-time) seller-hour, ms: comparable with the floor's whatever the activity count. */
  workerCpuMsPerSellerHour: number;
  /** Worker CPU over the window by thread group (ms; report.ts threadCpuMs). */
  workerCpuByThreadMs: Record<string, number>;
  /** Worker RSS after the window above the idle workers, per seller (KB): the memory row the floor mirrors. */
  rssAboveIdleWorkersPerSellerKB: number;
  /** Worker RSS after the window since before the workers, per seller (KB). */
  rssGrowthPerSellerKB: number;
  /** The workflow threads' committed V8 heap growth since the idle workers, per seller (null: none). */
  threadHeapCommittedGrowthPerSellerKB: number | null;
}

/** Token-endpoint traffic while the fleet was being connected (OTTO's cap holds for onboarding too). */
export interface OnboardingTraffic {
  sellers: number;
  seconds: number;
  tokenRequests: number;
  peakTokenRequestsPerSecond: number;
  token429s: number;
}

export class BenchContext {
  steady: SteadyOutcome | undefined;
  readonly summary: Record<string, Record<string, unknown>> = {};
  /** Every figure measured in this run against its goal, in the order measured. */
  readonly goals: GoalRow[] = [];
  readonly onboarding: OnboardingTraffic[] = [];
  private fleetPromise: Promise<Fleet> | undefined;
  private fleetInstance: Fleet | undefined;
  /** The largest fleet size onboarding was tried for. */
  private grownTo = 0;

  constructor(
    readonly params: BenchParams,
    readonly env: BenchEnv,
  ) {}

  /** Time acceleration of the fleet: 1800 / tokenTtlSeconds. */
  get timeScale(): number {
    return 1800 / this.params.tokenTtlSeconds;
  }

  /** Records figures against their goals and prints them beside the goals. */
  record(benchmark: string, rows: GoalRow[]): void {
    if (rows.length === 0) return;
    this.goals.push(...rows);
    console.log(formatGoalTable(`${benchmark}: against the goals of issue 15`, rows));
  }

  /** Sets the floor of figures recorded earlier (the floor benchmark runs last). */
  setFloor(goal: GoalId, floor: string): void {
    for (const row of this.goals) if (row.goal === goal && row.floor === null) row.floor = floor;
  }

  async fleet(): Promise<Fleet> {
    this.fleetPromise ??= Fleet.start(this.env, { tokenTtlSeconds: this.params.tokenTtlSeconds }).then(
      (f) => {
        this.fleetInstance = f;
        return f;
      },
    );
    return await this.fleetPromise;
  }

  /** Grows the fleet to `total` active sellers (not measured as lifecycle, but logged). */
  async ensureSellers(total: number): Promise<Fleet> {
    const fleet = await this.fleet();
    const missing = total - fleet.sellers.length;
    // Once tried for this size (the scale run may go on with fewer), later benchmarks take what there is.
    if (missing > 0 && total > this.grownTo) {
      this.grownTo = total;
      log(`connecting ${missing} more sellers (fleet → ${total}) …`);
      const started = Date.now();
      // Onboarding that cannot keep up (the token caps taken by the connected sellers' own mints) stops
      // instead of failing seller after seller: many failures, or the mode's time budget spent.
      const maxFailures = Math.max(20, Math.ceil(missing * 0.02));
      const maxBacklog = this.params.onboardMaxTokenBacklog;
      let gateWaitMs = 0;
      const samples = await fleet.onboard(missing, this.params.onboardConcurrency, {
        gate:
          maxBacklog === null
            ? undefined
            : sharedGate(async () => {
                gateWaitMs += await fleet.waitForTokenBacklog(maxBacklog, 60_000);
              }),
        onProgress: (done) => {
          if (done % 250 === 0)
            log(`  ${done} of ${missing} through consent (${round((Date.now() - started) / 1000)} s)`);
        },
        stop: ({ failed }) => {
          if (failed >= maxFailures) return `${failed} consents failed`;
          if (Date.now() - started > this.params.onboardBudgetMs)
            return `onboarding budget of ${this.params.onboardBudgetMs / 1000} s spent`;
          return undefined;
        },
      });
      const failed = samples.filter((s) => !s.ok);
      const lat = samples.filter((s) => s.ok).map((s) => s.activeAt - s.callbackAt);
      const traffic = await onboardingTraffic(fleet, started, samples.length - failed.length);
      this.onboarding.push(traffic);
      log(
        `  ${samples.length - failed.length} active in ${traffic.seconds} s ` +
          `(callback→active p50 ${percentile(lat, 50)} ms, p99 ${percentile(lat, 99)} ms), ${failed.length} failed` +
          (failed[0] ? ` (first: ${failed[0].error})` : ''),
      );
      if (maxBacklog !== null)
        log(
          `  paced by the token queue (a consent starts while at most ${maxBacklog} mints wait): ` +
            `${round(gateWaitMs / 1000)} s spent waiting for it`,
        );
      log(
        `  token endpoint meanwhile: ${traffic.tokenRequests} requests, peak ${traffic.peakTokenRequestsPerSecond} in any second ` +
          `(OTTO's cap ${OTTO_TOKEN_CAP_PER_SECOND}), ${traffic.token429s} answered 429`,
      );
      if (fleet.sellers.length < total * 0.98) {
        const message = `only ${fleet.sellers.length} of ${total} sellers could be connected`;
        // The scale run goes on with what it has: how many sellers one box carries is its question.
        if (this.params.mode !== 'scale' || fleet.sellers.length < total * 0.25) throw new Error(message);
        log(`  ${message}: measuring those`);
      }
    }
    return fleet;
  }

  async closeFleet(): Promise<void> {
    const fleet =
      this.fleetInstance ?? (this.fleetPromise ? await this.fleetPromise.catch(() => undefined) : undefined);
    this.fleetPromise = undefined;
    this.fleetInstance = undefined;
    this.grownTo = 0;
    if (fleet) await fleet.close();
  }
}

async function onboardingTraffic(fleet: Fleet, since: number, sellers: number): Promise<OnboardingTraffic> {
  const tokenCalls = (await requestsSince(fleet.emulator, since)).filter(isTokenCall);
  return {
    sellers,
    seconds: round((Date.now() - since) / 1000, 1),
    tokenRequests: tokenCalls.length,
    peakTokenRequestsPerSecond: Math.max(0, ...perSecond(tokenCalls).values()),
    token429s: tokenCalls.filter((r) => r.status === 429).length,
  };
}

/**
 * One check for every caller at a time: concurrent consents waiting at the gate share the check in
 * flight (one describe call per poll, not one per waiting consent).
 */
function sharedGate(check: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> | null = null;
  return async () => {
    inFlight ??= check().finally(() => (inFlight = null));
    await inFlight;
  };
}
