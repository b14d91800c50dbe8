/**
 * The interval data transfers (docs/otto-api.md §5–§6), one activity per kind, speaking OTTO's real models.
 *
 * Imports upsert every page before heartbeating their progress, so a retried activity resumes at the
 * last page. Exports send what changed since OTTO last acknowledged it plus every SKU OTTO refused
 * before, in OTTO-sized batches sorted by SKU; refusals (stock 207, failed price variations) are recorded
 * per SKU in the store and sent again next run, so the change cursor can move on while nothing refused
 * is forgotten. Writes are idempotent.
 *
 * Cursors (opaque to the workflow, JSON values only):
 * - ordersImport `{fromDate, parked?}`: the newest `lifecycleChangeDate` seen, but at most
 *   ORDERS_OVERLAP_MS before the run began (inclusive, so the boundary order and the overlap's come again
 *   as no-op upserts); `parked`: the ids of orders that did not match OTTO's model, read again by id.
 * - returnsImport `{"<pass>.since", "<pass>.seen"}`: per pass (`all`, or one per configured status), the
 *   newest `occurredTime` imported and the `positionItemId|status` keys seen at exactly that time.
 * - stockExport `{ackedSeq, lastFullAt}`, pricesExport `{ackedSeq}`: the store change number up to which
 *   everything was sent; what OTTO refused lives in the store's export failures, not in the cursor.
 * - shippingProfilesSync `{}`: the full list is read every time.
 *
 * Progress within a run (heartbeat details, zod-validated): a retried attempt resumes from its own
 * heartbeat details, a new schedule of the same run from `input.resume` (the progress an earlier schedule
 * handed back when it was cancelled or stopped for a new token). Progress records a hash of the cursor
 * and `full` it was made for (`basis`): progress for another cursor, or anything invalid, starts over.
 * A stop hands the last heartbeated progress back: `CancelledFailure(message, [progress])` on
 * cancellation, `details: [progress]` on TokenExpiring / TokenRejected. Every OTTO call carries the
 * activity's cancellation signal, and every wait ends early on cancellation.
 *
 * A saved position OTTO refuses (a 4xx other than 401, 408 and 429 to the first call made from it: an
 * orders `nextcursor` that expired, a price update task OTTO no longer knows) is dropped, once per
 * attempt: the import starts over from the cursor's fromDate, the export sends that batch again. The
 * detail says so. Without this, the progress a failed run hands back would fail every later run.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import type {
  ExportKind,
  Price,
  SellerStore,
  StockLevel,
  StoreOrder,
  StoreReturn,
  StoreShippingProfile,
} from '../store/seller-store';
import { encodeFeedCursor } from '../common/feed-cursor';
import { FailureTypes, type TransferInput, type TransferResult } from '../workflows/definitions';
import { noMetrics, type ActivityMetrics } from './activity-metrics';
import { waitWithHeartbeats } from './activity-waits';
import {
  describeRefusals,
  entryRefusals,
  priceRefusals,
  stockRefusals,
  type Refusals,
} from './export-refusals';
import { deriveOrderStatus } from './order-status';
import type { CallContext, OttoDataClient } from './otto-data-client';
import {
  linkHref,
  ordersPageLoose,
  partnerOrder,
  productProcessProgress,
  productProcessResult,
  quantitiesAnswer,
  returnsPage,
  shippingProfilesPage,
  type Link,
  type OttoPartnerOrder,
  type ProductProcessProgress,
} from './otto-data-models';
import { ottoAnswerOf } from './otto-errors';
import { parseApiErrors, type OttoHttpError } from './otto-http';

export const ORDERS_PAGE_LIMIT = 128; // OTTO default; max 128 or 256 (docs/otto-api.md §7.5)
export const STOCK_BATCH = 200; // OTTO: ≤ 200 SKUs per POST
export const PRICES_BATCH = 500; // OTTO: ≤ 500 per POST
export const RETURNS_PAGE_LIMIT = 50; // OTTO: ≤ 50
const MAX_PAGES = 10_000; // a loop guard, far above any real listing
/** How often the rest of a batch goes out again after OTTO refused entries of it by name (422). */
const MAX_RESENDS = 3;
/**
 * How many halvings one batch may spend finding the entries OTTO refused without naming them: about two
 * per level, so one bad entry among 500 is found (9 levels), and a refusal of everything costs a bounded
 * number of requests before the export fails.
 */
const MAX_UNNAMED_SPLITS = 24;

/** One batch's search for the entries OTTO refused without naming them (sendPart, sendBatch). */
interface UnnamedBudget {
  /** Halvings left. */
  splits: number;
  /** Entries refused without a name, and the first such refusal's text. */
  unnamed: number;
  why?: string;
  /** Entries OTTO took. */
  taken: number;
  /** A single entry was refused as too large (413). */
  tooLarge: boolean;
}

const newUnnamedBudget = (): UnnamedBudget => ({
  splits: MAX_UNNAMED_SPLITS,
  unnamed: 0,
  taken: 0,
  tooLarge: false,
});

/** OTTO refused the first look at a price update task saved by an earlier attempt (exportWithRefusals). */
class SavedTaskRefused extends Error {
  constructor(readonly answer: OttoHttpError) {
    super(`OTTO refused the saved update task: ${answer.message}`);
  }
}

export interface TransferActivityDeps {
  store: SellerStore;
  otto: OttoDataClient;
  metrics?: ActivityMetrics;
  /**
   * Returns: one pass over all statuses (no `status` filter, the default), or one pass per status
   * listed here (ANNOUNCED, ACCEPTED, REJECTED, MISDIRECTED): the worker's RETURN_STATUSES.
   */
  returnStatuses?: string[];
  /** Orders per page of /v4/orders (OTTO_ORDERS_PAGE_SIZE; default ORDERS_PAGE_LIMIT). */
  ordersPageSize?: number;
  /** Price update tasks: poll no sooner than this after the last look (default 500 ms) … */
  taskPollMinMs?: number;
  /** … and no later than this, whatever `pingAfter` says (default 30 s). */
  taskPollMaxMs?: number;
  /** Give up polling one task after this long (retryable: the retry polls the same task). Default 4 min, within the 5-min attempt. */
  taskPollTimeoutMs?: number;
  /**
   * A task still not done this long after its batch was posted is given up: its prices are recorded as
   * refused (sent again by the next run) and the export goes on. Default 30 min.
   */
  taskGiveUpMs?: number;
  /** Heartbeat at least this often while waiting (default 5 s). */
  heartbeatEveryMs?: number;
  now?: () => number;
}

