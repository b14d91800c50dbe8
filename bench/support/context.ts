/** What every benchmark gets: the parameters of this run, the Temporal side and the (lazy) fleet. */
import { Fleet, type BenchEnv } from './harness';
import { log, percentile, round } from './report';

export interface BenchParams {
  mode: 'quick' | 'full';
  /** Sellers connected and measured by `lifecycle`. */
  lifecycleSellers: number;
  /** Active sellers for `steady`, `api` and `ceiling` (the fleet grows to this size once). */
  fleetSellers: number;
  /** Emulator token lifetime; all workflow timing is production timing × tokenTtlSeconds / 1800. */
  tokenTtlSeconds: number;
  /** Sellers going through consent at the same time. */
  onboardConcurrency: number;
  /** Pause after onboarding, so connection-time transfers are out of the steady-state window. */
  settleMs: number;
  /** Steady-state (and floor) measuring window. */
  windowMs: number;
  apiConcurrency: number;
  /** Per API path. */
  apiDurationMs: number;
}

export const QUICK: BenchParams = {
  mode: 'quick',
  lifecycleSellers: 100,
  fleetSellers: 500,
  tokenTtlSeconds: 120,
  onboardConcurrency: 20,
  settleMs: 10_000,
  windowMs: 60_000,
  apiConcurrency: 16,
  apiDurationMs: 10_000,
};

/** Real 30-minute tokens and real intervals; about two hours (onboarding 10,000 at ≤ 5/s alone takes ~35 min). */
export const FULL: BenchParams = {
  mode: 'full',
  lifecycleSellers: 1_000,
  fleetSellers: 10_000,
  tokenTtlSeconds: 1_800,
  onboardConcurrency: 40,
  settleMs: 120_000,
  windowMs: 900_000,
  apiConcurrency: 32,
  apiDurationMs: 60_000,
};

/** Snapshot of our fleet's schedule at the start of the steady window, so the floor replays the same load. */
export interface SteadyOutcome {
  sellers: number;
  windowMs: number;
  mintPeriodMs: number;
  /** Per seller: first mint and first run of each transfer kind, as offsets from the window start. */
  schedule: { mintPhaseMs: number; transfers: { intervalMs: number; phaseMs: number }[] }[];
  activitiesPerSecond: number;
  historyEventsPerSecond: number;
  workerCpuPercent: number;
  serverCpuPercent: number;
  workerCpuMsPerActivity: number;
}

export class BenchContext {
  steady: SteadyOutcome | undefined;
  readonly summary: Record<string, Record<string, unknown>> = {};
  private fleetPromise: Promise<Fleet> | undefined;
  private fleetInstance: Fleet | undefined;

  constructor(
    readonly params: BenchParams,
    readonly env: BenchEnv,
  ) {}

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
    if (missing > 0) {
      log(`connecting ${missing} more sellers (fleet → ${total}) …`);
      const started = Date.now();
      const samples = await fleet.onboard(missing, this.params.onboardConcurrency);
      const failed = samples.filter((s) => !s.ok);
      const lat = samples.filter((s) => s.ok).map((s) => s.activeAt - s.callbackAt);
      log(
        `  ${samples.length - failed.length} active in ${round((Date.now() - started) / 1000)} s ` +
          `(callback→active p50 ${percentile(lat, 50)} ms, p99 ${percentile(lat, 99)} ms), ${failed.length} failed` +
          (failed[0] ? ` (first: ${failed[0].error})` : ''),
      );
      if (fleet.sellers.length < total * 0.98)
        throw new Error(`only ${fleet.sellers.length} of ${total} sellers could be connected`);
    }
    return fleet;
  }

  async closeFleet(): Promise<void> {
    const fleet =
      this.fleetInstance ?? (this.fleetPromise ? await this.fleetPromise.catch(() => undefined) : undefined);
    this.fleetPromise = undefined;
    this.fleetInstance = undefined;
    if (fleet) await fleet.close();
  }
}
