/**
 * Worker memory per cached seller workflow (issue 15, "Memory").
 *
 * With `reuseV8Context` (the SDK default) every cached workflow gets its own webpack module cache
 * (node_modules/@temporalio/worker/lib/workflow/reusable-vm.js: `__webpack_module_cache__` proxies to
 * the activator's `moduleCache`), so every module the workflow imports is evaluated again per cached
 * workflow: whatever a workflow module builds at module level is paid once per cached seller.
 *
 * How it measures: its own Temporal dev server (in memory), one worker in THIS process with
 * `debugMode: true` (the reusable V8 context runs in the main thread, not in a worker thread, so
 * `process.memoryUsage()` sees the workflows' heap) and `maxCachedWorkflows` above N. Sellers are
 * started as the API starts them (update-with-start of `beginConsent`), so each waits in
 * `pending_consent` and stays cached. Memory is read after forced full GCs at three points: no workflow
 * (baseline), a few warm-up workflows (the bundle's shared code compiled, the first-use costs paid), and
 * N workflows. Per workflow = (N − warm-up) / (N − warm-up count): the marginal cost of one more cached
 * seller, free of the fixed costs.
 *
 *   npx tsx bench/workflow-memory.ts --sellers=1000 [--snapshot=/tmp/wm] [--concurrency=32] [--warmup=50]
 *     [--workflows=path/to/entry.ts] [--no-preload] [--out=result.json]
 *
 * `--snapshot=PREFIX` also writes V8 heap snapshots at the warm-up point and at N (PREFIX-warm and
 * PREFIX-full .heapsnapshot) and prints the per-workflow growth by constructor between the two (use a
 * modest N, e.g. 200: a snapshot of a large heap takes long to write and parse).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ReusableVMWorkflowCreator } from '@temporalio/worker/lib/workflow/reusable-vm';
import { createSettingsActivities } from '../activities/settings-activities';
import { preloadedBundleOptions, sellerWorkflowBundleOptions } from '../worker/workflow-bundle';
import { ensureTemporalCli } from '../scripts/ensure-temporal';
import { startDevServer } from '../scripts/temporal-dev-server';
import {
  beginConsentUpdate,
  DEFAULT_TOKEN_TASK_QUEUE,
  searchAttributes,
  sellerWorkflowId,
  WORKFLOW_TYPE,
} from '../workflows/definitions';
import type { sellerConnection } from '../workflows/seller-connection';
import { cliFlag, constructorTotals, mapLimit, sleep } from './support/report';
import { noStatusRowSinks } from '../worker/status-row-sink';

const KB = 1024;

export interface WorkflowMemoryOptions {
  sellers: number;
  log?: (line: string) => void;
  /** Workflows started before the second reading (default: 5% of `sellers`, at least 5, at most 50). */
  warmup?: number;
  /** Concurrent update-with-start calls (default 32). */
  concurrency?: number;
  /** Write heap snapshots `<prefix>-warm.heapsnapshot` and `<prefix>-full.heapsnapshot`, and compare them. */
  snapshotPrefix?: string;
  /** Another bundle entry exporting `sellerConnection` (to measure a variant); default workflows/index.ts. */
  workflowsPath?: string;
  /** false: bundle without preloading the workflow modules (worker/workflow-bundle.ts), to see what it saves. */
  preload?: boolean;
}

export interface MemoryReading {
  cached: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  rss: number;
}

export interface WorkflowMemoryResult {
  sellers: number;
  /** The headline figure: heap per cached workflow (exact: every workflow runs in this thread's heap). */
  perWorkflowKB: number;
  heapPerWorkflowKB: number;
  /** RSS per cached workflow: includes the SDK core's (Rust) per-workflow state and allocator slack. */
  rssPerWorkflowKB: number;
  bundleKB: number;
  /** The bundle's modules, grouped: each npm package once (`zod`, `@temporalio/common` …), our files by path. */
  bundleModules: string[];
  /**
   * The modules every cached workflow evaluates for itself (its own webpack module cache), grouped like
   * `bundleModules`; the rest of the bundle is evaluated once per V8 context and shared.
   */
  perWorkflowModules: string[];
  warmup: number;
  readings: { baseline: MemoryReading; warm: MemoryReading; full: MemoryReading };
  /** Per-workflow growth by constructor between the two heap snapshots (only with `snapshotPrefix`). */
  topConstructors?: Array<{ name: string; kbPerWorkflow: number; countPerWorkflow: number }>;
}

