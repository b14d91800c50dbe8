/**
 * The API in a child process of its own, as in production (api/index.ts; docker-compose.yml runs it as
 * its own service): the same composition as api/index.ts (api/compose.ts), configured from the
 * environment (api/config.ts), plus the one thing production has not: the benchmark's accelerated
 * settings as each new seller workflow's overrides. So the workers' CPU bursts and GC pauses are not in
 * the API's latencies, and the API's heap is not in the worker's RSS.
 * The seller store is the benchmark's SQLite file (SELLER_STORE): the status rows the workers write are
 * what `GET …/connection` reads, as in production. Not started here: the ops server (nothing scrapes it).
 * Parent side: startApiProcess(). Child side: this file run through fork().
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { childExecArgv } from './allocator';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../common/config';
import { createLogger } from '../../common/logger';
import { apiConfigSchema } from '../../api/config';
import { composeApi } from '../../api/compose';
import type { WorkflowSettingsInput } from '../../workflows/definitions';

type ToChild = { type: 'stop' };
type FromChild = { type: 'ready'; port: number } | { type: 'error'; message: string };

export interface ApiProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export interface ApiProcessOptions {
  /** The API's environment (api/config.ts); PORT and HOST are set here (a free loopback port). */
  env: Record<string, string>;
  /** Each new seller workflow's settings overrides (the benchmark's accelerated timing). */
  overrides: WorkflowSettingsInput;
}

export async function startApiProcess(options: ApiProcessOptions): Promise<ApiProcess> {
  // The child takes this process's execArgv (tsx's loader, so it can run TypeScript) minus the worker's cap.
  // BENCH_API_CPU_PROF=<dir>: a V8 CPU profile of the API process, written when it stops.
  const profDir = process.env.BENCH_API_CPU_PROF;
  const child: ChildProcess = fork(__filename, [JSON.stringify(options.overrides)], {
    execArgv: profDir ? [...childExecArgv(), '--cpu-prof', `--cpu-prof-dir=${profDir}`] : childExecArgv(),
    env: { PATH: process.env.PATH ?? '', ...options.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('API child did not start in 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`API child exited with ${code}`)));
    child.on('message', (raw) => {
      const msg = raw as FromChild;
      clearTimeout(timer);
      if (msg.type === 'ready') resolve(msg.port);
      else reject(new Error(`API child: ${msg.message}`));
    });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function runChild(): Promise<void> {
  const overrides = JSON.parse(process.argv[2] ?? '{}') as WorkflowSettingsInput;
  const send = (msg: FromChild) => process.send?.(msg);
  try {
    const config = loadConfig(apiConfigSchema, process.env);
    const logger = createLogger({ name: 'api', level: config.LOG_LEVEL.toLowerCase(), pretty: false });
    const { app, close } = await composeApi(config, logger, { overrides });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
    send({ type: 'ready', port: (server.address() as AddressInfo).port });
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 5_000).unref();
      server.close(() => {
        void close().finally(() => process.exit(0));
      });
    };
    process.on('message', (msg: ToChild) => {
      if (msg.type === 'stop') stop();
    });
    // The parent died or closed the channel: never outlive it.
    process.on('disconnect', stop);
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
}

if (require.main === module && process.send !== undefined) void runChild();
