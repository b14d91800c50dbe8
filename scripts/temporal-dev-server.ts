/**
 * Starts `temporal server start-dev` as a child process with our search attributes registered and
 * the features the workflow needs enabled, waits until it answers, and stops it without leaving an
 * orphan. Used by the jest global setup and by `npm run dev`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../workflows/definitions';

export interface DevServerOptions {
  cliPath: string;
  ip?: string;
  port?: number;
  /** Web UI port; omitted → headless. */
  uiPort?: number;
  /** Persistent SQLite file; omitted → in memory. */
  dbFile?: string;
  namespace?: string;
  onLog?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  pid: number;
  uiUrl: string | null;
  stop(): Promise<void>;
}

/** Ports this process handed out: none is given twice. */
const handedOut = new Set<number>();
/** This process's slice of handOutRange, read once. */
let range: [number, number] | undefined;

/**
 * The range freePort draws from: the 12,000 ports just below the OS's ephemeral range (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default). A port handed out is closed again
 * until its user binds it; in that gap an OS-chosen port (every outgoing connection's local port, every
 * server listening on port 0, the Temporal dev server's internal services) could take it if it came
 * from the ephemeral range: "Address already in use" at random. Below that range only another explicit
 * choice can collide.
 */
export function handOutRange(
  readRange: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
): [number, number] {
  let low = 32_768;
  try {
    const first = Number(readRange().trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 3_000 && first <= 65_535) low = first;
  } catch {
    // not Linux: the IANA dynamic range starts at 49152, Linux's default at 32768; the lower is safe for both
  }
  return [Math.max(1_024, low - 12_000), low - 1];
}

/** How many slices processSlice cuts the hand-out range into: one for the parent, the rest for jest's workers. */
export const PORT_SLICES = 8;

/**
 * The part of `range` this process draws from. Two processes drawing from one range could both find the
 * same port free and hand it out (each knows only its own ports): jest's test files run in several worker
 * processes at once. So the range is cut into PORT_SLICES slices: a process outside jest (the global setup,
 * npm run dev, the benchmarks) draws from the first, jest worker n (JEST_WORKER_ID, from 1) from slice
 * 1 + (n − 1) mod (PORT_SLICES − 1). With up to seven workers no two processes share a slice.
 */
export function processSlice(
  [from, to]: [number, number],
  env: { JEST_WORKER_ID?: string } = process.env,
): [number, number] {
  const worker = Number(env.JEST_WORKER_ID ?? '');
  const index = Number.isInteger(worker) && worker >= 1 ? 1 + ((worker - 1) % (PORT_SLICES - 1)) : 0;
  const size = Math.floor((to - from + 1) / PORT_SLICES);
  return [from + index * size, from + (index + 1) * size - 1];
}

/**
 * A port free now on `host`, outside the OS's ephemeral range (handOutRange), in this process's slice of it
 * (processSlice), never one this process handed out before; the OS's own choice only if 200 draws found
 * none free.
 */
export async function freePort(host = '127.0.0.1', random: () => number = Math.random): Promise<number> {
  const [from, to] = (range ??= processSlice(handOutRange()));
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(random() * (to - from + 1));
    if (handedOut.has(port) || !(await bindable(port, host))) continue;
    handedOut.add(port);
    return port;
  }
  const port = await osFreePort(host);
  handedOut.add(port);
  return port;
}

/**
 * Whether a server could listen on `port` now: on `host`, or without one on the wildcard address, which
 * conflicts with listeners on any interface.
 */
export async function bindable(port: number, host?: string): Promise<boolean> {
  return await new Promise((resolveFree) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolveFree(false));
    const listening = () => srv.close(() => resolveFree(true));
    if (host === undefined) srv.listen(port, listening);
    else srv.listen(port, host, listening);
  });
}

async function osFreePort(host: string): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === 'object' ? resolvePort(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

export function devServerArgs(
  opts: DevServerOptions & { port: number; httpPort: number; metricsPort: number },
): string[] {
  const args = ['server', 'start-dev', '--ip', opts.ip ?? '127.0.0.1', '--port', String(opts.port)];
  args.push('--http-port', String(opts.httpPort), '--metrics-port', String(opts.metricsPort));
  if (opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const { name, cliType } of SEARCH_ATTRIBUTE_REGISTRATIONS)
    args.push('--search-attribute', `${name}=${cliType}`);
  // Updates and update-with-start (multi-operation) must be on.
  args.push(
    '--dynamic-config-value',
    'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value',
    'frontend.enableExecuteMultiOperation=true',
  );
  return args;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

async function waitUntilReady(
  address: string,
  namespace: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(
        `temporal server exited with code ${child.exitCode} before it was ready; its last output:\n${output()}`,
      );
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = SEARCH_ATTRIBUTE_REGISTRATIONS.filter(
          ({ name }) => !(customAttributes && name in customAttributes),
        );
        if (missing.length === 0) return;
        lastError = new Error(
          `search attributes not registered yet: ${missing.map((m) => m.name).join(', ')}`,
        );
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `temporal server at ${address} not ready after ${timeoutMs} ms: ${String(lastError)}; its last output:\n${output()}`,
  );
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(ip));
  const httpPort = await freePort(ip);
  const metricsPort = await freePort(ip);
  const args = devServerArgs({ ...opts, ip, port, httpPort, metricsPort });
  // Own process group, so stop() takes down anything the CLI spawned too.
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const onLog = opts.onLog ?? (() => undefined);
  // The last lines it printed, for the error when it does not come up.
  const recent: string[] = [];
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      onLog(line);
      recent.push(line);
      if (recent.length > 20) recent.shift();
    }
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Whatever happens to this process, the server goes with it: a normal exit, or a signal that would end
  // the process without an 'exit' event (the handler runs once, then the signal is raised again).
  const onExit = () => killGroup(child, 'SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    onExit();
    process.kill(process.pid, signal);
  };
  process.once('exit', onExit);
  // Only where nobody else manages shutdown (npm run dev stops its processes in order itself).
  const guarded = (['SIGTERM', 'SIGHUP'] as const).filter((signal) => process.listenerCount(signal) === 0);
  for (const signal of guarded) process.once(signal, onSignal);

  const stop = async () => {
    process.removeListener('exit', onExit);
    for (const signal of guarded) process.removeListener(signal, onSignal);
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const address = `${ip}:${port}`;
  try {
    await waitUntilReady(address, opts.namespace ?? 'default', child, opts.readyTimeoutMs ?? 60_000, () =>
      recent.join('\n'),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    pid: child.pid ?? -1,
    uiUrl: opts.uiPort === undefined ? null : `http://localhost:${opts.uiPort}`,
    stop,
  };
}
