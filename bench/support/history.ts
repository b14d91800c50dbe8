/**
 * What the workflow histories of a sample of sellers say about a measured window: how late each scheduled
 * run started against its due time, what the workflow ran, and how many events it wrote.
 *
 * Lateness of a run = when the run started − when it was due, never below 0 (a run started early on
 * purpose is on time). "Due" is the due time of its transfers when the run's input names it (`dueAt` of
 * runTick: a tick may start early, to reuse its token or to get through the token queue's wait before
 * its due time, the mint lead); otherwise the timer's: the TimerStarted event's time plus its
 * startToFireTimeout. "Started" is the ActivityTaskStarted of the first activity the
 * workflow scheduled in reaction to the TimerFired (the workflow task completed right after it), i.e. the
 * moment a worker began the run — which includes the timer firing late, the workflow task waiting, and
 * the activity waiting in its task queue (e.g. behind the token queue's rate limit). A fired timer after
 * which the workflow scheduled nothing counts with the completion of that workflow task. This is the
 * refresh lateness of just-in-time tokens (the token is minted inside the run) and, for a workflow that
 * refreshes on a timer, the lateness of its refresh. Only the current run of each workflow is read.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { mapLimit } from './report';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

interface LongLike {
  toString(): string;
}
const num = (v: number | LongLike | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : Number(v.toString());

function tsMs(ts: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  if (!ts) return Number.NaN;
  return num(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function durationMs(d: { seconds?: number | LongLike | null; nanos?: number | null } | null | undefined) {
  if (!d) return 0;
  return num(d.seconds) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
}

export interface HistorySample {
  sellers: number;
  /** Per fired timer in the window: run start − due (ms). */
  lateness: number[];
  /** Per fired timer in the window: TimerFired − due (ms), the server's own timer precision. */
  fireDelay: number[];
  timersFired: number;
  timersCancelled: number;
  workflowTasks: number;
  /** Activities scheduled in the window by type name, e.g. { runTick: 812, mintInstallationToken: 3 }. */
  activityTypes: Record<string, number>;
  /** The same over the whole of the current runs (what the workflow does at all, window or not). */
  activityTypesEver: Record<string, number>;
  /** Events with a time in the window (current runs only). */
  eventsInWindow: number;
}

export async function sampleHistories(
  client: Client,
  workflowIds: readonly string[],
  fromMs: number,
  toMs: number,
  concurrency = 8,
): Promise<HistorySample> {
  const out: HistorySample = {
    sellers: workflowIds.length,
    lateness: [],
    fireDelay: [],
    timersFired: 0,
    timersCancelled: 0,
    workflowTasks: 0,
    activityTypes: {},
    activityTypesEver: {},
    eventsInWindow: 0,
  };
  await mapLimit(workflowIds, concurrency, async (id) => {
    let events: HistoryEvent[];
    try {
      events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    } catch {
      return; // gone (terminated and deleted): not part of the sample
    }
    analyse(events, fromMs, toMs, out);
  });
  return out;
}

