/**
 * The OTTO emulator in a child process (still `startEmulator({ port: 0 })`), so the CPU the benchmarks
 * charge to "the worker" is the worker's alone: the emulator's own CPU is read separately.
 * Parent side: startEmulatorProcess(). Child side: this file run through fork().
 */
import { fork, type ChildProcess } from 'node:child_process';
import { childExecArgv } from './allocator';
import { startEmulator, type StartEmulatorOptions } from '../../emulator/start-emulator';

type ToChild = { type: 'stop' };
type FromChild = { type: 'ready'; url: string } | { type: 'error'; message: string };

export interface EmulatorProcess {
  url: string;
  pid: number;
  admin<T = unknown>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

type ChildOptions = Omit<StartEmulatorOptions, 'now' | 'random' | 'apps'>;

export async function startEmulatorProcess(options: ChildOptions): Promise<EmulatorProcess> {
  // The child takes this process's execArgv (tsx's loader, so it can run TypeScript) minus the worker's cap.
  const child: ChildProcess = fork(__filename, [JSON.stringify({ ...options, port: 0 })], {
    execArgv: childExecArgv(),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('emulator child did not start in 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`emulator child exited with ${code}`)));
    child.on('message', (raw) => {
      const msg = raw as FromChild;
      clearTimeout(timer);
      if (msg.type === 'ready') resolve(msg.url);
      else reject(new Error(`emulator child: ${msg.message}`));
    });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  return {
    url,
    pid: child.pid ?? -1,
    async admin<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${url}/__admin${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`emulator admin ${method} ${path} → ${res.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ToChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function runChild(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
  const send = (msg: FromChild) => process.send?.(msg);
  try {
    const running = await startEmulator(options);
    send({ type: 'ready', url: running.url });
    const stop = () => {
      void running.close().finally(() => process.exit(0));
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
