/**
 * The fleet breaker's settings (activities/fleet-breaker.ts) as one zod env fragment the worker spreads
 * into its configuration, plus the mapping to the breaker's options. A refused installation-token mint
 * is evidence of one seller's revocation only while most of the fleet still mints: when many
 * installations of an app are refused within the window, it is an incident (OTTO outage, wrong appId).
 */
import { z } from 'zod';
import { durationMs } from './config';

export interface FleetBreakerOptions {
  /** The sliding window over which mint outcomes are counted (default 10 min). */
  windowMs?: number;
  /** At least this many distinct installations refused within the window … (default 5) */
  minRefusals?: number;
  /** … and at least this share of the distinct installations attempted within it (default 0.5). */
  ratio?: number;
}

export const FLEET_BREAKER_DEFAULTS: Required<FleetBreakerOptions> = {
  windowMs: 10 * 60_000,
  minRefusals: 5,
  ratio: 0.5,
};

export const fleetBreakerEnvSchema = z.object({
  /** How far back mint outcomes count ("10m", "90s" …). */
  FLEET_BREAKER_WINDOW: durationMs('10m'),
  /** Distinct refused installations (per app, per worker process) before an incident is possible. */
  FLEET_BREAKER_MIN_REFUSALS: z.coerce.number().int().min(1).default(FLEET_BREAKER_DEFAULTS.minRefusals),
  /** Share of the installations attempted within the window that must be refused (0 < ratio ≤ 1). */
  FLEET_BREAKER_RATIO: z.coerce
    .number()
    .gt(0, 'must be above 0 (a share of installations, e.g. 0.5)')
    .max(1, 'must be at most 1 (a share of installations, e.g. 0.5)')
    .default(FLEET_BREAKER_DEFAULTS.ratio),
});
export type FleetBreakerEnv = z.output<typeof fleetBreakerEnvSchema>;

/** The parsed variables as the options `createActivities(deps)` takes in `deps.fleetBreaker`. */
export function fleetBreakerOptions(env: FleetBreakerEnv): Required<FleetBreakerOptions> {
  return {
    windowMs: env.FLEET_BREAKER_WINDOW,
    minRefusals: env.FLEET_BREAKER_MIN_REFUSALS,
    ratio: env.FLEET_BREAKER_RATIO,
  };
}
