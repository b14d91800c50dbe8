/**
 * The one place that writes visibility queries over seller workflows (issue 14 item 2), shared by the
 * API's list and counts, the /metrics gauge, the benchmark and the tests. Pure: query strings built
 * from validated enums and ids, plus the pure "latest run per seller" pick; no Temporal client here.
 *
 * Each seller has one workflow id (`otto-seller:<sellerId>`) but many runs in visibility: every
 * continue-as-new closes a run with ExecutionStatus 'ContinuedAsNew', and a seller who reconnects after
 * an ended connection gets a new run next to the closed ones. "Each seller once" therefore means:
 *
 * - **Live states** (new … paused): the running run. At most one run per workflow id runs, but
 *   visibility is written after the fact and not in order: for a moment after a continue-as-new it may
 *   show the old run as running next to the new one (seen on the dev server, about once in 2,700 lists
 *   of two sellers continuing as new every few seconds). A list page keeps the run started last
 *   (api/seller-connections.ts); across pages, and in `count()`, such a seller may show twice for that
 *   moment, and while the old run shows closed before the new one shows at all, not at all.
 * - **Ended states** (revoked, disconnected, consent_expired): the seller's latest closed run, and only
 *   when it is the seller's newest run. Visibility cannot group by workflow id, so it takes two steps:
 *   1. {@link endedRunsQuery}: closed runs in the ended state(s), never 'ContinuedAsNew' (such a run
 *      was not an end) — the candidates, possibly several per seller;
 *   2. {@link runsOfWorkflowsQuery} for the candidates' workflow ids (in batches of
 *      {@link WORKFLOW_ID_BATCH}): all their runs except continued-as-new ones that closed before the
 *      oldest candidate; {@link latestRun} keeps each seller's newest (a running run beats any closed
 *      one, then the latest close time). A candidate seller counts only if that newest run is closed in
 *      the asked state(s): a reconnected seller (now running) or one whose later run ended otherwise
 *      drops out. So does one whose newest is a later run that continued as new: visibility may show
 *      that run closed a moment before it shows its successor, and the seller is live, not ended.
 *   Cost: one paged scan of the closed ended-state runs still in the namespace's retention, plus one
 *   query per {@link WORKFLOW_ID_BATCH} distinct candidate sellers. Proportional to recently ended
 *   runs, not to the fleet; the gauge caches it (15 s).
 *
 * **Paged lists** (`GET /api/connections`, issue 15) walk the {@link listPhases}: the running runs
 * (one Temporal page at a time), then the ended candidates, each page of candidates checked with step 2
 * and kept by {@link newestCandidates}: a candidate counts only if it *is* its seller's newest run. So a
 * seller with several ended runs is listed once (at its newest run) without remembering anything
 * between pages, and a page of the list ends exactly where a page of Temporal's ends: the cursor is
 * Temporal's own page token (api/list-cursor.ts).
 *
 * A run that closed in a live state (terminated, failed or timed out by hand, not by the workflow) is
 * in neither set: it is not a connection, and such runs are found with Temporal's own UI or CLI.
 */
import {
  CONNECTION_STATES,
  searchAttributes,
  sellerWorkflowId,
  WORKFLOW_TYPE,
  type ConnectionState,
} from './definitions';

/** States in which the workflow has ended: only closed runs carry them. */
export const ENDED_STATES = ['revoked', 'disconnected', 'consent_expired'] as const;
export type EndedState = (typeof ENDED_STATES)[number];
/** States of a running workflow. */
export const LIVE_STATES = CONNECTION_STATES.filter(
  (s): s is Exclude<ConnectionState, EndedState> => !(ENDED_STATES as readonly string[]).includes(s),
);
export type LiveState = (typeof LIVE_STATES)[number];

export function isEndedState(state: ConnectionState): state is EndedState {
  return (ENDED_STATES as readonly string[]).includes(state);
}

/** How many workflow ids go into one `WorkflowId IN (…)` check. */
export const WORKFLOW_ID_BATCH = 100;

/** Narrows every query: to one task queue (the benchmark, tests on the shared dev server), one seller. */
export interface VisibilityScope {
  taskQueue?: string;
  sellerId?: string;
}

/**
 * A visibility string literal. Values come from our enums, configuration or visibility itself; a quote
 * or backslash would change the query, so it is refused rather than escaped.
 */
