/**
 * How a cached run's memory grows with its history (docs/scaling.md §4, "The SDK's core grows with every
 * event"): N bare workflows (bench/run-growth-workflow.ts: a loop of a 0.5 s timer and one activity
 * echoing a payload) cached in ONE worker in this process (`debugMode`: the workflows' V8 context runs in the main
 * thread, so `process.memoryUsage()` sees it), RSS and heap read after forced GCs when every workflow has
 * run 2 iterations, half of them and all of them. Per workflow and per iteration = the growth between the
 * first and the last reading / N / iterations. Each payload size runs in its own process (RSS does not
 * shrink between runs).
 *
 *   npm run bench:run-growth -- [--workflows=200] [--iterations=40] [--payload=100,3000] [--continue-every=K]
 *     [--semi-space=MB] [--args=same|fresh|released] [--scopes=root|kept|epoch]
 *
 * `--semi-space=MB` sizes the child's young generation (default the worker's workflow threads', 4 MB;
 * 0: V8's own, 64 MB on Node 24 on a box with a few GB).
 * `--continue-every=K` continues each workflow as new every K iterations: the growth then stops at K.
 * `--args=` what each iteration hands the activity (run-growth-workflow.ts GrowthArgs): the same argument
 * object every time (default), a fresh one, or a fresh one emptied once the activity is over.
 * `--scopes=` where each iteration's timer and activity run (run-growth-workflow.ts GrowthScopes): awaited
 * in the root scope (default), each in a child scope with a `condition()` waiting for it (the seller
 * loop's shape, every handler kept), or the same in a renewed ScopeEpoch (workflows/scope-epoch.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import {
  type Allocator,
  allocatorInUse,
  DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB,
  semiSpaceOption,
  withJemalloc,
} from '../worker/allocator';
import { ensureTemporalCli, PROJECT_ROOT } from '../scripts/ensure-temporal';
import { startDevServer } from '../scripts/temporal-dev-server';
import { tsEntry } from '../scripts/ts-entry';
import type { GrowthArgs, GrowthInput, GrowthScopes, growthWorkflow } from './run-growth-workflow';
import { cliFlag, log, printTable, round, sleep, writeResult } from './support/report';
import { fullGc, gcFunction } from './workflow-memory';

const KB = 1024;
const GAP_MS = 500;

interface Reading {
  label: string;
  iterationsPerWorkflow: number;
  rssKB: number;
  heapUsedKB: number;
  externalKB: number;
}

interface GrowthResult {
  workflows: number;
  iterations: number;
  payloadBytes: number;
  continueEvery: number | null;
  args: GrowthArgs;
  scopes: GrowthScopes;
  allocator: Allocator;
  readings: Reading[];
  /** Growth from the first to the last reading, per workflow and per iteration (KB). */
  rssPerIterationKB: number;
  heapPerIterationKB: number;
  /** RSS per workflow above the empty worker at the last reading (KB). */
  rssPerWorkflowKB: number;
}

function positiveInt(name: string, fallback: number): number {
  const raw = cliFlag(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

async function measureOne(opts: Omit<GrowthInput, 'gapMs'> & { workflows: number }): Promise<GrowthResult> {
  const gc = gcFunction();
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const cli = ensureTemporalCli({ log: () => undefined });
  const server = await startDevServer({ cliPath: cli.path });
  try {
    const connection = await NativeConnection.connect({ address: server.address });
    const clientConnection = await Connection.connect({ address: server.address });
    const client = new Client({ connection: clientConnection });
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(PROJECT_ROOT, 'bench', 'run-growth-workflow.ts'),
      logger: new DefaultLogger('ERROR'),
    });
    // Iterations whose echo result its workflow has processed (the workflow's sink call, made when the
    // workflow task that received the result completes).
    let processed = 0;
    const worker = await Worker.create({
      connection,
      taskQueue: 'run-growth',
      workflowBundle: { code },
      debugMode: true,
      maxCachedWorkflows: opts.workflows + 10,
      activities: { echo: (arg: { payload?: string }) => Promise.resolve(arg.payload ?? '') },
      sinks: {
        progress: {
          iterationDone: {
            fn: () => {
              processed++;
            },
            callDuringReplay: false,
          },
        },
      },
    });
    const running = worker.run();
    const empty = await reading(gc, 'empty worker', 0);
    const readings: Reading[] = [];
    const input: GrowthInput = { ...opts, gapMs: GAP_MS };
    for (let i = 0; i < opts.workflows; i++)
      await client.workflow.start<typeof growthWorkflow>('growthWorkflow', {
        taskQueue: 'run-growth',
        workflowId: `growth-${i}`,
        args: [input],
      });
    const at = async (label: string, iterations: number) => {
      while (processed < opts.workflows * iterations) await sleep(250);
      const r = await reading(gc, label, processed / opts.workflows);
      readings.push(r);
      log(
        `${label}: ${round(r.iterationsPerWorkflow)} iterations per workflow, RSS ${round((r.rssKB - empty.rssKB) / opts.workflows)} KB per workflow`,
      );
    };
    await at('start', 2);
    await at('half', Math.floor(opts.iterations / 2));
    await at('end', opts.iterations);
    worker.shutdown();
    await running;
    await clientConnection.close();
    await connection.close();
    const first = readings[0]!;
    const last = readings[readings.length - 1]!;
    const iterations = last.iterationsPerWorkflow - first.iterationsPerWorkflow;
    return {
      workflows: opts.workflows,
      iterations: opts.iterations,
      payloadBytes: opts.payloadBytes,
      continueEvery: opts.continueEvery,
      args: opts.args,
      scopes: opts.scopes,
      allocator: allocatorInUse(),
      readings: [empty, ...readings],
      rssPerIterationKB: round((last.rssKB - first.rssKB) / opts.workflows / iterations, 2),
      heapPerIterationKB: round((last.heapUsedKB - first.heapUsedKB) / opts.workflows / iterations, 2),
      rssPerWorkflowKB: round((last.rssKB - empty.rssKB) / opts.workflows),
    };
  } finally {
    await server.stop();
  }
}

