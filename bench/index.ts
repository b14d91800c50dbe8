/**
 * `npm run bench` (the quick mode, also `--quick`: under 10 minutes on 2 cores) or `npm run bench:full` (real 30-minute
 * tokens, 10,000 sellers, about two hours). `--only=<name>` runs one benchmark: lifecycle, steady, api,
 * ceiling, floor (floor runs steady first: the ratio needs both). Overrides: --sellers=N (fleet),
 * --lifecycle=N, --ttl=SECONDS (token lifetime; sets the time acceleration 1800/ttl), --window=SECONDS.
 *
 * Everything runs against its own Temporal dev server (in memory, free port) and its own emulator
 * (port 0), and everything started is stopped again, also on Ctrl-C.
 */
import { runApiLatency } from './api-latency';
import { runFloorRatio } from './floor-ratio';
import { runLifecycle } from './lifecycle';
import { runSteadyState } from './steady-state';
import { runTokenCeiling } from './token-ceiling';
import { BenchContext, FULL, QUICK, type BenchParams } from './support/context';
import { startBenchEnv, type BenchEnv } from './support/harness';
import { log, round, writeResult } from './support/report';

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<void>> = {
  lifecycle: runLifecycle,
  steady: runSteadyState,
  api: runApiLatency,
  ceiling: runTokenCeiling,
  // Last: it stops our fleet so the bare workflow has the server and this process to itself.
  floor: runFloorRatio,
};

function parseArgs(argv: string[]): { params: BenchParams; only: string[] } {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m?.[1]) throw new Error(`unknown argument ${arg}`);
    flags.set(m[1], m[2] ?? 'true');
  }
  const known = ['quick', 'full', 'only', 'sellers', 'lifecycle', 'ttl', 'window'];
  for (const key of flags.keys()) if (!known.includes(key)) throw new Error(`unknown option --${key}`);
  const params: BenchParams = { ...(flags.has('full') ? FULL : QUICK) };
  const num = (key: string) => {
    const v = Number(flags.get(key));
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${key} must be a positive number`);
    return v;
  };
  if (flags.has('sellers')) params.fleetSellers = num('sellers');
  if (flags.has('lifecycle')) params.lifecycleSellers = num('lifecycle');
  if (flags.has('ttl')) params.tokenTtlSeconds = num('ttl');
  if (flags.has('window')) params.windowMs = num('window') * 1000;
  const only = flags.get('only')?.split(',') ?? Object.keys(BENCHMARKS);
  for (const name of only)
    if (!(name in BENCHMARKS))
      throw new Error(`no benchmark "${name}" (${Object.keys(BENCHMARKS).join(', ')})`);
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
  const started = Date.now();
  log(`mode ${params.mode}: ${only.join(', ')}; ${JSON.stringify(params)}`);
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
  if (ctx) log(`wrote ${writeResult('summary', { params, totalSeconds: totalS, ...ctx.summary })}`);
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
