/**
 * The benchmarks measure the worker as production runs it: on jemalloc (worker/allocator.ts, the
 * Dockerfile) and with its main thread's semi-space capped (the Compose worker's command). A benchmark
 * process started without them runs itself again with both: jemalloc preloaded when the machine has it
 * (Debian: `apt-get install libjemalloc2`; `JEMALLOC_PATH=`, empty, measures the system's malloc
 * instead). Every result names the allocator it ran on; the log names the semi-space too.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../scripts/ensure-temporal';
import {
  type Allocator,
  allocatorInUse,
  findJemalloc,
  mainThreadSemiSpaceMb,
  WORKER_MAIN_THREAD_NODE_OPTION,
  withJemalloc,
} from '../../worker/allocator';
import { log } from './report';

/** Set in the rerun's environment. */
const RERUN_MARK = 'OTTO_BENCH_ALLOCATOR_RERUN';

/**
 * Runs this script again as production runs the worker (this process hosts it): preloading jemalloc
 * when it runs on the system's malloc and a jemalloc is there, and with the main thread's semi-space
 * capped (worker/allocator.ts, WORKER_MAIN_THREAD_NODE_OPTION) when its Node options do not cap it.
 * Resolves with the child's exit code (the caller exits with it), or null when this process is the one
 * to measure. Ctrl-C reaches the child from the terminal; SIGTERM is passed on.
 */
export async function rerunAsWorker(): Promise<number | null> {
  // Once only: a library that is there but does not load (another architecture, say) leaves the rerun on
  // the system's malloc too, and it must measure that instead of starting yet another process.
  if (process.env[RERUN_MARK] !== undefined) return null;
  const needsJemalloc = allocatorInUse() === 'system' && findJemalloc() !== undefined;
  if (!needsJemalloc && mainThreadSemiSpaceMb() !== null) return null;
  // The cap as a command-line option, not in NODE_OPTIONS: the API, emulator and load processes this
  // one forks run as production runs them, without it (childExecArgv).
  const cap = mainThreadSemiSpaceMb() === null ? [WORKER_MAIN_THREAD_NODE_OPTION] : [];
  const child = spawn(process.execPath, [...cap, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...withJemalloc(process.env), [RERUN_MARK]: '1' },
  });
  const ignore = () => undefined;
  const pass = () => child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', pass);
  return await new Promise<number>((resolve) => {
    child.on('exit', (code) => resolve(code ?? 130));
  });
}

/**
 * The Node this benchmark runs on, logged once and recorded in its results, with a warning when it is not
 * the project's (.nvmrc; the Docker image's): Node 24 keeps far more of the workflow threads' garbage in
 * the RSS than Node 20 did (docs/scaling.md §4), so figures from another Node do not describe production.
 */
export function benchNode(): string {
  let wanted: string | undefined;
  try {
    wanted = readFileSync(join(PROJECT_ROOT, '.nvmrc'), 'utf8').trim();
  } catch {
    wanted = undefined;
  }
  const major = (v: string) => v.replace(/^v/, '').split('.')[0];
  if (wanted !== undefined && major(wanted) !== major(process.version))
    log(
      `node ${process.version}: NOT the project's Node ${wanted} (.nvmrc, the Docker image); its memory and CPU figures differ. Run with .tools/node-v${wanted}/bin first on PATH (.ci/run installs it)`,
    );
  else log(`node ${process.version}`);
  return process.version;
}

/**
 * The Node options for a process this one forks (the API, the emulator, the load generator): its own, for
 * tsx's loader, without the worker's main-thread semi-space cap, which production gives the worker only.
 */
export function childExecArgv(): string[] {
  return process.execArgv.filter((arg) => mainThreadSemiSpaceMb([arg], '') === null);
}

/**
 * Why this benchmark process must not measure, or null: it runs on the system's malloc without being
 * asked to (`JEMALLOC_PATH=`, empty). Production runs the worker on jemalloc, and on glibc's malloc the
 * RSS per seller comes out about twice as high (docs/scaling.md §4): a run that measures the wrong
 * allocator by accident costs a quarter of an hour and reads as a regression.
 */
export function allocatorRefusal(
  env: NodeJS.ProcessEnv = process.env,
  allocator: Allocator = allocatorInUse(),
): string | null {
  if (allocator !== 'system' || env.JEMALLOC_PATH === '') return null;
  return env.JEMALLOC_PATH === undefined
    ? 'no jemalloc on this machine: the benchmarks measure the worker on jemalloc, as production runs it. Install it (apt-get install libjemalloc2) or name it (JEMALLOC_PATH=/path/libjemalloc.so.2); JEMALLOC_PATH= (empty) measures the system malloc on purpose'
    : `JEMALLOC_PATH=${env.JEMALLOC_PATH} did not load (this process runs on the system malloc): name a jemalloc library that exists for this architecture, or set JEMALLOC_PATH= (empty) to measure the system malloc on purpose`;
}

/** The allocator this benchmark process runs on, logged once and recorded in its results. */
export function benchAllocator(): string {
  const allocator = allocatorInUse();
  if (allocator === 'system')
    log(
      'allocator: the system malloc, as asked (JEMALLOC_PATH= empty); production runs on jemalloc, so the RSS figures are higher than its',
    );
  else log(`allocator: ${allocator}`);
  const semiSpace = mainThreadSemiSpaceMb();
  log(
    `main thread semi-space: ${semiSpace === null ? "V8's default (not as production runs the worker)" : `${semiSpace} MB`}`,
  );
  return allocator;
}
