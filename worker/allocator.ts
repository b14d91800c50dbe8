/**
 * The worker's memory allocator. A cached workflow run keeps native memory in the Temporal core (Rust,
 * outside V8), allocated and freed from many threads; under glibc's malloc that memory fragments across
 * per-thread arenas and stays in the RSS long after it is freed. jemalloc, preloaded, gives most of it
 * back: docs/scaling.md §4 measured about a third of the worker's RSS per seller. The Docker image preloads
 * it (Dockerfile); `npm run dev` and the benchmarks preload it when the machine has it (Debian:
 * `apt-get install libjemalloc2`); the worker logs which one it runs on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

export type Allocator = 'jemalloc' | 'system' | 'unknown';

/** Where Debian's libjemalloc2 (and the Docker image's link to it) put the library. */
export const JEMALLOC_PATHS: readonly string[] = [
  '/usr/local/lib/libjemalloc.so.2',
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
];

/**
 * The jemalloc library to preload: `JEMALLOC_PATH` when set (empty: none, the system's malloc), else the
 * first of JEMALLOC_PATHS that exists; undefined when there is none.
 */
export function findJemalloc(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  const chosen = env.JEMALLOC_PATH;
  if (chosen !== undefined) return chosen.trim() === '' ? undefined : chosen;
  return JEMALLOC_PATHS.find((path) => exists(path));
}

/**
 * The environment for a child process that should run on jemalloc: LD_PRELOAD gains the library (kept
 * once) when findJemalloc finds one; otherwise the environment unchanged.
 */
export function withJemalloc(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): NodeJS.ProcessEnv {
  const library = findJemalloc(env, exists);
  if (library === undefined) return env;
  const preload = (env.LD_PRELOAD ?? '').split(/[\s:]+/).filter((p) => p !== '');
  if (preload.includes(library)) return env;
  return { ...env, LD_PRELOAD: [library, ...preload].join(':') };
}

/** Which allocator this process runs on, from the libraries mapped into it (Linux); `unknown` elsewhere. */
export function allocatorInUse(
  readMaps: () => string = () => readFileSync('/proc/self/maps', 'utf8'),
): Allocator {
  let maps: string;
  try {
    maps = readMaps();
  } catch {
    return 'unknown';
  }
  return /libjemalloc[^/\s]*\.so/.test(maps) ? 'jemalloc' : 'system';
}

/**
 * Node 22+ sizes a V8 heap's young generation by the machine's memory: on a box with a few GB each
 * isolate's semi-spaces grow to 64 MB (128 MB of new space; Node 20: 16 MB). The workflow threads churn
 * through short-lived garbage (activations, payloads), so theirs grow to the maximum and stay in the RSS:
 * on Node 24 that was 835 KB of RSS per cached workflow against 269 KB at 8 MB and 194 KB on Node 20
 * (bench:run-growth, 200 bare workflows, docs/scaling.md §4). A young generation only has to hold what
 * one activation allocates, and a busy heap writes all of its new space (two semi-spaces): at 4 MB, a
 * fixed ≈ 48 MB less RSS per worker than at 16 MB (Node 20's default) for the main thread and the
 * workflow thread together. Steady 500-seller runs side by side read 212 KB of RSS per seller above the
 * idle workers at 4 MB, 194 KB at 2 MB and 281 KB at 16 MB, with no CPU cost the floor ratio could show
 * (docs/scaling.md §4, "The young generation, smaller").
 */
export const DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB = 4;

/** The V8 option that caps a heap's semi-space at `mb` MB. */
export function semiSpaceOption(mb: number): string {
  return `--max-semi-space-size=${mb}`;
}

/**
 * The same cap for the worker's main thread, where the SDK's activation pipeline and our activities run:
 * its heap exists before any of our code, so only a Node option sets it. The Docker Compose worker,
 * `npm run start:worker`, `npm run dev` and the benchmarks start the worker with it; the worker logs
 * whether it has it. A steady 500-seller run: 327 → 278 KB of RSS per seller (docs/scaling.md §4).
 */
export const WORKER_MAIN_THREAD_NODE_OPTION = semiSpaceOption(DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB);

/** The main thread's semi-space cap in MB from this process's Node options, or null when none was given. */
export function mainThreadSemiSpaceMb(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): number | null {
  let mb: number | null = null;
  // NODE_OPTIONS is read first, the command line after it (the command line wins).
  for (const arg of [...nodeOptions.split(/\s+/), ...execArgv]) {
    const m = /^--max[-_]semi[-_]space[-_]size=(\d+)$/.exec(arg);
    if (m) mb = Number(m[1]);
  }
  return mb;
}

/** The environment for a worker child process: NODE_OPTIONS gains WORKER_MAIN_THREAD_NODE_OPTION unless it sets a cap. */
export function withWorkerNodeOptions(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const current = env.NODE_OPTIONS ?? '';
  if (mainThreadSemiSpaceMb([], current) !== null) return env;
  return {
    ...env,
    NODE_OPTIONS: [WORKER_MAIN_THREAD_NODE_OPTION, current].filter((o) => o.trim() !== '').join(' '),
  };
}

/**
 * Caps the semi-space of the V8 isolates this process creates from now on: the SDK's workflow threads,
 * created by Worker.create below (a process-wide V8 flag, read by each new isolate; the main thread's
 * heap exists already and keeps its size). 0 leaves V8's default.
 */
export function limitWorkflowThreadSemiSpace(mb: number): void {
  if (mb > 0) setFlagsFromString(semiSpaceOption(mb));
}

/**
 * The size of the pool small Buffers are cut from in the worker's main thread, in bytes. Node 24 cuts
 * every Buffer under 32 KB from a shared 64 KB ArrayBuffer (`Buffer.poolSize`, 8 KB before), and the
 * SDK keeps each cached run's last encoded activation completion (a few hundred bytes, cut from that
 * pool) until the run's next activation: so each cached seller pinned a slice's whole 64 KB slab, about
 * 25 KB of RSS per seller shared out (heap snapshot of a 500-seller worker, docs/scaling.md §4). With no
 * pool each Buffer owns exactly its bytes.
 */
export const WORKER_BUFFER_POOL_BYTES = 0;

/** Sets the pool small Buffers are cut from (this thread's `Buffer.poolSize`); see WORKER_BUFFER_POOL_BYTES. */
export function limitBufferPool(bytes: number = WORKER_BUFFER_POOL_BYTES): void {
  Buffer.poolSize = bytes;
}
