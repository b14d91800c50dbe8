/**
 * The settings of a seller's run, resolved by the worker (issue 14 item 3): the workflow input carries
 * only the seller's overrides; at every run start (and on `applySettings`) the workflow calls the LOCAL
 * activity `resolveSettings`, which merges this worker's configuration with them. A deploy with new
 * defaults therefore reaches every seller at its next run, and the admin's apply-now reaches them at once.
 *
 * Effective settings = `workflowSettingsSchema.parse(defaults ⊕ { tokenTaskQueue: hashed } ⊕ overrides)`:
 * - the token task queue (one per egress IP) is chosen per seller by rendezvous hashing over the
 *   configured queues, so sellers spread evenly and adding or removing a queue moves only the sellers
 *   that must move; an override's `tokenTaskQueue` wins (pins a seller to an egress IP);
 * - `transferIntervalsMs` is merged per kind (an override of one kind keeps the others' defaults).
 * Every worker must be configured with the same defaults and queue list: any of them may resolve any seller.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { refreshMarginProblem, OTTO_TOKEN_LIFETIME_MS } from '../common/token-lifetime';
import {
  settingsOverridesSchema,
  workflowSettingsSchema,
  type SettingsOverrides,
  type WorkflowSettings,
  type WorkflowSettingsInput,
} from '../common/workflow-schemas';
import { FailureTypes, type ResolveSettingsInput } from '../workflows/definitions';

export interface SettingsActivityDeps {
  /** This deployment's settings (worker/config.ts `workflowSettingsDefaultsFrom`); unset ones keep the schema's defaults. */
  defaults: WorkflowSettingsInput;
  /** The token task queues (one per egress IP) sellers are spread over; at least one. */
  tokenTaskQueues: readonly string[];
  /** OTTO's token lifetime (30 min); the refresh margin must stay below half of it. */
  tokenLifetimeMs?: number;
  /**
   * This worker can send webhooks (WEBHOOK_URL set). Without, a seller's override cannot turn them on:
   * its events would wait in vain for a worker that can deliver them. Default true.
   */
  webhooksAvailable?: boolean;
}

/**
 * The seller's token task queue among `queues`: rendezvous (highest random weight) hashing, stable for a
 * given list, independent of the list's order, and moving only ~1/n of the sellers when a queue is added.
 */
export function tokenTaskQueueFor(sellerId: string, queues: readonly string[]): string {
  let best: string | undefined;
  let bestWeight = -1;
  for (const queue of queues) {
    const weight = createHash('sha256').update(queue).update('\0').update(sellerId).digest().readUIntBE(0, 6);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && queue < best)) {
      best = queue;
      bestWeight = weight;
    }
  }
  if (best === undefined) throw new Error('tokenTaskQueueFor needs at least one token task queue');
  return best;
}

/** Drops keys whose value is undefined, so they never overwrite a default. */
function defined<T extends object>(obj: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(obj ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureTypes.invalidInput, message, nonRetryable: true });
}

function issuesText(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/**
 * The pure merge behind `resolveSettings`. Throws a non-retryable ApplicationFailure (InvalidInput) when
 * the overrides or the merged settings are invalid, or the refresh margin is not below half the token life.
 */
export function resolveSettings(deps: SettingsActivityDeps, input: ResolveSettingsInput): WorkflowSettings {
  const raw: Record<string, unknown> = input.overrides ?? {};
  const overrides = settingsOverridesSchema.safeParse(raw);
  if (!overrides.success)
    throw invalidInput(
      `invalid settings overrides for seller ${input.sellerId}: ${issuesText(overrides.error.issues)}`,
    );
  // Only what the seller's overrides name: parsing fills in the schema's defaults for the others
  // (zod applies a default inside .partial()), and those must not hide this worker's configuration.
  const named = Object.fromEntries(
    Object.entries(overrides.data).filter(([key]) => raw[key] !== undefined),
  ) as SettingsOverrides;
  const { transferIntervalsMs: overrideIntervals, ...overrideRest } = named;
  const { transferIntervalsMs: defaultIntervals, ...defaultRest } = deps.defaults;
  const merged: WorkflowSettingsInput = {
    ...defined(defaultRest),
    tokenTaskQueue: tokenTaskQueueFor(input.sellerId, deps.tokenTaskQueues),
    ...defined(overrideRest),
    transferIntervalsMs: { ...defined(defaultIntervals), ...defined(overrideIntervals) },
  };
  const parsed = workflowSettingsSchema.safeParse(merged);
  if (!parsed.success)
    throw invalidInput(`invalid settings for seller ${input.sellerId}: ${issuesText(parsed.error.issues)}`);
  const problem = refreshMarginProblem(
    parsed.data.tokenRefreshMarginMs,
    deps.tokenLifetimeMs ?? OTTO_TOKEN_LIFETIME_MS,
  );
  if (problem) throw invalidInput(`invalid settings for seller ${input.sellerId}: ${problem}`);
  return deps.webhooksAvailable === false ? { ...parsed.data, webhooksEnabled: false } : parsed.data;
}

/**
 * The settings activities, registered on the WORKFLOW worker (the workflow runs them as local
 * activities). The defaults are checked once here, so a worker with impossible settings does not start.
 */
export function createSettingsActivities(deps: SettingsActivityDeps) {
  if (deps.tokenTaskQueues.length === 0)
    throw new Error('createSettingsActivities needs at least one token task queue');
  const defaults = workflowSettingsSchema.safeParse(deps.defaults);
  if (!defaults.success)
    throw new Error(`invalid workflow settings defaults: ${issuesText(defaults.error.issues)}`);
  const problem = refreshMarginProblem(
    defaults.data.tokenRefreshMarginMs,
    deps.tokenLifetimeMs ?? OTTO_TOKEN_LIFETIME_MS,
  );
  if (problem) throw new Error(`invalid workflow settings defaults: ${problem}`);
  const frozen: SettingsActivityDeps = { ...deps, tokenTaskQueues: [...deps.tokenTaskQueues] };
  return {
    /** The effective settings of one seller's run: this worker's configuration plus the seller's overrides. */
    async resolveSettings(input: ResolveSettingsInput): Promise<WorkflowSettings> {
      return await Promise.resolve(resolveSettings(frozen, input));
    },
  };
}

export type SettingsActivities = ReturnType<typeof createSettingsActivities>;