async function reading(gc: () => void, label: string, iterationsPerWorkflow: number): Promise<Reading> {
  await fullGc(gc);
  const m = process.memoryUsage();
  return {
    label,
    iterationsPerWorkflow,
    rssKB: m.rss / KB,
    heapUsedKB: m.heapUsed / KB,
    externalKB: (m.external + m.arrayBuffers) / KB,
  };
}

async function main(): Promise<void> {
  const workflows = positiveInt('workflows', 200);
  const iterations = positiveInt('iterations', 40);
  const continueEveryRaw = cliFlag('continue-every');
  const continueEvery = continueEveryRaw === undefined ? null : positiveInt('continue-every', 1);
  const payloads = (cliFlag('payload') ?? '100,3000').split(',').map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--payload must list byte counts, got "${p}"`);
    return n;
  });
  if (iterations < 6) throw new Error('--iterations must be at least 6');
  const argsMode = (cliFlag('args') ?? 'same') as GrowthArgs;
  if (!['same', 'fresh', 'released'].includes(argsMode))
    throw new Error(`--args must be same, fresh or released, got "${argsMode}"`);
  const scopes = (cliFlag('scopes') ?? 'root') as GrowthScopes;
  if (!['root', 'kept', 'epoch'].includes(scopes))
    throw new Error(`--scopes must be root, kept or epoch, got "${scopes}"`);

  if (cliFlag('one') !== undefined) {
    const result = await measureOne({
      workflows,
      iterations,
      payloadBytes: payloads[0]!,
      continueEvery,
      args: argsMode,
      scopes,
    });
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    // The SDK's runtime keeps the process alive; the parent waits for its exit.
    process.exit(0);
  }
  const semiSpaceRaw = cliFlag('semi-space');
  const semiSpaceMb =
    semiSpaceRaw === undefined ? DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB : Number(semiSpaceRaw);
  if (!Number.isInteger(semiSpaceMb) || semiSpaceMb < 0)
    throw new Error(`--semi-space must be a whole number of MB, got "${semiSpaceRaw}"`);
  const results: GrowthResult[] = [];
  for (const payloadBytes of payloads) {
    log(`payload ${payloadBytes} B: ${workflows} workflows × ${iterations} iterations (own process)`);
    const args = [
      // The workflows run in this child's main thread (debugMode): its young generation sized as the
      // worker sizes its workflow threads' (worker/create-workers.ts); --semi-space=0 for V8's default.
      ...(semiSpaceMb > 0 ? [semiSpaceOption(semiSpaceMb)] : []),
      ...tsEntry(__filename),
      '--one=1',
      `--workflows=${workflows}`,
      `--iterations=${iterations}`,
      `--payload=${payloadBytes}`,
      ...(continueEvery === null ? [] : [`--continue-every=${continueEvery}`]),
      `--args=${argsMode}`,
      `--scopes=${scopes}`,
    ];
    const child = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      // As production runs the worker (worker/allocator.ts); JEMALLOC_PATH= (empty) for the system's malloc.
      env: withJemalloc(process.env),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    for (const l of child.stdout.split('\n')) if (l && !l.startsWith('RESULT ')) console.log(l);
    if (child.status !== 0 || line === undefined)
      throw new Error(`the run with a ${payloadBytes}-byte payload failed (exit ${child.status})`);
    results.push(JSON.parse(line.slice('RESULT '.length)) as GrowthResult);
  }
  printTable(
    `A cached run's growth (${workflows} bare workflows, a ${GAP_MS} ms timer and one echo activity per iteration, arguments ${argsMode}, scopes ${scopes}${continueEvery === null ? '' : `, continue-as-new every ${continueEvery}`})`,
    ['payload', 'allocator', 'RSS per workflow at the end', 'RSS per iteration', 'heap per iteration'],
    results.map((r) => [
      `${r.payloadBytes} B`,
      r.allocator,
      `${r.rssPerWorkflowKB} KB`,
      `${r.rssPerIterationKB} KB`,
      `${r.heapPerIterationKB} KB`,
    ]),
  );
  log(`results: ${writeResult('run-growth', { at: new Date().toISOString(), results })}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
