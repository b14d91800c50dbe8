/**
 * `npm run dev`: the whole system on one machine — the Temporal dev server (persistent SQLite file under
 * DATA_DIR, Web UI, search attributes registered), the OTTO emulator (state file, demo partner), the
 * worker and the API. Waits until each is ready, prints one block of URLs, prefixes every process's log
 * lines, and on Ctrl-C stops everything: each child runs in its own process group, and the group is
 * killed, so whatever a child started goes too.
 *
 * Restarts keep connected sellers connected: Temporal's SQLite file, the emulator's state file and the
 * seal keys all live in DATA_DIR. A lock file there keeps a second `npm run dev` from sharing them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureTemporalCli, PROJECT_ROOT } from './ensure-temporal';
import { bindable, startDevServer, type DevServer } from './temporal-dev-server';
import { tsEntry } from './ts-entry';
import { withJemalloc, withWorkerNodeOptions } from '../worker/allocator';

const env = process.env;
const DATA_DIR = resolve(env.DATA_DIR ?? join(PROJECT_ROOT, '.data'));
const LOCK_FILE = join(DATA_DIR, 'dev.lock');

const port = (name: string, fallback: number): number => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0 || value > 65_535)
    throw new Error(`${name}: must be a port number (got ${env[name]})`);
  return value;
};
const PORTS = {
  temporal: port('TEMPORAL_DEV_PORT', 7233),
  temporalUi: port('TEMPORAL_UI_PORT', 8233),
  emulator: port('OTTO_EMULATOR_PORT', 3900),
  api: port('PORT', 3000),
  ops: port('OPS_PORT', 3001),
  workerMetrics: port('WORKER_METRICS_PORT', 9464),
  workerAppMetrics: port('WORKER_APP_METRICS_PORT', 9465),
};

/** The emulator runs unless switched off, or unless the OTTO hosts are configured (real OTTO). */
const USE_EMULATOR =
  env.EMULATOR !== undefined
    ? !['off', '0', 'false', 'no'].includes(env.EMULATOR.toLowerCase())
    : env.OTTO_AUTH_BASE_URL === undefined;

type ProcName = 'dev' | 'temporal' | 'emulator' | 'worker' | 'api';
const colors: Record<ProcName, number> = { dev: 33, temporal: 35, emulator: 32, worker: 36, api: 34 };
function prefixed(name: ProcName, line: string): void {
  const tag = process.stdout.isTTY ? `\x1b[${colors[name]}m${name.padEnd(8)}\x1b[0m` : name.padEnd(8);
  process.stdout.write(`${tag}| ${line}\n`);
}

// ---- process groups --------------------------------------------------------------------------------

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

