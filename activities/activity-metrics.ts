/**
 * What activities report for metrics. The worker's composition root passes an implementation (Prometheus
 * counters); tests and tools may pass nothing.
 */
export interface ActivityMetrics {
  tokenMint(result: 'ok' | 'failed' | 'revoked'): void;
  transfer(kind: string, result: 'ok' | 'failed' | 'skipped', items: number): void;
}

export const noMetrics: ActivityMetrics = {
  tokenMint: () => undefined,
  transfer: () => undefined,
};
