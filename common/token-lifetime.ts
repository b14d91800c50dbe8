/**
 * How long OTTO's installation (and developer) tokens live: 30 minutes (docs/otto-api.md §3), and the bound it
 * puts on the refresh margin. Pure: the worker's configuration, the settings activity and workflow code
 * may import it.
 */
export const OTTO_TOKEN_LIFETIME_MS = 30 * 60_000;

/**
 * The refresh margin must stay below half the token's life: with a margin ≥ half, each new token is due
 * for replacement before the previous one is half used (and a margin ≥ the life means a mint every time).
 */
export function refreshMarginProblem(
  marginMs: number,
  tokenLifetimeMs: number = OTTO_TOKEN_LIFETIME_MS,
): string | undefined {
  if (marginMs * 2 < tokenLifetimeMs) return undefined;
  return `the token refresh margin (${marginMs} ms) must be less than half the token's life (${tokenLifetimeMs / 2} ms of ${tokenLifetimeMs} ms)`;
}
