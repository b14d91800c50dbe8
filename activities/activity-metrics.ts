/**
 * What activities report for metrics. The worker's composition root passes an implementation (Prometheus
 * counters); tests and tools may pass nothing.
 */

/**
 * How a refused installation-token mint was classified: evidence of this seller's revocation, an
 * incident of the whole app (fleet breaker open), or OTTO refusing the app's client credentials.
 */
export type MintRefusalOutcome = 'revocation_evidence' | 'fleet_incident' | 'client_refused';

export interface ActivityMetrics {
  tokenMint(result: 'ok' | 'failed' | 'revoked' | 'incident'): void;
  transfer(kind: string, result: 'ok' | 'failed' | 'skipped', items: number): void;
  /** One refused mint, by how it was classified (optional: older implementations may omit it). */
  mintRefusal?(appVersion: string, outcome: MintRefusalOutcome): void;
  /** The fleet breaker of an app opened (true) or closed (false). */
  fleetIncident?(appVersion: string, open: boolean): void;
}

export const noMetrics: Required<ActivityMetrics> = {
  tokenMint: () => undefined,
  transfer: () => undefined,
  mintRefusal: () => undefined,
  fleetIncident: () => undefined,
};
