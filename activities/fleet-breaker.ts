/**
 * The fleet breaker: tells one seller's revocation from an incident that refuses the whole fleet.
 *
 * OTTO documents no revocation signal (docs/otto-api.md §4): a refused installation-token mint (401/403/404)
 * is the only evidence that a seller removed the app. But an OTTO outage answering 404, or a wrong
 * appId in OTTO_APPS, refuses every installation of the app at once. So, per app, this keeps each
 * installation's latest mint outcome within a sliding window; it is OPEN while, within the window,
 *
 *   refused installations ≥ minRefusals  AND  refused installations / installations attempted ≥ ratio
 *
 * and closes by itself when that stops holding (installations mint again, or the refusals age out).
 * An installation counts by its latest outcome, so a seller that mints again after an outage stops
 * counting as refused at once. Pure (injected clock); one per worker process: each process sees the
 * mints it runs, which with the token queue's spread is a fair sample of the fleet.
 */
import { FLEET_BREAKER_DEFAULTS, type FleetBreakerOptions } from '../common/fleet-breaker-config';

export type { FleetBreakerOptions } from '../common/fleet-breaker-config';

export interface FleetBreakerStatus {
  appId: string;
  open: boolean;
  /** Distinct installations whose latest outcome within the window is a refusal. */
  refused: number;
  /** Distinct installations with any mint outcome within the window. */
  attempted: number;
  /** Set when this evaluation changed the state (exactly once per opening and per closing). */
  transition?: 'opened' | 'closed';
}

interface Outcome {
  at: number;
  refused: boolean;
}

export class FleetBreaker {
  private readonly windowMs: number;
  private readonly minRefusals: number;
  private readonly ratio: number;
  /** appId → installationId → latest outcome (Map keeps insertion order: re-inserted on update, oldest first). */
  private readonly outcomes = new Map<string, Map<string, Outcome>>();
  private readonly openApps = new Set<string>();

  constructor(
    options: FleetBreakerOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = options.windowMs ?? FLEET_BREAKER_DEFAULTS.windowMs;
    this.minRefusals = options.minRefusals ?? FLEET_BREAKER_DEFAULTS.minRefusals;
    this.ratio = options.ratio ?? FLEET_BREAKER_DEFAULTS.ratio;
    if (!(this.windowMs > 0)) throw new RangeError('fleet breaker: windowMs must be positive');
    if (!Number.isInteger(this.minRefusals) || this.minRefusals < 1)
      throw new RangeError('fleet breaker: minRefusals must be an integer ≥ 1');
    if (!(this.ratio > 0 && this.ratio <= 1)) throw new RangeError('fleet breaker: ratio must be in (0, 1]');
  }

  /** A mint for this installation was refused (401/403/404 after a fresh developer token). */
  recordRefusal(appId: string, installationId: string): FleetBreakerStatus {
    return this.record(appId, installationId, true);
  }

  /** A mint for this installation succeeded. */
  recordSuccess(appId: string, installationId: string): FleetBreakerStatus {
    return this.record(appId, installationId, false);
  }

  /** The app's state now (the window slides: this may close the breaker). */
  status(appId: string): FleetBreakerStatus {
    return this.evaluate(appId);
  }

  /** Apps whose breaker is open as of the last evaluation. */
  openAppIds(): string[] {
    return [...this.openApps];
  }

  private record(appId: string, installationId: string, refused: boolean): FleetBreakerStatus {
    let perApp = this.outcomes.get(appId);
    if (!perApp) {
      perApp = new Map();
      this.outcomes.set(appId, perApp);
    }
    perApp.delete(installationId);
    perApp.set(installationId, { at: this.now(), refused });
    return this.evaluate(appId);
  }

  private evaluate(appId: string): FleetBreakerStatus {
    const perApp = this.outcomes.get(appId);
    const since = this.now() - this.windowMs;
    let refused = 0;
    let attempted = 0;
    if (perApp) {
      // Oldest first: drop what fell out of the window, count the rest.
      for (const [installationId, outcome] of perApp) {
        if (outcome.at <= since) {
          perApp.delete(installationId);
          continue;
        }
        attempted++;
        if (outcome.refused) refused++;
      }
      if (perApp.size === 0) this.outcomes.delete(appId);
    }
    const open = refused >= this.minRefusals && attempted > 0 && refused / attempted >= this.ratio;
    const wasOpen = this.openApps.has(appId);
    const status: FleetBreakerStatus = { appId, open, refused, attempted };
    if (open && !wasOpen) {
      this.openApps.add(appId);
      status.transition = 'opened';
    } else if (!open && wasOpen) {
      this.openApps.delete(appId);
      status.transition = 'closed';
    }
    return status;
  }
}
