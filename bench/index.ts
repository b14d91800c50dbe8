/**
 * `npm run bench` (the quick mode, also `--quick`: about 13 minutes on 2 cores), `npm run bench -- --scale`
 * (the 17,000-seller equivalent: 1,700 sellers at time ×10 for 30 minutes of accelerated time; 13–20
 * minutes, most of it onboarding under OTTO's token cap) or `npm run bench:full` (real 30-minute tokens,
 * 10,000 sellers, about two hours). `--only=<names>` runs some benchmarks: lifecycle, steady, api,
 * ceiling, floor (floor runs steady first: the ratio needs both), idle, memory. Overrides:
 * --sellers=N (fleet), --lifecycle=N, --ttl=SECONDS (token lifetime; sets the time acceleration
 * 1800/ttl), --window=SECONDS or --duration=SECONDS (the steady/scale measuring window, wall clock),
 * --rate=N (status API requests/s), --memory=N (cached workflows the memory benchmark measures).
 *
 * Every benchmark prints its figures beside their goals (bench/support/goals.ts, issue 15), and the run
 * ends with one table of every figure measured: figure | result | goal | floor | pass/fail; the same rows
 * are in the JSON under bench/results/.
 *
 * Everything runs against its own Temporal dev server (in memory, free port) and its own emulator
 * (port 0), and everything started is stopped again, also on Ctrl-C.
 */
import { runApiLatency } from './api-latency';
import { runFloorRatio } from './floor-ratio';
import { runIdle } from './idle';
import { runLifecycle } from './lifecycle';
import { runMemory } from './memory';
import { runSteadyState } from './steady-state';
import { runTokenCeiling } from './token-ceiling';
import { BenchContext, FULL, QUICK, SCALE, type BenchParams } from './support/context';
import { formatGoalTable } from './support/goals';
import { startBenchEnv, type BenchEnv } from './support/harness';
import { log, round, writeResult } from './support/report';
import { allocatorRefusal, benchAllocator, benchNode, rerunAsWorker } from './support/allocator';

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<void>> = {
  lifecycle: runLifecycle,
  steady: runSteadyState,
  api: runApiLatency,
  ceiling: runTokenCeiling,
  // It stops our fleet so the bare workflow has the server and this process to itself.
  floor: runFloorRatio,
  // Its own small fleet at a faster clock.
  idle: runIdle,
  // Its own server and a worker in this process: last, with nothing else in the heap.
  memory: runMemory,
};

/** What `--scale` runs unless `--only` says otherwise. */
const SCALE_BENCHMARKS = ['steady', 'api'];

function parseArgs(argv: string[]): { params: BenchParams; only: string[] } {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m?.[1]) throw new Error(`unknown argument ${arg}`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const known = [
    'quick',
    'full',
    'scale',
    'only',
    'sellers',
    'lifecycle',
    'ttl',
    'window',
    'duration',
    'rate',
    'memory',
  ];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`unknown option --${key}`);
  if ([flags.has('quick'), flags.has('full'), flags.has('scale')].filter(Boolean).length > 1)
    throw new Error('--quick, --full and --scale are different modes: give one');
  const params: BenchParams = { ...(flags.has('full') ? FULL : flags.has('scale') ? SCALE : QUICK) };
  const num = (key: string) => {
    const v = Number(flags.get(key));
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${key} must be a positive number`);
    return v;
  };
  if (flags.has('lifecycle')) params.lifecycleSellers = num('lifecycle');
  if (flags.has('ttl')) params.tokenTtlSeconds = num('ttl');
  if (flags.has('window')) params.windowMs = num('window') * 1000;
  if (flags.has('duration')) params.windowMs = num('duration') * 1000;
  if (flags.has('rate')) params.statusRatePerSecond = num('rate');
  if (flags.has('memory')) params.memorySellers = num('memory');
  const defaults = params.mode === 'scale' ? SCALE_BENCHMARKS : Object.keys(BENCHMARKS);
  const only = flags.get('only')?.split(',') ?? defaults;
  for (const name of only)
    if (!(name in BENCHMARKS))
      throw new Error(`no benchmark "${name}" (${Object.keys(BENCHMARKS).join(', ')})`);
  // Last, so that a refused --sellers means every other argument was accepted (test/ops/readme.test.ts).
  if (flags.has('sellers')) params.fleetSellers = num('sellers');
  return { params, only: Object.keys(BENCHMARKS).filter((name) => only.includes(name)) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const { params, only } = parseArgs(process.argv.slice(2));
  const rerun = await rerunAsWorker();
  if (rerun !== null) return rerun;
  const refusal = allocatorRefusal();
  if (refusal !== null) {
    console.error(`bench: ${refusal}`);
    return 2;
  }
  const started = Date.now();
  log(`mode ${params.mode}: ${only.join(', ')}; ${JSON.stringify(params)}`);
  const allocator = benchAllocator();
  const node = benchNode();
  let env: BenchEnv | undefined;
  let ctx: BenchContext | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      await ctx?.closeFleet().catch((err: unknown) => log(`closing the fleet failed: ${String(err)}`));
      await env?.close().catch((err: unknown) => log(`stopping Temporal failed: ${String(err)}`));
    })());
  const onSignal = (signal: string) => {
    log(`${signal}: stopping everything …`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));

  let failed = false;
  try {
    env = await startBenchEnv();
    ctx = new BenchContext(params, env);
    for (const name of only) {
      const t = Date.now();
      try {
        await BENCHMARKS[name]!(ctx);
      } catch (err) {
        failed = true;
        log(`${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      log(`${name} took ${round((Date.now() - t) / 1000)} s`);
    }
  } finally {
    const serverPid = env?.server.pid;
    await stopAll();
    if (serverPid !== undefined && alive(serverPid)) {
      log(`Temporal server pid ${serverPid} still alive after stop: killing it`);
      process.kill(serverPid, 'SIGKILL');
    }
  }
  const totalS = round((Date.now() - started) / 1000);
  if (ctx) {
    const rows = ctx.goals;
    const verdicts = rows.map((r) => r.verdict);
    const passed = verdicts.filter((v) => v === 'PASS').length;
    const missed = verdicts.filter((v) => v === 'FAIL').length;
    const unmeasured = verdicts.filter((v) => v === 'n/a').length;
    console.log(
      formatGoalTable(
        `every figure of this run (${params.mode} mode) against the goals of issue 15: ${passed} pass, ${missed} fail${unmeasured ? `, ${unmeasured} not measurable` : ''}`,
        rows.map((r) => ({ ...r, figure: `${r.figure} [${r.benchmark}]` })),
      ),
    );
    log(
      `wrote ${writeResult(params.mode === 'quick' ? 'summary' : `summary-${params.mode}`, {
        params,
        allocator,
        node,
        benchmarks: only,
        totalSeconds: totalS,
        goals: rows,
        ...ctx.summary,
      })}`,
    );
  }
  log(`done in ${totalS} s${failed ? ' (with failures)' : ''}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