async function until(holds: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** SIGTERM to the whole group, SIGKILL whatever is left after the grace period. */
async function stopGroup(pgid: number, graceMs = 10_000): Promise<void> {
  if (!groupAlive(pgid)) return;
  signalGroup(pgid, 'SIGTERM');
  if (await until(() => !groupAlive(pgid), graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  await until(() => !groupAlive(pgid), 2_000);
}

// ---- lock file: one dev stack per DATA_DIR -----------------------------------------------------------

interface Lock {
  pid: number;
  groups: number[];
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A group left behind by a launcher that was SIGKILLed, if it still runs one of our commands. */
function isStaleStackGroup(pgid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pgid}/cmdline`, 'utf8');
    return /temporal|tsx/.test(cmd);
  } catch {
    return groupAlive(pgid);
  }
}

async function acquireLock(): Promise<Lock> {
  mkdirSync(DATA_DIR, { recursive: true });
  const lock: Lock = { pid: process.pid, groups: [] };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeFileSync(fd, JSON.stringify(lock));
      closeSync(fd);
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let previous: Lock | undefined;
    try {
      previous = JSON.parse(readFileSync(LOCK_FILE, 'utf8')) as Lock;
    } catch {
      previous = undefined;
    }
    if (previous && processAlive(previous.pid)) {
      throw new Error(
        `another dev stack (pid ${previous.pid}) is running on ${DATA_DIR}; stop it with Ctrl-C first, ` +
          'or give this one its own DATA_DIR and ports',
      );
    }
    // The previous launcher died without cleaning up (SIGKILL): take down what it left running.
    for (const pgid of previous?.groups ?? []) {
      if (isStaleStackGroup(pgid)) {
        prefixed('dev', `stopping process group ${pgid} left over from a previous run`);
        await stopGroup(pgid, 5_000);
      }
    }
    rmSync(LOCK_FILE, { force: true });
  }
  throw new Error(`could not take the lock ${LOCK_FILE}`);
}

function recordGroup(lock: Lock, pgid: number | undefined): void {
  if (pgid === undefined) return;
  lock.groups.push(pgid);
  writeFileSync(LOCK_FILE, JSON.stringify(lock));
}

// ---- readiness -------------------------------------------------------------------------------------

async function waitForHttp(
  name: string,
  url: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return res;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not ready after ${timeoutMs} ms at ${url}: ${last}`);
}

// ---- children --------------------------------------------------------------------------------------

function startChild(name: ProcName, script: string, childEnv: NodeJS.ProcessEnv): ChildProcess {
  // One node process per child (scripts/ts-entry.ts), so its graceful stop is never cut short.
  const child = spawn(process.execPath, tsEntry(script), {
    cwd: PROJECT_ROOT,
    env: { ...env, ...childEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: Ctrl-C in the terminal reaches only us, and we stop the group in order.
    detached: true,
  });
  let partial = '';
  const forward = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) prefixed(name, line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return child;
}

async function main(): Promise<void> {
  if (!USE_EMULATOR) {
    const missing = ['OTTO_AUTH_BASE_URL', 'OTTO_API_BASE_URL', 'OTTO_APPS'].filter((n) => !env[n]);
    if (missing.length > 0)
      throw new Error(`without the emulator (EMULATOR=off), set ${missing.join(', ')} for the real OTTO`);
  }
  const lock = await acquireLock();
  const children: Array<{ name: ProcName; child: ChildProcess }> = [];
  const running: { server?: DevServer } = {};
  let stopping = false;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    prefixed('dev', 'stopping …');
    // API first (no new work), then the worker (drains), the emulator, and Temporal last.
    for (const { name, child } of [...children].reverse()) {
      if (child.pid === undefined) continue;
      await stopGroup(child.pid);
      prefixed('dev', `${name} stopped`);
    }
    await running.server?.stop();
    if (running.server) prefixed('dev', 'temporal stopped');
    rmSync(LOCK_FILE, { force: true });
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

  try {
    const wanted = Object.entries(PORTS).filter(([name]) => USE_EMULATOR || name !== 'emulator');
    const taken: string[] = [];
    // No host: the wildcard address conflicts with listeners on any interface, as the API's does.
    for (const [name, p] of wanted) if (!(await bindable(p))) taken.push(`${name} ${p}`);
    if (taken.length > 0)
      throw new Error(
        `port(s) in use: ${taken.join(', ')}. Another stack running? Free them or choose others ` +
          '(TEMPORAL_DEV_PORT, TEMPORAL_UI_PORT, OTTO_EMULATOR_PORT, PORT, OPS_PORT, WORKER_METRICS_PORT, WORKER_APP_METRICS_PORT)',
      );

    const cli = ensureTemporalCli({ log: (l) => prefixed('dev', l) });
    prefixed('dev', `Temporal CLI (${cli.source}): ${cli.path} — ${cli.version.split('\n')[0]}`);
    const server = await startDevServer({
      cliPath: cli.path,
      port: PORTS.temporal,
      uiPort: PORTS.temporalUi,
      dbFile: join(DATA_DIR, 'temporal.db'),
      // While stopping, the server's own shutdown warnings (dial errors, failed polls) are only noise.
      onLog: (l) => {
        if (!stopping || /level=(ERROR|FATAL)/.test(l)) prefixed('temporal', l);
      },
    });
    running.server = server;
    recordGroup(lock, server.pid);
    if (stopping) return;

    const publicBaseUrl = env.PUBLIC_BASE_URL ?? `http://localhost:${PORTS.api}`;
    const emulatorUrl = `http://localhost:${PORTS.emulator}`;
    const shared: NodeJS.ProcessEnv = {
      // Dev defaults and relaxations (generated keys, dev API keys, http URLs, loopback) only with this.
      OTTO_CONNECT_ENV: 'dev',
      DATA_DIR,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_UI_URL: env.TEMPORAL_UI_URL ?? `http://localhost:${PORTS.temporalUi}`,
      PUBLIC_BASE_URL: publicBaseUrl,
      // One seller store for the worker and the API (the shop routes), in DATA_DIR.
      SELLER_STORE: env.SELLER_STORE ?? join(DATA_DIR, 'seller-store.db'),
      // Children write to a pipe, not a TTY: ask for pretty lines when a person is watching.
      LOG_PRETTY: env.LOG_PRETTY ?? (process.stdout.isTTY ? '1' : '0'),
    };

    const watch = (name: ProcName, child: ChildProcess) => {
      children.push({ name, child });
      recordGroup(lock, child.pid);
      child.once('exit', (code, signal) => {
        if (stopping) return;
        prefixed('dev', `${name} exited (${code ?? signal}); stopping the stack`);
        void shutdown(1);
      });
    };

    if (USE_EMULATOR) {
      const emulator = startChild('emulator', 'emulator/index.ts', {
        OTTO_EMULATOR_PORT: String(PORTS.emulator),
        EMULATOR_STATE_FILE: join(DATA_DIR, 'emulator-state.json'),
        EMULATOR_SEED_DEMO: '1',
        PUBLIC_BASE_URL: publicBaseUrl,
      });
      watch('emulator', emulator);
      const appsResponse = await waitForHttp(
        'emulator',
        `http://127.0.0.1:${PORTS.emulator}/__admin/apps`,
        emulator,
        30_000,
      );
      const appsJson = await appsResponse.text();
      Object.assign(shared, {
        OTTO_AUTH_BASE_URL: emulatorUrl,
        OTTO_API_BASE_URL: emulatorUrl,
        // An explicit OTTO_APPS wins (e.g. testing one app), otherwise the emulator's own.
        OTTO_APPS: env.OTTO_APPS ?? appsJson,
        // A revocation in the emulator shows within a minute (production: 30 minutes of refusals).
        REVOCATION_CONFIRM_WINDOW: env.REVOCATION_CONFIRM_WINDOW ?? '1m',
        // …and a paused or idle seller is probed every minute (production: hourly).
        REVOCATION_PROBE_INTERVAL: env.REVOCATION_PROBE_INTERVAL ?? '1m',
      });
    }
    if (stopping) return;

    // On jemalloc when the machine has it, with the main thread's semi-space capped, as in the Docker
    // Compose worker (worker/allocator.ts).
    const worker = startChild(
      'worker',
      'worker/index.ts',
      withWorkerNodeOptions(
        withJemalloc({
          ...env,
          ...shared,
          WORKER_METRICS_PORT: String(PORTS.workerMetrics),
          WORKER_APP_METRICS_PORT: String(PORTS.workerAppMetrics),
          // Its drain fits the launcher's stop (stopGroup: SIGKILL after 10 s); production's default is 30 s.
          WORKER_SHUTDOWN_GRACE: env.WORKER_SHUTDOWN_GRACE ?? '8s',
        }),
      ),
    );
    watch('worker', worker);
    const api = startChild('api', 'api/index.ts', {
      ...shared,
      PORT: String(PORTS.api),
      OPS_PORT: String(PORTS.ops),
    });
    watch('api', api);
    await Promise.all([
      waitForHttp('worker', `http://127.0.0.1:${PORTS.workerAppMetrics}/readyz`, worker, 120_000),
      // Readiness is on the API's ops port (loopback), not on its public port.
      waitForHttp('api', `http://127.0.0.1:${PORTS.ops}/readyz`, api, 60_000),
    ]);
    if (stopping) return;

    const b = (label: string, value: string) => `  ${label.padEnd(16)} ${value}`;
    console.log(
      [
        '',
        '  otto-connect dev stack is up',
        b('API', `${publicBaseUrl}  (docs ${publicBaseUrl}/api/docs)`),
        // The assistant opens only through a one-time session link the shop's backend asks for.
        b(
          'Assistant',
          `curl -X POST -H "Authorization: Bearer ${env.API_KEYS ? '<admin key>' : 'dev-admin-key'}" ${publicBaseUrl}/api/sellers/demo-seller/assistant-sessions`,
        ),
        b('', '→ { "url", … }: open that one-time link in a browser (works once, within minutes)'),
        b('Temporal UI', server.uiUrl ?? 'n/a'),
        b('API ops', `http://127.0.0.1:${PORTS.ops}  (/healthz, /readyz, /metrics)`),
        USE_EMULATOR
          ? b('OTTO emulator', `${emulatorUrl}  (login demo-admin / demo-password)`)
          : b('OTTO', `${env.OTTO_AUTH_BASE_URL} (real OTTO; emulator off)`),
        b('Admin API key', env.API_KEYS ? '(from API_KEYS)' : 'dev-admin-key'),
        '  Connect the demo seller: npm run demo    Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    prefixed('dev', err instanceof Error ? err.message : String(err));
    await shutdown(1);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  if (existsSync(LOCK_FILE)) {
    try {
      if ((JSON.parse(readFileSync(LOCK_FILE, 'utf8')) as Lock).pid === process.pid) rmSync(LOCK_FILE);
    } catch {
      /* not ours or unreadable */
    }
  }
  process.exit(1);
});