/** `global.gc`, also when node was started without --expose-gc. */
export function gcFunction(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function fullGc(gc: () => void): Promise<void> {
  // Several rounds: weak callbacks and finalizers free more on the next collection.
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(50);
  }
}

/** The webpack module ids of a development bundle, grouped by npm package. */
export function bundleModuleList(code: string): string[] {
  return groupModules([...code.matchAll(/^\/\*\*\*\/ "([^"]+)"/gm)].map((m) => m[1]!));
}

/** Module ids grouped: each npm package once (`zod`, `@temporalio/common` …), our own files by path. */
function groupModules(ids: Iterable<string>): string[] {
  const groups = new Set<string>();
  for (const id of ids) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(id);
    groups.add(m ? m[1]! : id);
  }
  return [...groups].sort();
}

export async function measureWorkflowMemory(opts: WorkflowMemoryOptions): Promise<WorkflowMemoryResult> {
  const log = opts.log ?? (() => undefined);
  const n = opts.sellers;
  const warmup = opts.warmup ?? Math.min(50, Math.max(5, Math.round(n * 0.05)));
  if (n <= warmup) throw new Error(`sellers (${n}) must be more than the warm-up (${warmup})`);
  const gc = gcFunction();
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // installed already
  }

  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };
  const { code } = await bundleWorkflowCode({
    // Ours as every worker bundles it; another entry (the floor) preloaded the same way; --no-preload: not.
    ...(opts.workflowsPath === undefined
      ? sellerWorkflowBundleOptions()
      : preloadedBundleOptions(opts.workflowsPath)),
    ...(opts.preload === false ? { preloadModules: [] } : {}),
    logger: quiet,
  });
  const bundleKB = Math.round(Buffer.byteLength(code) / KB);
  const bundleModules = bundleModuleList(code);
  log(`bundle: ${bundleKB} KiB; packages and files: ${bundleModules.join(', ')}`);

  const cli = ensureTemporalCli({ log });
  const server = await startDevServer({ cliPath: cli.path });
  log(`Temporal dev server at ${server.address} (pid ${server.pid}, in memory)`);
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = `workflow-memory-${Date.now().toString(36)}`;
  try {
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: { code },
      activities: createSettingsActivities({ defaults: {}, tokenTaskQueues: [DEFAULT_TOKEN_TASK_QUEUE] }),
      // The reusable V8 context (the production executor) in this thread, so its heap is ours to read.
      debugMode: true,
      reuseV8Context: true,
      sinks: noStatusRowSinks(),
      maxCachedWorkflows: n + 50,
    });

    const read = (): MemoryReading => {
      const m = process.memoryUsage();
      return {
        cached: worker.getStatus().numCachedWorkflows,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        rss: m.rss,
      };
    };
    const settle = async (expected: number): Promise<MemoryReading> => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const st = worker.getStatus();
        if (st.numCachedWorkflows >= expected && st.numInFlightWorkflowActivations === 0) break;
        if (Date.now() > deadline)
          throw new Error(`only ${st.numCachedWorkflows} of ${expected} workflows cached after 120 s`);
        await sleep(100);
      }
      await sleep(500);
      await fullGc(gc);
      return read();
    };

    let seq = 0;
    const start = async (count: number) => {
      const ids = Array.from({ length: count }, () => `mem-${(++seq).toString().padStart(5, '0')}`);
      await mapLimit(ids, opts.concurrency ?? 32, async (sellerId) => {
        const startWorkflowOperation = new WithStartWorkflowOperation<typeof sellerConnection>(
          WORKFLOW_TYPE,
          {
            workflowId: sellerWorkflowId(sellerId),
            taskQueue,
            args: [{ sellerId, overrides: {} }],
            workflowIdConflictPolicy: 'USE_EXISTING',
            typedSearchAttributes: [{ key: searchAttributes.sellerId, value: sellerId }],
          },
        );
        const result = await client.workflow.executeUpdateWithStart(beginConsentUpdate, {
          args: [{ sellerId, appVersion: 'v2', nonce: randomBytes(18).toString('base64url') }],
          startWorkflowOperation,
        });
        if (result.state !== 'pending_consent') throw new Error(`${sellerId}: ${result.state}`);
      });
    };

    // The bundle beside the snapshots: closures' line numbers map to its modules.
    if (opts.snapshotPrefix) writeFileSync(`${opts.snapshotPrefix}-bundle.js`, code);
    const snapshot = (label: string) => {
      if (!opts.snapshotPrefix) return undefined;
      const path = writeHeapSnapshot(`${opts.snapshotPrefix}-${label}.heapsnapshot`);
      log(`heap snapshot: ${path}`);
      return path;
    };

    const result = await worker.runUntil(async () => {
      const baseline = await settle(0);
      log(`baseline: heap ${mb(baseline.heapUsed)} MB, rss ${mb(baseline.rss)} MB, 0 cached`);
      await start(warmup);
      const warm = await settle(warmup);
      log(`warm-up: heap ${mb(warm.heapUsed)} MB, rss ${mb(warm.rss)} MB, ${warm.cached} cached`);
      const warmSnapshot = snapshot('warm');
      const t0 = Date.now();
      await start(n - warmup);
      const full = await settle(n);
      log(
        `full: heap ${mb(full.heapUsed)} MB, rss ${mb(full.rss)} MB, ${full.cached} cached ` +
          `(started in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
      const fullSnapshot = snapshot('full');
      // One cached workflow's own module cache (debug mode: the workflows live in this thread).
      const one = ReusableVMWorkflowCreator.workflowByRunId.values().next().value as unknown as
        { activator?: { moduleCache?: Map<string, unknown> } } | undefined;
      const perWorkflowModules = groupModules(one?.activator?.moduleCache?.keys() ?? []);
      return { baseline, warm, full, warmSnapshot, fullSnapshot, perWorkflowModules };
    });

    const added = result.full.cached - result.warm.cached;
    const heapPerWorkflowKB = round1((result.full.heapUsed - result.warm.heapUsed) / added / KB);
    const rssPerWorkflowKB = round1((result.full.rss - result.warm.rss) / added / KB);
    const out: WorkflowMemoryResult = {
      sellers: result.full.cached,
      perWorkflowKB: heapPerWorkflowKB,
      heapPerWorkflowKB,
      rssPerWorkflowKB,
      bundleKB,
      bundleModules,
      perWorkflowModules: result.perWorkflowModules,
      warmup: result.warm.cached,
      readings: { baseline: result.baseline, warm: result.warm, full: result.full },
    };
    if (result.warmSnapshot && result.fullSnapshot) {
      log('comparing heap snapshots …');
      const a = constructorTotals(result.warmSnapshot);
      const b = constructorTotals(result.fullSnapshot);
      out.topConstructors = [...b]
        .map(([name, after]) => {
          const before = a.get(name) ?? { size: 0, count: 0 };
          return {
            name,
            kbPerWorkflow: round1((after.size - before.size) / added / KB),
            countPerWorkflow: round1((after.count - before.count) / added),
          };
        })
        .sort((x, y) => y.kbPerWorkflow - x.kbPerWorkflow)
        .slice(0, 40);
    }
    return out;
  } finally {
    await connection.close().catch(() => undefined);
    await nativeConnection.close().catch(() => undefined);
    await server.stop();
  }
}

const mb = (bytes: number) => (bytes / KB / KB).toFixed(1);
const round1 = (x: number) => Math.round(x * 10) / 10;

if (require.main === module) {
  const sellers = Number(cliFlag('sellers') ?? 1000);
  const concurrency = cliFlag('concurrency') === undefined ? undefined : Number(cliFlag('concurrency'));
  const warmup = cliFlag('warmup') === undefined ? undefined : Number(cliFlag('warmup'));
  const snapshotPrefix = cliFlag('snapshot');
  const entry = cliFlag('workflows');
  const workflowsPath = entry === undefined ? undefined : resolve(entry);
  const log = (line: string) => console.log(`[workflow-memory] ${line}`);
  const preload = !process.argv.includes('--no-preload');
  measureWorkflowMemory({ sellers, log, concurrency, warmup, snapshotPrefix, workflowsPath, preload }).then(
    (r) => {
      log(
        `${r.sellers} cached seller workflows (warm-up ${r.warmup}): ` +
          `${r.heapPerWorkflowKB} KB heap, ${r.rssPerWorkflowKB} KB RSS per workflow; bundle ${r.bundleKB} KiB`,
      );
      log(`evaluated per workflow: ${r.perWorkflowModules.join(', ')}`);
      if (r.topConstructors) {
        log('growth per workflow by constructor (self size, KB / count):');
        for (const c of r.topConstructors)
          log(
            `  ${c.kbPerWorkflow.toFixed(1).padStart(7)}  ${String(c.countPerWorkflow).padStart(7)}  ${c.name}`,
          );
      }
      const out = cliFlag('out');
      if (out) writeFileSync(out, JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