// ---- helpers --------------------------------------------------------------------------------------

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function seqOf(cursor: TransferInput['cursor'], key: string): number {
  const v = cursor[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

const later = (a: string, b: string) => Date.parse(a) > Date.parse(b);
const sameTime = (a: string, b: string) => Date.parse(a) === Date.parse(b);

function withParam(path: string, name: string, value: string | number): string {
  const url = new URL(path, 'http://x');
  if (!url.searchParams.has(name)) url.searchParams.set(name, String(value));
  return `${url.pathname}${url.search}`;
}

/** Maps one OTTO PartnerOrder to the store's order, with the order status derived from its items. */
export function toStoreOrder(o: OttoPartnerOrder): StoreOrder {
  const lifecycle = o.orderLifecycleInformation.lifecycleChangeDate;
  const lastModified = o.lastModifiedDate ?? null;
  return {
    salesOrderId: o.salesOrderId,
    orderNumber: o.orderNumber,
    orderDate: o.orderDate,
    fulfillmentStatus: deriveOrderStatus(o.positionItems.map((p) => p.fulfillmentStatus)),
    changeDate: lastModified !== null && later(lastModified, lifecycle) ? lastModified : lifecycle,
    lifecycleChangeDate: lifecycle,
    lastModifiedDate: lastModified,
    positionItems: o.positionItems.map((p) => ({
      positionItemId: p.positionItemId,
      fulfillmentStatus: p.fulfillmentStatus,
      sku: p.product.sku,
      amount: p.itemValueGrossPrice.amount,
      currency: p.itemValueGrossPrice.currency,
      articleNumber: p.product.articleNumber,
      productTitle: p.product.productTitle,
      cancellationReason: p.cancellationReason ?? null,
    })),
    data: o,
  };
}

// ---- heartbeat progress -------------------------------------------------------------------------

/** Hash of what a run's progress is relative to: the cursor it started from and `full`. */
const basis = z.string().optional();

const ordersProgress = z.object({
  basis,
  /** Always an orders listing on OTTO's API (resolved against OTTO's origin like every path). */
  nextPath: z.string().startsWith('/v4/orders'),
  maxLifecycle: z.string().nullable(),
  count: z.number(),
  pages: z.number(),
  /** The orders inserted or changed so far (the first CHANGED_IDS_MAX), and the highest change number. */
  changedIds: z.array(z.string()).default([]),
  maxChangeSeq: z.number().default(0),
  /** When the run began (ms; the first attempt's): the next fromDate is at most ORDERS_OVERLAP_MS before it. */
  startedAt: z.number().optional(),
  /** Orders OTTO sent that do not match its model (by salesOrderId), and why (the first few), … */
  parked: z.array(z.string()).default([]),
  parkedWhy: z.array(z.string()).default([]),
  /** … and how many of them had no salesOrderId to read them again by. */
  unreadable: z.number().default(0),
});

/**
 * The next orders import reads again from this long before its run began, whatever the newest change
 * seen: OTTO lists orders by order date, so an order read early in a run that changes before the run
 * ends (or a change OTTO lists a little after its timestamp) lies before the newest change seen. The
 * re-read window's orders are no-op upserts (the store ignores what is not newer).
 */
export const ORDERS_OVERLAP_MS = 15 * 60_000;

/**
 * Orders kept aside because they do not match OTTO's model, read again by id each run (the cursor's
 * `parked`). More than this at once is no single bad order but a changed model: the import fails.
 */
export const PARKED_ORDERS_MAX = 100;

/** The ids a cursor keeps aside (a JSON list in the cursor's `parked`, which holds strings only). */
function parkedOf(cursor: TransferInput['cursor']): string[] {
  if (typeof cursor.parked !== 'string') return [];
  try {
    const ids: unknown = JSON.parse(cursor.parked);
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string' && id !== '') : [];
  } catch {
    return [];
  }
}

function issuesText(error: z.ZodError): string {
  return error.issues
    .slice(0, 2)
    .map((i) => `${i.path.join('.') || '(order)'}: ${i.message}`)
    .join('; ');
}

/** How many changed order ids an ordersImport result carries (the `orders.changed` webhook's ids). */
export const CHANGED_IDS_MAX = 100;

const cursorValue = z.union([z.string(), z.number(), z.null()]);
const returnsProgress = z.object({
  basis,
  pass: z.number().int().min(0),
  page: z.number().int().min(1),
  newestTime: z.string().nullable(),
  newestSeen: z.array(z.string()),
  cursor: z.record(z.string(), cursorValue),
  count: z.number(),
  pages: z.number(),
  skipped: z.number(),
});
type ReturnsProgress = z.infer<typeof returnsProgress>;

const exportProgress = z.object({
  basis,
  upTo: z.number(),
  /** Every SKU ≤ this one is done (batches go out sorted by SKU). */
  afterSku: z.string().nullable(),
  taken: z.number(),
  refused: z.number(),
  sample: z.array(z.object({ sku: z.string(), error: z.string() })),
  batches: z.number(),
  /** Prices: the update task of the batch in flight, so a retry polls it instead of posting again. */
  task: z
    .object({
      href: z.string(),
      skus: z.array(z.string()),
      /** When the batch was posted (ms); absent in progress saved before it was kept. */
      postedAt: z.number().optional(),
    })
    .nullable(),
});
type ExportProgress = z.infer<typeof exportProgress>;

const SEEN_MAX = 500;

/**
 * What a transfer needs from the activity it runs in: heartbeats, the cancellation signal, the log and
 * the progress saved by an earlier attempt. A transfer run as its own activity gets the activity's; a
 * transfer run inside a tick (activities/tick-activities.ts) gets one per kind from the tick.
 */
export interface RunContext {
  heartbeat(details?: unknown): void;
  readonly cancellationSignal: AbortSignal;
  readonly log: Pick<Context['log'], 'info' | 'warn'>;
  readonly heartbeatDetails: unknown;
}

const runScope = new AsyncLocalStorage<RunContext>();
const activityRunContexts = new WeakMap<Context, RunContext>();

/** Runs `fn` (one transfer) with `ctx` in place of the activity's own context. */
export function runWithContext<T>(ctx: RunContext, fn: () => Promise<T>): Promise<T> {
  return runScope.run(ctx, fn);
}

function current(): RunContext {
  const scoped = runScope.getStore();
  if (scoped !== undefined) return scoped;
  const ctx = Context.current();
  let run = activityRunContexts.get(ctx);
  if (run === undefined) {
    run = {
      heartbeat: (details) => ctx.heartbeat(details),
      cancellationSignal: ctx.cancellationSignal,
      log: ctx.log,
      heartbeatDetails: ctx.info.heartbeatDetails,
    };
    activityRunContexts.set(ctx, run);
  }
  return run;
}

/** The progress each running attempt heartbeated last (one context per attempt). */
const heartbeated = new WeakMap<RunContext, { progress: unknown }>();

/**
 * Heartbeats a copy (the SDK may serialize details later, after the caller has moved on) and keeps it
 * as the attempt's latest progress: what a cancellation or a token stop hands back to the workflow.
 */
function beat(details: unknown): void {
  const ctx = current();
  const copy = structuredClone(details);
  const latest = heartbeated.get(ctx);
  if (latest) latest.progress = copy;
  ctx.heartbeat(copy);
}

/** JSON with sorted keys, so equal cursors hash equally whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What progress is relative to: the cursor the run started from and whether it is a full resync. */
export function progressBasis(input: Pick<TransferInput, 'cursor' | 'full'>, extra?: unknown): string {
  return createHash('sha256')
    .update(stableJson({ cursor: input.cursor, full: input.full === true, extra }))
    .digest('base64url')
    .slice(0, 22);
}

/**
 * Where this attempt starts: its own heartbeat details (a retry of this schedule) or else
 * `input.resume` (an earlier schedule's progress), when valid and made for this cursor; else undefined.
 */
function startingPoint<S extends z.ZodType<{ basis?: string | undefined }>>(
  schema: S,
  input: TransferInput,
  extra?: unknown,
): z.output<S> | undefined {
  const ctx = current();
  const fromHeartbeat = ctx.heartbeatDetails !== undefined && ctx.heartbeatDetails !== null;
  const saved: unknown = fromHeartbeat ? ctx.heartbeatDetails : input.resume;
  if (saved === undefined || saved === null) return undefined;
  const parsed = schema.safeParse(saved);
  const source = fromHeartbeat ? 'heartbeat details' : 'resume';
  if (!parsed.success) {
    ctx.log.warn(`ignoring invalid ${source}: starting over`, {
      issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`),
    });
    return undefined;
  }
  const data = parsed.data;
  if (data.basis !== undefined && data.basis !== progressBasis(input, extra)) {
    ctx.log.info(`ignoring ${source} made for another cursor: starting over`);
    return undefined;
  }
  return data;
}

const STOPPED_FOR_TOKEN: readonly string[] = [FailureTypes.tokenExpiring, FailureTypes.tokenRejected];

export function createTransferActivities(deps: TransferActivityDeps) {
  const { store, otto } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const now = deps.now ?? Date.now;
  const pollMin = deps.taskPollMinMs ?? 500;
  const pollMax = deps.taskPollMaxMs ?? 30_000;
  const pollTimeout = deps.taskPollTimeoutMs ?? 4 * 60_000;
  const taskGiveUp = deps.taskGiveUpMs ?? 30 * 60_000;
  const ordersPageSize = deps.ordersPageSize ?? ORDERS_PAGE_LIMIT;
  const heartbeatEvery = deps.heartbeatEveryMs ?? 5_000;

  const callContext = (input: TransferInput, progress: () => unknown): CallContext => ({
    sellerId: input.sellerId,
    partnerId: input.partnerId,
    sealedToken: input.sealedToken,
    tokenExpiresAt: input.tokenExpiresAt,
    heartbeat: () => beat(progress()),
    signal: current().cancellationSignal,
  });

  /**
   * The answer when OTTO refused the request itself: a 4xx other than 401 (the token: re-minted
   * elsewhere), 408 (a timeout) and 429 (the rate). What a saved position OTTO no longer knows earns.
   */
  function refusedByOtto(err: unknown): OttoHttpError | undefined {
    const answer = ottoAnswerOf(err);
    if (answer === undefined || answer.status < 400 || answer.status > 499) return undefined;
    return [401, 408, 429].includes(answer.status) ? undefined : answer;
  }

  /** "404 Not Found: …" for a detail line. */
  function refusalText(answer: OttoHttpError): string {
    const why = answer.errorText ?? answer.reason;
    return `${answer.status}${why ? ` ${why.slice(0, 200)}` : ''}`;
  }

  /** OTTO's `next`/`self` links must stay on OTTO's origin, whether we follow them or not. */
  function checkLinks(links: readonly Link[]): void {
    for (const rel of ['next', 'self']) {
      const href = linkHref(links, rel);
      if (href !== undefined) otto.resolve(href);
    }
  }

  /** Waits `ms`, heartbeating `progress` regularly so the activity stays alive and resumable; ends on cancellation. */
  async function waitHeartbeating(ms: number, progress: () => unknown): Promise<void> {
    await waitWithHeartbeats(ms, {
      signal: current().cancellationSignal,
      heartbeat: () => beat(progress()),
      heartbeatEveryMs: heartbeatEvery,
    });
  }

  /**
   * The failure a stopped attempt ends with, carrying its last heartbeated progress for the next
   * schedule: a CancelledFailure when the activity was cancelled (whatever the abort made the call
   * throw), TokenExpiring / TokenRejected with `details: [progress]`; anything else unchanged.
   */
  function withProgress(kind: string, err: unknown, progress: unknown): unknown {
    const ctx = current();
    const details = progress === undefined ? [] : [progress];
    if (ctx.cancellationSignal.aborted) {
      const reason: unknown = ctx.cancellationSignal.reason;
      const why =
        reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'cancelled';
      return new CancelledFailure(
        `${kind} cancelled (${why}); ${progress === undefined ? 'no progress yet' : 'its progress resumes the next run'}`,
        details,
        err instanceof Error && !(err instanceof CancelledFailure) ? err : undefined,
      );
    }
    if (err instanceof ApplicationFailure && err.type && STOPPED_FOR_TOKEN.includes(err.type)) {
      return ApplicationFailure.create({
        type: err.type,
        message: err.message,
        nonRetryable: true,
        details,
        cause: err.cause,
      });
    }
    return err;
  }

  /**
   * Runs one transfer attempt, counts it, and records it in the store's transfer runs (the shop's
   * GET …/transfers). Recording is best effort: a store hiccup there never fails the transfer.
   */
  async function measured(
    kind: string,
    input: TransferInput,
    run: () => Promise<TransferResult>,
  ): Promise<TransferResult> {
    const latest = { progress: undefined as unknown };
    heartbeated.set(current(), latest);
    const startedAt = new Date(now()).toISOString();
    const record = async (result: 'ok' | 'failed', count: number, detail: string) => {
      try {
        await store.recordTransferRun(input.sellerId, {
          kind,
          startedAt,
          finishedAt: new Date(now()).toISOString(),
          result,
          count,
          detail,
        });
      } catch (err) {
        current().log.warn('could not record the transfer run', {
          kind,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    };
    try {
      const result = await run();
      metrics.transfer(kind, 'ok', result.count);
      await record('ok', result.count, result.detail);
      return result;
    } catch (err) {
      const stopped = withProgress(kind, err, latest.progress);
      // Cancelled is not failed: the next run resumes it (it is neither counted nor recorded as a run).
      if (!(stopped instanceof CancelledFailure)) {
        metrics.transfer(kind, 'failed', 0);
        await record('failed', 0, stopped instanceof Error ? stopped.message : String(stopped));
      }
      throw stopped;
    }
  }

  // ---- exports ------------------------------------------------------------------------------------

  /**
   * Sends, sorted by SKU and in OTTO-sized batches: what changed after the acknowledged change number
   * up to a snapshot taken first (everything when `full`), plus every SKU OTTO refused before. Each
   * batch's outcome goes to the store before the heartbeat, so a retry resumes after the last SKU done.
   * Changes after the snapshot go out next time.
   *
   * OTTO refusing a whole batch does not stop the export: a 413 (too large: OTTO may count differently)
   * halves the batch, down to single entries; a refusal whose errors name entries (`path` `/N/…` or the
   * SKU, as in a 207) records those as refused and sends the rest again (at most MAX_RESENDS times); one
   * that names none is halved until the refused entries are alone (MAX_UNNAMED_SPLITS halvings a batch;
   * what is left then is refused as a whole). When every entry of a batch ends up refused that way, the
   * request is the problem: prices and 413s fail the export, stock records its refusals.
   */
  async function exportWithRefusals<T extends StockLevel | Price>(
    input: TransferInput,
    how: {
      kind: ExportKind;
      all: () => Promise<T[]>;
      changes: (afterSeq: number, upToSeq: number) => Promise<T[]>;
      pending: () => Promise<T[]>;
      batchSize: number;
      /** Sends one batch; returns what OTTO refused. */
      send: (batch: T[], progress: ExportProgress) => Promise<Refusals>;
      /**
       * Prices: finishes an update task left in flight by a failed attempt. Throws SavedTaskRefused when
       * OTTO refuses the first look at it: the batch is then sent again.
       */
      resume?: (task: NonNullable<ExportProgress['task']>, progress: ExportProgress) => Promise<Refusals>;
      /**
       * Which answers refusing a whole batch are read entry by entry (besides 413), and what it means when
       * OTTO, halved down to single entries, refused every entry of a batch naming none: `fail` (the
       * request is the problem) or `refuse-batch` (each recorded as refused).
       */
      refusals: { statuses: readonly number[]; unnamed: 'refuse-batch' | 'fail' };
    },
  ): Promise<ExportProgress & { ackedSeq: number; restarted: string }> {
    const acked = seqOf(input.cursor, 'ackedSeq');
    // A retried or rescheduled export (a full resync too) goes on after the last SKU done, against the
    // same change snapshot; heartbeated at once, so every later attempt shares that snapshot.
    const progress: ExportProgress = startingPoint(exportProgress, input) ?? {
      basis: progressBasis(input),
      upTo: await store.currentChangeSeq(),
      afterSku: null,
      taken: 0,
      refused: 0,
      sample: [],
      batches: 0,
      task: null,
    };
    beat(progress);

    /** Records refused SKUs (and taken ones) in the store and in the progress. */
    const record = async (taken: string[], refusals: Refusals) => {
      const refused = [...refusals].map(([sku, error]) => ({ sku, error }));
      await store.recordExportOutcome(input.sellerId, how.kind, { taken, refused });
      progress.taken += taken.length;
      progress.refused += refused.length;
      progress.sample = [...progress.sample, ...refused].slice(0, 3);
    };
    const settle = async (skus: string[], refusals: Refusals) => {
      await record(
        skus.filter((s) => !refusals.has(s)),
        refusals,
      );
      progress.batches += 1;
      progress.afterSku = skus[skus.length - 1] ?? progress.afterSku;
      progress.task = null;
      beat(progress);
    };

    let restarted = '';
    if (progress.task && how.resume) {
      const task = progress.task;
      let refusals: Refusals | undefined;
      try {
        refusals = await how.resume(task, progress);
      } catch (err) {
        if (!(err instanceof SavedTaskRefused)) throw err;
        // The batch it was for is still after `afterSku`: it goes out again below, with today's values.
        restarted = `; OTTO refused the saved update task (${refusalText(err.answer)}), so its ${task.skus.length} ${how.kind === 'prices' ? 'price(s)' : 'SKU(s)'} were sent again`;
        current().log.warn(
          `${how.kind} export: OTTO refused the saved update task; sending its batch again`,
          {
            status: err.answer.status,
            error: refusalText(err.answer),
            skus: task.skus.length,
          },
        );
        progress.task = null;
        beat(progress);
      }
      if (refusals !== undefined) await settle(task.skus, refusals);
    }

    /**
     * Sends one batch, or a part of one. What OTTO refuses as a whole is split (413) or read per entry
     * (see above). A refusal that names no entry is narrowed down by halving (`budget.splits` halvings
     * per batch): one bad entry no longer takes its whole batch (and, for prices, every later run) with
     * it. `budget` counts the entries refused that way; anything else fails the export as before.
     */
    const sendPart = async (part: T[], resends: number, budget: UnnamedBudget): Promise<void> => {
      const skus = part.map((i) => i.sku);
      let refusals: Refusals;
      try {
        refusals = await how.send(part, progress);
      } catch (err) {
        // Only the POST of the batch itself (not a price task's polls) refuses the batch.
        const answer = ottoAnswerOf(err);
        if (
          answer === undefined ||
          answer.method !== 'POST' ||
          (answer.status !== 413 && !how.refusals.statuses.includes(answer.status))
        )
          throw err;
        if (answer.status === 413 && part.length > 1) {
          const half = Math.ceil(part.length / 2);
          current().log.warn(
            `${how.kind} export: OTTO answered 413 to ${part.length} entries; sending them in two halves`,
            { first: skus[0], error: refusalText(answer) },
          );
          await sendPart(part.slice(0, half), 0, budget);
          await sendPart(part.slice(half), 0, budget);
          return;
        }
        const { named } = entryRefusals(skus, answer.apiErrors);
        const why = `OTTO refused the batch (${refusalText(answer)})`;
        if (named.size === 0) {
          // Nothing tells the entries apart: halves, until the refused one is alone (or the budget is spent).
          if (part.length > 1 && budget.splits > 0) {
            budget.splits -= 1;
            const half = Math.ceil(part.length / 2);
            current().log.warn(
              `${how.kind} export: OTTO refused ${part.length} entries naming none; sending them in two halves to find the refused one`,
              { first: skus[0], error: refusalText(answer) },
            );
            await sendPart(part.slice(0, half), 0, budget);
            await sendPart(part.slice(half), 0, budget);
            return;
          }
          // Refused on its own (or what is left once the budget is spent): recorded, sent again next
          // run. Whether OTTO refused everything, entry by entry, is decided once the batch is done
          // (sendBatch).
          budget.unnamed += part.length;
          budget.why ??= why;
          if (answer.status === 413) budget.tooLarge = true;
          await settle(skus, new Map(skus.map((sku) => [sku, why.slice(0, 1_000)])));
          return;
        }
        const rest = part.filter((i) => !named.has(i.sku));
        if (rest.length === 0) {
          await settle(skus, named);
          return;
        }
        if (resends >= MAX_RESENDS) {
          // OTTO keeps refusing what is left: refused too (sent again next run), the export goes on.
          const refusedRest: Refusals = new Map(rest.map((i) => [i.sku, why.slice(0, 1_000)]));
          await settle(skus, new Map([...named, ...refusedRest]));
          return;
        }
        // Whether OTTO took the entries it did not name is undocumented: they go out again, without
        // the named ones (recorded now, so a stop before the rest is done loses none of them).
        await record([], named);
        beat(progress);
        await sendPart(rest, resends + 1, budget);
        return;
      }
      budget.taken += skus.length - refusals.size;
      await settle(skus, refusals);
    };

    /**
     * One batch. When OTTO refused every entry of it without naming any (halved down to single entries),
     * the refusal is not about the entries (our request, OTTO's endpoint): prices and 413s fail the export
     * as before, loudly, rather than record everything as refused run after run; stock records its refusals
     * (its documented 422s refuse per batch).
     */
    const sendBatch = async (batch: T[]): Promise<void> => {
      const budget = newUnnamedBudget();
      await sendPart(batch, 0, budget);
      const everyOne = budget.taken === 0 && budget.unnamed === batch.length && batch.length > 1;
      if (everyOne && (how.refusals.unnamed === 'fail' || budget.tooLarge)) {
        throw ApplicationFailure.create({
          type: FailureTypes.requestRejected,
          message: `OTTO refused every one of the ${batch.length} entries of a ${how.kind} batch, naming none (${budget.why ?? 'no reason given'}): the request, not an entry, is the problem; they are recorded as refused and sent again next run`,
          nonRetryable: true,
        });
      }
    };

    const bySku = new Map<string, T>();
    const items = input.full ? await how.all() : await how.changes(acked, progress.upTo);
    for (const item of [...(await how.pending()), ...items]) bySku.set(item.sku, item);
    const todo = [...bySku.values()]
      .filter((i) => progress.afterSku === null || i.sku > progress.afterSku)
      .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
    for (const batch of chunks(todo, how.batchSize)) await sendBatch(batch);
    return { ...progress, ackedSeq: Math.max(progress.upTo, acked), restarted };
  }

  function exportDetail(what: string, p: ExportProgress, extra = ''): string {
    const refused = describeRefusals(p.refused, p.sample);
    return `${p.taken} ${what} taken by OTTO${extra}${refused ? `; ${refused}` : ''}`;
  }

  /**
   * Polls a price update task until `state: done`, waiting `pingAfter` (bounded) between looks; null
   * when it is still not done `taskGiveUp` after `postedAt` (the caller gives its prices up as refused).
   */
  async function pollTask(
    input: TransferInput,
    href: string,
    postedAt: number,
    progress: ExportProgress,
    first?: ProductProcessProgress,
  ): Promise<ProductProcessProgress | null> {
    const started = now();
    let task =
      first ??
      (await otto.call(
        callContext(input, () => progress),
        { method: 'GET', path: href },
        productProcessProgress,
      ));
    while ((task.state ?? '').toLowerCase() !== 'done') {
      if (now() - postedAt >= taskGiveUp) return null;
      if (now() - started > pollTimeout) {
        throw ApplicationFailure.create({
          type: FailureTypes.ottoUnavailable,
          message: `OTTO's price update task is still "${task.state ?? 'unknown'}" after ${Math.round(pollTimeout / 1000)} s; the retry polls the same task`,
        });
      }
      const pingAt = task.pingAfter ? Date.parse(task.pingAfter) : NaN;
      const wait = Number.isNaN(pingAt) ? pollMin : Math.min(Math.max(pingAt - now(), pollMin), pollMax);
      await waitHeartbeating(wait, () => progress);
      task = await otto.call(
        callContext(input, () => progress),
        { method: 'GET', path: href },
        productProcessProgress,
      );
    }
    return task;
  }

  /** The batch's SKUs that OTTO's finished task lists as failed (GET …/failed), with OTTO's errors. */
  async function failedPrices(
    input: TransferInput,
    taskHref: string | undefined,
    task: ProductProcessProgress,
    skus: string[],
    progress: ExportProgress,
  ): Promise<Refusals> {
    const refusals: Refusals = new Map();
    if (task.failed === 0) return refusals;
    const failedHref =
      linkHref(task.links, 'failed') ??
      (taskHref !== undefined ? `${otto.resolve(taskHref).pathname}/failed` : undefined);
    // No count and no link says nothing about failures: the task's failed list is read anyway (§5.3
    // documents `…/failed`); only a 404 there, for a list OTTO never pointed to, counts as none.
    const guessed = task.failed == null && linkHref(task.links, 'failed') === undefined;
    let next = failedHref;
    for (let pages = 0; next !== undefined && pages < MAX_PAGES; pages++) {
      let page: z.output<typeof productProcessResult>;
      try {
        page = await otto.call(
          callContext(input, () => progress),
          { method: 'GET', path: next },
          productProcessResult,
        );
      } catch (err) {
        if (!(guessed && pages === 0 && ottoAnswerOf(err)?.status === 404)) throw err;
        current().log.warn(
          'price update task done without a failed count or link, and OTTO has no failed list for it: counting none failed',
          { task: taskHref },
        );
        break;
      }
      checkLinks(page.links);
      for (const [sku, error] of priceRefusals(skus, page.results)) refusals.set(sku, error);
      next = linkHref(page.links, 'next');
    }
    if (refusals.size === 0 && (task.failed ?? 0) > 0) {
      // OTTO counts failures but names none we sent: send the whole batch again rather than lose one.
      const why = `${task.failed} of ${skus.length} failed; OTTO's failed list named none`;
      for (const sku of skus) refusals.set(sku, why);
    }
    return refusals;
  }

  return {
    /**
     * OTTO → store: orders changed since the cursor, page by page; resumes at the last heartbeated page
     * (of this schedule, or of an earlier one handed back in `input.resume`).
     */
    async ordersImport(input: TransferInput): Promise<TransferResult> {
      return await measured('ordersImport', input, async () => {
        const fromDate = typeof input.cursor.fromDate === 'string' ? input.cursor.fromDate : null;
        const firstPath = `/v4/orders?limit=${ordersPageSize}${fromDate ? `&fromDate=${encodeURIComponent(fromDate)}` : ''}`;
        const saved = startingPoint(ordersProgress, input);
        const wasParked = parkedOf(input.cursor);
        let progress: z.output<typeof ordersProgress> = saved ?? {
          basis: progressBasis(input),
          nextPath: firstPath,
          maxLifecycle: fromDate,
          count: 0,
          pages: 0,
          changedIds: [],
          maxChangeSeq: 0,
          startedAt: now(),
          parked: [],
          parkedWhy: [],
          unreadable: 0,
        };
        const startedAt = progress.startedAt ?? now();
        /** Orders stored: counted, and their changes remembered for the `orders.changed` webhook. */
        const stored = async (orders: OttoPartnerOrder[]) => {
          const upserted = await store.upsertOrders(input.sellerId, orders.map(toStoreOrder));
          const changedIds = [...progress.changedIds];
          let maxChangeSeq = progress.maxChangeSeq;
          for (const c of upserted.changed) {
            if (changedIds.length < CHANGED_IDS_MAX && !changedIds.includes(c.id)) changedIds.push(c.id);
            maxChangeSeq = Math.max(maxChangeSeq, c.changeSeq);
          }
          return { upserted, changedIds, maxChangeSeq };
        };
        beat(progress);
        let inserted = 0;
        let withoutLastModified = 0;
        // The saved page is OTTO's `nextcursor`, which OTTO may no longer take (expired): refused, the
        // import starts over from the cursor's fromDate, once per attempt. Only the first call counts.
        let resumedAt = saved !== undefined && saved.nextPath !== firstPath ? saved.nextPath : null;
        let restarted = '';
        for (;;) {
          let page: z.output<typeof ordersPageLoose>;
          try {
            page = await otto.call(
              callContext(input, () => progress),
              { method: 'GET', path: progress.nextPath },
              ordersPageLoose,
            );
          } catch (err) {
            const refused = resumedAt !== null ? refusedByOtto(err) : undefined;
            if (refused === undefined) throw err;
            restarted = `; OTTO refused the saved position (${refusalText(refused)}), so the import started over from ${fromDate ? `fromDate ${fromDate}` : 'the beginning'}`;
            current().log.warn(
              'ordersImport: OTTO refused the saved page position; starting over from the cursor',
              {
                status: refused.status,
                error: refusalText(refused),
                pagesBefore: progress.pages,
                fromDate,
              },
            );
            // The position goes; what the earlier run imported and changed (announced on success) stays.
            progress = { ...progress, nextPath: firstPath, maxLifecycle: fromDate, pages: 0 };
            resumedAt = null;
            beat(progress);
            continue;
          }
          resumedAt = null;
          checkLinks(page.links);
          // Order by order: one that does not match OTTO's model is kept aside (read again by id each
          // run until it does), the rest go to the shop.
          const valid: OttoPartnerOrder[] = [];
          const parked = [...progress.parked];
          const parkedWhy = [...progress.parkedWhy];
          let unreadable = progress.unreadable;
          for (const raw of page.resources) {
            const order = partnerOrder.safeParse(raw);
            if (order.success) {
              valid.push(order.data);
              continue;
            }
            const id = (raw as { salesOrderId?: unknown } | null)?.salesOrderId;
            const why = issuesText(order.error);
            if (typeof id !== 'string' || id === '') {
              unreadable++;
              current().log.warn(
                'ordersImport: an order without a salesOrderId does not match OTTO’s model',
                {
                  issues: why,
                },
              );
            } else if (!parked.includes(id)) {
              parked.push(id);
              if (parkedWhy.length < 3) parkedWhy.push(`${id} (${why})`);
              current().log.warn('ordersImport: an order does not match OTTO’s model: kept aside', {
                salesOrderId: id,
                issues: why,
              });
            }
          }
          if (parked.length > PARKED_ORDERS_MAX) {
            throw ApplicationFailure.create({
              type: FailureTypes.requestRejected,
              message: `${parked.length} orders OTTO sent do not match its documented model (its model may have changed), e.g. ${parkedWhy.join(', ')}`,
              nonRetryable: true,
            });
          }
          const { upserted, changedIds, maxChangeSeq } = await stored(valid);
          inserted += upserted.inserted;
          let maxLifecycle = progress.maxLifecycle;
          for (const o of valid) {
            const lifecycle = o.orderLifecycleInformation.lifecycleChangeDate;
            if (o.lastModifiedDate == null) withoutLastModified++;
            if (maxLifecycle === null || later(lifecycle, maxLifecycle)) maxLifecycle = lifecycle;
          }
          const next = linkHref(page.links, 'next');
          let nextPath = progress.nextPath;
          if (next !== undefined) {
            // OTTO: with `nextcursor` only `limit` counts; send the cursor, not the link (§5.1).
            const url = otto.resolve(next);
            const cursor = url.searchParams.get('nextcursor');
            nextPath = cursor
              ? `/v4/orders?limit=${ordersPageSize}&nextcursor=${encodeURIComponent(cursor)}`
              : withParam(`${url.pathname}${url.search}`, 'limit', ordersPageSize);
          }
          progress = {
            ...progress,
            nextPath,
            maxLifecycle,
            count: progress.count + upserted.inserted + upserted.updated,
            pages: progress.pages + 1,
            changedIds,
            maxChangeSeq,
            parked,
            parkedWhy,
            unreadable,
          };
          // Stored first, then heartbeated: a retry resumes after the last page that is surely in the store.
          beat(progress);
          if (next === undefined || progress.pages >= MAX_PAGES) break;
        }

        // Orders kept aside by earlier runs: read again one by one; stored once they match the model,
        // dropped once OTTO no longer knows them, kept aside otherwise. A retry reads them again (no-op).
        const stillParked: string[] = [];
        const asideWhy = [...progress.parkedWhy];
        for (const id of wasParked) {
          if (progress.parked.includes(id) || stillParked.includes(id)) continue;
          let raw: unknown;
          try {
            raw = await otto.call(
              callContext(input, () => progress),
              { method: 'GET', path: `/v4/orders/${encodeURIComponent(id)}` },
              z.unknown(),
            );
          } catch (err) {
            if (ottoAnswerOf(err)?.status !== 404) throw err;
            current().log.warn('ordersImport: an order kept aside is no longer known to OTTO: dropped', {
              salesOrderId: id,
            });
            continue;
          }
          const order = partnerOrder.safeParse(raw);
          if (!order.success) {
            stillParked.push(id);
            if (asideWhy.length < 3) asideWhy.push(`${id} (${issuesText(order.error)})`);
            continue;
          }
          const { upserted, changedIds, maxChangeSeq } = await stored([order.data]);
          inserted += upserted.inserted;
          progress = {
            ...progress,
            count: progress.count + upserted.inserted + upserted.updated,
            changedIds,
            maxChangeSeq,
          };
          beat(progress);
        }
        const parked = [...progress.parked, ...stillParked];
        if (parked.length > PARKED_ORDERS_MAX) {
          // Never dropped from the list (an order kept aside and then forgotten is lost): a model change.
          throw ApplicationFailure.create({
            type: FailureTypes.requestRejected,
            message: `${parked.length} orders OTTO sent do not match its documented model (its model may have changed), e.g. ${asideWhy.join(', ')}`,
            nonRetryable: true,
          });
        }

        // The newest change seen, but never later than the overlap before the run began (ORDERS_OVERLAP_MS).
        const overlapFrom = startedAt - ORDERS_OVERLAP_MS;
        const nextFrom =
          progress.maxLifecycle === null || Date.parse(progress.maxLifecycle) <= overlapFrom
            ? progress.maxLifecycle
            : new Date(overlapFrom).toISOString();
        const noLm = withoutLastModified > 0 ? `; ${withoutLastModified} without lastModifiedDate` : '';
        const aside =
          parked.length > 0
            ? `; ${parked.length} order(s) OTTO sent do not match its documented model, kept aside and read again each run: ${asideWhy.join(', ')}${parked.length > asideWhy.length ? ', …' : ''}`
            : '';
        const unreadable =
          progress.unreadable > 0
            ? `; ${progress.unreadable} order(s) without a salesOrderId do not match OTTO's model and were skipped (see the worker's log)`
            : '';
        return {
          count: progress.count,
          // OTTO's fromDate is inclusive: the boundary order comes again next time and is a no-op upsert.
          cursor: {
            fromDate: nextFrom,
            ...(parked.length > 0 ? { parked: JSON.stringify(parked) } : {}),
          },
          detail: `${progress.count} orders imported or updated (${inserted} new in this attempt) over ${progress.pages} page(s)${noLm}${restarted}${aside}${unreadable}`,
          changedOrderIds: progress.changedIds,
          // The orders feed position after these changes (a shop that has read up to it has them all).
          ...(progress.maxChangeSeq > 0
            ? { feedCursor: encodeFeedCursor('orders', progress.maxChangeSeq, input.sellerId) }
            : {}),
        };
      });
    },

    /**
     * Store → OTTO: stock changed since the last acknowledged change (or everything, daily) plus the SKUs
     * OTTO refused before, ≤ 200 per POST. A 207 names refused SKUs: recorded per SKU, sent again next run.
     */
    async stockExport(input: TransferInput): Promise<TransferResult> {
      return await measured('stockExport', input, async () => {
        const done = await exportWithRefusals<StockLevel>(input, {
          kind: 'stock',
          all: () => store.allStock(input.sellerId),
          changes: (after, upTo) => store.stockChanges(input.sellerId, after, upTo),
          pending: () => store.pendingStock(input.sellerId),
          batchSize: STOCK_BATCH,
          // §5.2: 413 and 422 answer `{errors: [...]}` with the 207's per-entry errors.
          refusals: { statuses: [422], unnamed: 'refuse-batch' },
          send: async (batch, progress) => {
            const { status, body } = await otto.send(
              callContext(input, () => progress),
              {
                method: 'POST',
                path: '/v1/availability/quantities',
                json: batch.map((i) => ({ sku: i.sku, quantity: i.quantity })),
              },
              quantitiesAnswer,
            );
            if (status !== 207) return new Map();
            return stockRefusals(
              batch.map((i) => i.sku),
              body.takenSkus,
              parseApiErrors(body.body),
            );
          },
        });
        return {
          count: done.taken,
          cursor: {
            ackedSeq: done.ackedSeq,
            lastFullAt: input.full ? now() : (input.cursor.lastFullAt ?? null),
          },
          detail: `${exportDetail('stock level(s)', done, input.full ? ' (full daily resync)' : '')}${done.restarted}`,
        };
      });
    },

    /**
     * Store → OTTO: prices changed since the last acknowledged change plus the SKUs OTTO refused before,
     * ≤ 500 per POST. OTTO answers 202 with an update task: polled (heartbeating its href, so a retry
     * polls it instead of posting again) until done; its failed variations are recorded per SKU.
     */
    async pricesExport(input: TransferInput): Promise<TransferResult> {
      return await measured('pricesExport', input, async () => {
        const finish = async (
          task: NonNullable<ExportProgress['task']>,
          progress: ExportProgress,
          first?: ProductProcessProgress,
        ): Promise<Refusals> => {
          // A task saved before its post time was kept counts from now.
          let postedAt = task.postedAt;
          if (postedAt === undefined) {
            postedAt = now();
            progress.task = { ...task, postedAt };
            beat(progress);
          }
          const done = await pollTask(input, task.href, postedAt, progress, first);
          if (done !== null) return await failedPrices(input, task.href, done, task.skus, progress);
          // OTTO never finished it: its prices count as refused, so the next run sends them again (with
          // the store's values then), and this run goes on instead of polling the same task forever.
          const minutes = Math.round(taskGiveUp / 60_000);
          current().log.warn(
            'pricesExport: an update task never finished; its prices go out again next run',
            {
              task: task.href,
              prices: task.skus.length,
            },
          );
          const why = `OTTO's update task did not finish within ${minutes} min; sent again next run`;
          return new Map(task.skus.map((sku) => [sku, why]));
        };
        const done = await exportWithRefusals<Price>(input, {
          kind: 'prices',
          all: () => store.allPrices(input.sellerId),
          changes: (after, upTo) => store.priceChanges(input.sellerId, after, upTo),
          pending: () => store.pendingPrices(input.sellerId),
          batchSize: PRICES_BATCH,
          // §5.3 documents only the 202: a refusal is read per entry when its errors name entries (as
          // stock's do); one naming none is halved down to the refused entries, and fails the export
          // only when OTTO refuses every entry on its own. 413 halves the batch.
          refusals: { statuses: [400, 422], unnamed: 'fail' },
          resume: async (task, progress) => {
            // The first look at a task saved by an earlier attempt: OTTO may no longer know it (404).
            // Sending its prices again is safe: a price update sets the values, OTTO counts the same
            // values as `unchanged`, and the store's current values go out.
            let first: ProductProcessProgress;
            try {
              first = await otto.call(
                callContext(input, () => progress),
                { method: 'GET', path: task.href },
                productProcessProgress,
              );
            } catch (err) {
              const refused = refusedByOtto(err);
              if (refused !== undefined) throw new SavedTaskRefused(refused);
              throw err;
            }
            return await finish(task, progress, first);
          },
          send: async (batch, progress) => {
            const accepted = await otto.call(
              callContext(input, () => progress),
              {
                method: 'POST',
                path: '/v5/products/prices',
                json: batch.map((p) => ({
                  sku: p.sku,
                  standardPrice: { amount: p.amount, currency: p.currency },
                })),
              },
              productProcessProgress,
            );
            checkLinks(accepted.links);
            const self = linkHref(accepted.links, 'self');
            const skus = batch.map((p) => p.sku);
            if (self === undefined) {
              if ((accepted.state ?? '').toLowerCase() === 'done')
                return await failedPrices(input, undefined, accepted, skus, progress);
              throw ApplicationFailure.create({
                type: FailureTypes.requestRejected,
                message: `OTTO accepted ${skus.length} price(s) but its answer has no "self" link to follow the update task`,
                nonRetryable: true,
              });
            }
            const task = { href: otto.resolve(self).toString(), skus, postedAt: now() };
            progress.task = task;
            beat(progress);
            return await finish(task, progress, accepted);
          },
        });
        return {
          count: done.taken,
          cursor: { ackedSeq: done.ackedSeq },
          detail: `${exportDetail(
            'price(s)',
            done,
            ` (succeeded or unchanged) in ${done.batches} update task(s)`,
          )}${done.restarted}`,
        };
      });
    },

    /**
     * OTTO → store: returns (v3), newest status change first, page by page until the items are older
     * than the cursor (or already seen at exactly the cursor's time).
     */
    async returnsImport(input: TransferInput): Promise<TransferResult> {
      return await measured('returnsImport', input, async () => {
        const passes = deps.returnStatuses?.length ? deps.returnStatuses : [null];
        // The passes are part of what progress means: a deploy that changes them starts over.
        const saved = startingPoint(returnsProgress, input, passes);
        const progress: ReturnsProgress = saved ?? {
          basis: progressBasis(input, passes),
          pass: 0,
          page: 1,
          newestTime: null,
          newestSeen: [],
          cursor: { ...input.cursor },
          count: 0,
          pages: 0,
          skipped: 0,
        };
        // Resumed within a pass: read the last page done once more (only here: the progress keeps its
        // page, so retries do not step back further). Newest-first pages shift when a return changes
        // status meanwhile (it moves to the front); the overlap keeps such a shift from skipping an
        // item, and what comes again is an unchanged upsert.
        let pageNo = saved && progress.page > 1 ? progress.page - 1 : progress.page;
        beat(progress);

        while (progress.pass < passes.length) {
          const passIndex = progress.pass;
          const status = passes[passIndex] ?? null;
          const key = status === null ? 'all' : status.toLowerCase();
          // The ANNOUNCED list is read whole every run: its returns leave it (accepted, rejected), which
          // moves later ones up a page while the run pages on, so stopping at the cursor would skip one
          // for good. It holds open returns only, so it stays short. The other lists only grow at the front.
          const readWhole = status?.toUpperCase() === 'ANNOUNCED';
          const since =
            !readWhole && typeof input.cursor[`${key}.since`] === 'string'
              ? (input.cursor[`${key}.since`] as string)
              : null;
          const seen = new Set<string>(parseSeen(input.cursor[`${key}.seen`]));
          for (let guard = 0; guard < MAX_PAGES; guard++) {
            const path = `/v3/returns?limit=${RETURNS_PAGE_LIMIT}&page=${pageNo}${status ? `&status=${encodeURIComponent(status)}` : ''}`;
            const page = await otto.call(
              callContext(input, () => progress),
              { method: 'GET', path },
              returnsPage,
            );
            checkLinks(page.links);
            const fresh: StoreReturn[] = [];
            let reachedOld = false;
            for (const item of page.positionItems) {
              if (!item.positionItemId) {
                progress.skipped++;
                continue;
              }
              const itemKey = `${item.positionItemId}|${item.status ?? ''}`;
              const t = item.occurredTime ?? null;
              if (since !== null && t !== null) {
                if (later(since, t)) {
                  reachedOld = true;
                  continue;
                }
                if (sameTime(since, t) && seen.has(itemKey)) continue;
              }
              fresh.push({
                positionItemId: item.positionItemId,
                salesOrderId: item.salesOrderId ?? '',
                status: item.status ?? 'UNKNOWN',
                occurredTime: t,
                details: item.details ?? null,
              });
              if (t !== null) {
                if (progress.newestTime === null || later(t, progress.newestTime)) {
                  progress.newestTime = t;
                  progress.newestSeen = [itemKey];
                } else if (
                  sameTime(t, progress.newestTime) &&
                  progress.newestSeen.length < SEEN_MAX &&
                  !progress.newestSeen.includes(itemKey)
                ) {
                  progress.newestSeen.push(itemKey);
                }
              }
            }
            const upserted = await store.upsertReturns(input.sellerId, fresh);
            progress.count += upserted.inserted + upserted.updated;
            progress.pages += 1;
            pageNo += 1;
            progress.page = Math.max(progress.page, pageNo);
            const more =
              page.positionItems.length > 0 &&
              !reachedOld &&
              (page.positionItems.length >= RETURNS_PAGE_LIMIT || linkHref(page.links, 'next') !== undefined);
            if (!more) {
              // This pass is complete: its cursor moves to the newest change imported.
              if (progress.newestTime !== null) {
                const keepOld = since !== null && sameTime(since, progress.newestTime);
                const seenNow = keepOld
                  ? [...new Set([...seen, ...progress.newestSeen])]
                  : progress.newestSeen;
                progress.cursor[`${key}.since`] = progress.newestTime;
                progress.cursor[`${key}.seen`] = JSON.stringify(seenNow.slice(-SEEN_MAX));
              }
              progress.pass += 1;
              progress.page = pageNo = 1;
              progress.newestTime = null;
              progress.newestSeen = [];
            }
            // Stored first, then heartbeated (with the next pass once this one is complete).
            beat(progress);
            if (!more) break;
          }
          if (progress.pass === passIndex) {
            // The page guard ran out (never with a real listing): go on with the next pass.
            progress.pass += 1;
            progress.page = pageNo = 1;
            progress.newestTime = null;
            progress.newestSeen = [];
          }
        }
        const skipped = progress.skipped > 0 ? `; ${progress.skipped} without positionItemId skipped` : '';
        return {
          count: progress.count,
          cursor: progress.cursor,
          detail: `${progress.count} return(s) new or changed over ${progress.pages} page(s)${skipped}`,
        };
      });
    },

    /** OTTO → store: every shipping profile (all pages), every field; profiles OTTO dropped are removed. */
    async shippingProfilesSync(input: TransferInput): Promise<TransferResult> {
      return await measured('shippingProfilesSync', input, async () => {
        const ids: string[] = [];
        const totals = { inserted: 0, updated: 0, unchanged: 0 };
        const visited = new Set<string>();
        let next: string | undefined = '/v1/shipping-profiles';
        let pages = 0;
        /** Why the listing cannot tell which profiles are gone (then none is removed), or null. */
        let partial: string | null = null;
        while (next !== undefined) {
          if (pages >= MAX_PAGES) {
            partial = `it still had a next page after ${MAX_PAGES} pages`;
            break;
          }
          const page = await otto.call(
            callContext(input, () => ({ pages })),
            { method: 'GET', path: next },
            shippingProfilesPage,
          );
          checkLinks(page.links);
          visited.add(otto.resolve(next).toString());
          if (page.results == null) partial ??= `page ${pages + 1} held no results list`;
          const profiles: StoreShippingProfile[] = (page.results ?? []).map((p) => ({
            shippingProfileId: p.shippingProfileId,
            shippingProfileName: p.shippingProfileName,
            workingDays: p.workingDays,
            orderCutoff: p.orderCutoff,
            deliveryType: p.deliveryType,
            defaultProcessingTime: p.defaultProcessingTime,
            transportTime: p.transportTime,
            data: p,
          }));
          const upserted = await store.upsertShippingProfiles(input.sellerId, profiles);
          totals.inserted += upserted.inserted;
          totals.updated += upserted.updated;
          totals.unchanged += upserted.unchanged;
          ids.push(...profiles.map((p) => p.shippingProfileId));
          pages++;
          beat({ pages });
          const href = linkHref(page.links, 'next');
          if (href !== undefined && visited.has(otto.resolve(href).toString())) {
            partial ??= `its next link on page ${pages} pointed back to a page already read`;
            break;
          }
          next = href;
        }
        // Only a listing that ended as OTTO ends one (no next link, every page with its results) says
        // which profiles are gone; an odd one keeps every stored profile rather than delete real ones.
        if (partial !== null) {
          current().log.warn('shippingProfilesSync: OTTO’s listing ended oddly; no profile removed', {
            why: partial,
            pages,
          });
        }
        const removed = partial === null ? await store.removeShippingProfilesExcept(input.sellerId, ids) : 0;
        return {
          count: totals.inserted + totals.updated + removed,
          cursor: {},
          detail: `${ids.length} profile(s) at OTTO over ${pages} page(s): ${totals.inserted} new, ${totals.updated} changed, ${removed} removed${partial === null ? '' : `; none removed: OTTO's listing ended oddly (${partial})`}`,
        };
      });
    },
  };
}

function parseSeen(value: unknown): string[] {
  if (typeof value !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export type TransferActivities = ReturnType<typeof createTransferActivities>;
