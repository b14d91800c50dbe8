/**
 * What activities report for metrics. The worker's composition root passes an implementation (Prometheus
 * counters); tests and tools may pass nothing.
 */

/**
 * How a refused installation-token mint was classified: evidence of this seller's revocation, an
 * incident of the whole app (fleet breaker open), or OTTO refusing the app's client credentials.
 */
export type MintRefusalOutcome = 'revocation_evidence' | 'fleet_incident' | 'client_refused';

/** One request to OTTO, as `ottoRequest` (activities/otto-http.ts) saw it. */
export interface OttoCall {
  /** The route pattern (`ottoEndpoint()`): `/v4/orders`, `/v1/apps/:appId/installation` …, never an id. */
  endpoint: string;
  method: string;
  /** The HTTP status (`"200"`, `"429"` …), `network_error` (refused, reset, timed out) or `cancelled`. */
  status: string;
  /** From sending the request to the end of reading the answer. */
  seconds: number;
}

export type WebhookDeliveryResult = 'delivered' | 'failed' | 'disabled';

export interface ActivityMetrics {
  tokenMint(result: 'ok' | 'failed' | 'revoked' | 'incident'): void;
  transfer(kind: string, result: 'ok' | 'failed' | 'skipped', items: number): void;
  /** One refused mint, by how it was classified (optional: older implementations may omit it). */
  mintRefusal?(appVersion: string, outcome: MintRefusalOutcome): void;
  /** The fleet breaker of an app opened (true) or closed (false). */
  fleetIncident?(appVersion: string, open: boolean): void;
  /** Every request to OTTO (token and data endpoints), by endpoint pattern and status, with its latency. */
  ottoCall?(call: OttoCall): void;
  /**
   * An installation token was minted for `installation` (an app and installation key, never a token) and
   * is valid until `expiresAt` (ms since epoch); it replaces the previous one this process minted for it.
   */
  tokenIssued?(installation: string, expiresAt: number): void;
  /** One webhook delivery attempt by result. */
  webhookDelivery?(result: WebhookDeliveryResult): void;
}

export const noMetrics: Required<ActivityMetrics> = {
  tokenMint: () => undefined,
  transfer: () => undefined,
  mintRefusal: () => undefined,
  fleetIncident: () => undefined,
  ottoCall: () => undefined,
  tokenIssued: () => undefined,
  webhookDelivery: () => undefined,
};
