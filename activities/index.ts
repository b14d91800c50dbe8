/**
 * `createActivities(deps)`: every activity, built with its dependencies injected (HTTP, sealing, apps).
 * Workflows import only the types.
 */
import { createTokenActivities, type TokenActivityDeps } from './token-activities';

export type ActivityDeps = TokenActivityDeps;

export function createActivities(deps: ActivityDeps) {
  return { ...createTokenActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
export { createTokenActivities, type TokenActivities } from './token-activities';
export { noMetrics, type ActivityMetrics } from './activity-metrics';