function analyse(events: HistoryEvent[], fromMs: number, toMs: number, out: HistorySample): void {
  const byId = new Map<number, HistoryEvent>();
  for (const e of events) byId.set(num(e.eventId), e);
  // ActivityTaskStarted by the scheduled event it belongs to.
  const startedAt = new Map<number, number>();
  for (const e of events) {
    const a = e.activityTaskStartedEventAttributes;
    if (a) startedAt.set(num(a.scheduledEventId), tsMs(e.eventTime));
  }
  // ActivityTaskScheduled by the workflow task completion that scheduled it.
  const scheduledBy = new Map<number, number[]>();
  /** Activity scheduled event id → the due time its input names (runTick `dueAt`). */
  const dueOf = new Map<number, number>();
  for (const e of events) {
    const a = e.activityTaskScheduledEventAttributes;
    if (!a) continue;
    const at = tsMs(e.eventTime);
    const name = a.activityType?.name ?? '?';
    out.activityTypesEver[name] = (out.activityTypesEver[name] ?? 0) + 1;
    if (at >= fromMs && at < toMs) out.activityTypes[name] = (out.activityTypes[name] ?? 0) + 1;
    const wft = num(a.workflowTaskCompletedEventId);
    const list = scheduledBy.get(wft) ?? [];
    list.push(num(e.eventId));
    scheduledBy.set(wft, list);
    const due = inputDueAt(a.input?.payloads?.[0]?.data);
    if (due !== undefined) dueOf.set(num(e.eventId), due);
  }
  events.forEach((e, index) => {
    const at = tsMs(e.eventTime);
    const inWindow = at >= fromMs && at < toMs;
    if (inWindow) out.eventsInWindow++;
    if (inWindow && e.workflowTaskCompletedEventAttributes) out.workflowTasks++;
    if (inWindow && e.timerCanceledEventAttributes) out.timersCancelled++;
    const fired = e.timerFiredEventAttributes;
    if (!fired || !inWindow) return;
    const started = byId.get(num(fired.startedEventId));
    const timeout = started?.timerStartedEventAttributes?.startToFireTimeout;
    if (!started || !timeout) return;
    const due = tsMs(started.eventTime) + durationMs(timeout);
    out.timersFired++;
    out.fireDelay.push(at - due);
    // The workflow task that reacted: the first completion after the fire.
    let reaction: HistoryEvent | undefined;
    for (let i = index + 1; i < events.length; i++)
      if (events[i]!.workflowTaskCompletedEventAttributes) {
        reaction = events[i];
        break;
      }
    if (!reaction) return; // not reacted to yet: the window's end
    const scheduled = scheduledBy.get(num(reaction.eventId)) ?? [];
    const runStarts = scheduled.map((id) => startedAt.get(id)).filter((t): t is number => t !== undefined);
    // Scheduled but not in the history yet (ActivityTaskStarted is written when the attempt ends): skip.
    if (scheduled.length > 0 && runStarts.length === 0) return;
    const ranAt = runStarts.length > 0 ? Math.min(...runStarts) : tsMs(reaction.eventTime);
    const dues = scheduled.map((id) => dueOf.get(id)).filter((d): d is number => d !== undefined);
    const runDue = dues.length > 0 ? Math.min(...dues) : due;
    out.lateness.push(Math.max(0, ranAt - runDue));
  });
}

/** `dueAt` of an activity input (JSON payload, e.g. runTick's), or undefined. */
function inputDueAt(data: Uint8Array | null | undefined): number | undefined {
  if (!data) return undefined;
  try {
    const input = JSON.parse(Buffer.from(data).toString('utf8')) as { dueAt?: unknown };
    return typeof input.dueAt === 'number' ? input.dueAt : undefined;
  } catch {
    return undefined;
  }
}

/** Up to `size` ids spread evenly over the list (every k-th), so early and late onboarded sellers both count. */
export function spreadSample<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  const step = items.length / size;
  return Array.from({ length: size }, (_, i) => items[Math.floor(i * step)]!);
}

/**
 * Where a consent's callback → `active` went, from its workflow's history (ms, each from the end of the
 * one before): the API's update to its acceptance (HTTP, gRPC, the workflow task that ran the update
 * handler), the code exchange waiting in its task queue, the code exchange itself (the worker's token
 * limiter and OTTO's token endpoint), and the workflow task that recorded `authorized` (the event's time
 * is that task's start). Null when the history has no completed code exchange.
 */
export interface ConsentTimeline {
  toUpdateAccepted: number;
  toExchangeScheduled: number;
  exchangeQueued: number;
  exchangeRan: number;
  toAuthorizedTask: number;
  /** When the code exchange's activity started (epoch ms), to line it up with OTTO's request log. */
  exchangeStartedAt: number;
}

export async function consentTimeline(
  client: Client,
  workflowId: string,
  callbackAt: number,
): Promise<ConsentTimeline | null> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduledIndex = events.findIndex(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'completeAuthorization',
  );
  const scheduled = events[scheduledIndex];
  // The callback's update: the last one accepted before the exchange (beginConsent's came earlier).
  const accepted = events
    .slice(0, Math.max(0, scheduledIndex))
    .reverse()
    .find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  if (!accepted || !scheduled) return null;
  const id = num(scheduled.eventId);
  const started = events.find((e) => num(e.activityTaskStartedEventAttributes?.scheduledEventId) === id);
  const completedIndex = events.findIndex(
    (e) => num(e.activityTaskCompletedEventAttributes?.scheduledEventId) === id,
  );
  const completed = events[completedIndex];
  const task = events.slice(completedIndex + 1).find((e) => e.workflowTaskStartedEventAttributes);
  if (!started || !completed || !task) return null;
  const t = [callbackAt, accepted, scheduled, started, completed, task].map((e) =>
    typeof e === 'number' ? e : tsMs(e.eventTime),
  );
  return {
    toUpdateAccepted: t[1]! - t[0]!,
    toExchangeScheduled: t[2]! - t[1]!,
    exchangeQueued: t[3]! - t[2]!,
    exchangeRan: t[4]! - t[3]!,
    toAuthorizedTask: t[5]! - t[4]!,
    exchangeStartedAt: t[3]!,
  };
}