function literal(value: string): string {
  if (/['"\\]/.test(value)) throw new Error(`refusing a visibility query value with quotes: ${value}`);
  return `'${value}'`;
}

function list(values: readonly string[]): string {
  return `(${values.map(literal).join(', ')})`;
}

function base(scope: VisibilityScope | undefined): string[] {
  const clauses = [`WorkflowType = ${literal(WORKFLOW_TYPE)}`];
  if (scope?.taskQueue !== undefined) clauses.push(`TaskQueue = ${literal(scope.taskQueue)}`);
  if (scope?.sellerId !== undefined)
    clauses.push(`WorkflowId = ${literal(sellerWorkflowId(scope.sellerId))}`);
  return clauses;
}

const STATE = searchAttributes.connectionState.name;

/**
 * The running seller workflows, other than this seller's, that hold an OTTO partner (its `OttoPartnerId`,
 * set when a connection is authorized): one OTTO account feeds one seller of the shop. A run whose
 * connection has ended (revoked, disconnected) but that still delivers its last webhooks holds none.
 */
export function partnerHoldersQuery(
  partnerId: string,
  exceptSellerId: string,
  scope?: Omit<VisibilityScope, 'sellerId'>,
): string {
  return [
    ...base(scope),
    `ExecutionStatus = 'Running'`,
    `${STATE} NOT IN ${list(ENDED_STATES)}`,
    `${searchAttributes.partnerId.name} = ${literal(partnerId)}`,
    `WorkflowId != ${literal(sellerWorkflowId(exceptSellerId))}`,
  ].join(' AND ');
}

/**
 * Running seller workflows, optionally in one live state: one run per seller, except for the moment a
 * seller continues as new (see the top of this file).
 */
export function runningQuery(state?: LiveState, scope?: VisibilityScope): string {
  const clauses = [...base(scope), `ExecutionStatus = 'Running'`];
  if (state !== undefined) clauses.push(`${STATE} = ${literal(state)}`);
  return clauses.join(' AND ');
}

/**
 * Step 1 for ended states: closed runs (not continued-as-new) in `state`, or in any ended state.
 * Candidates only — may hold several runs per seller and sellers that have since reconnected.
 */
export function endedRunsQuery(state?: EndedState, scope?: VisibilityScope): string {
  return [
    ...base(scope),
    `ExecutionStatus != 'Running'`,
    `ExecutionStatus != 'ContinuedAsNew'`,
    state === undefined ? `${STATE} IN ${list(ENDED_STATES)}` : `${STATE} = ${literal(state)}`,
  ].join(' AND ');
}

/**
 * Step 2: every run of these workflows, to find each one's newest; continued-as-new runs only when they
 * closed after `continuedAfter` (the oldest candidate's close: a long-lived seller has one a day, and
 * only a later one than the candidate can tell it apart).
 */
export function runsOfWorkflowsQuery(
  workflowIds: readonly string[],
  scope?: VisibilityScope,
  continuedAfter?: Date,
): string {
  if (workflowIds.length === 0) throw new Error('runsOfWorkflowsQuery needs at least one workflow id');
  const notContinued = `ExecutionStatus != 'ContinuedAsNew'`;
  return [
    ...base(scope),
    continuedAfter === undefined
      ? notContinued
      : `(${notContinued} OR CloseTime > ${literal(continuedAfter.toISOString())})`,
    `WorkflowId IN ${list(workflowIds)}`,
  ].join(' AND ');
}

/** The parts of a list, in the order they are listed. */
export type ListPhase = 'running' | 'ended';

/** Which parts a list with this state filter has: no filter lists running sellers, then ended ones. */
export function listPhases(state?: ConnectionState): ListPhase[] {
  if (state === undefined) return ['running', 'ended'];
  return isEndedState(state) ? ['ended'] : ['running'];
}

/** What {@link latestRun} needs of a visibility row (a WorkflowExecutionInfo fits). */
export interface RunInfo {
  workflowId: string;
  runId: string;
  status: { name: string };
  startTime: Date;
  closeTime?: Date;
}

/** Whether `a` is a newer run of its workflow than `b`: running first, then close time, then start time. */
function newer(a: RunInfo, b: RunInfo): boolean {
  const aRunning = a.status.name === 'RUNNING';
  const bRunning = b.status.name === 'RUNNING';
  if (aRunning !== bRunning) return aRunning;
  const aClose = a.closeTime?.getTime() ?? 0;
  const bClose = b.closeTime?.getTime() ?? 0;
  if (aClose !== bClose) return aClose > bClose;
  return a.startTime.getTime() > b.startTime.getTime();
}

/**
 * Each workflow's newest run among `runs`. A continued-as-new run counts like any closed run: when it is
 * the newest, its successor is not visible yet and the seller is live (callers treat it so).
 */
export function latestRun<T extends RunInfo>(runs: Iterable<T>): Map<string, T> {
  const latest = new Map<string, T>();
  for (const run of runs) {
    const known = latest.get(run.workflowId);
    if (known === undefined || newer(run, known)) latest.set(run.workflowId, run);
  }
  return latest;
}

/**
 * Step 2 of the ended states for one page of candidates: those that are their workflow's newest run
 * among `runs` (all runs of the candidates' workflows, {@link runsOfWorkflowsQuery}), in their order.
 * A seller that runs again, or whose newer run ended otherwise, drops out; so does every older
 * candidate of a seller, which is listed at its newest run only.
 */
export function newestCandidates<T extends RunInfo>(candidates: readonly T[], runs: Iterable<RunInfo>): T[] {
  // The candidates are runs too (visibility may not list a just-closed one in the second query yet).
  const latest = latestRun([...runs, ...candidates]);
  return candidates.filter((c) => latest.get(c.workflowId)?.runId === c.runId);
}
