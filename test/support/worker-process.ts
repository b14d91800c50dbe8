/** Runs `worker/index.ts` as a separate process, so tests can SIGKILL it like a crashed machine. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../scripts/temporal-dev-server';
import { tsEntry } from '../../scripts/ts-entry';

const ROOT = join(__dirname, '..', '..');

export class WorkerProcess {
  private output = '';
  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(baseEnv: NodeJS.ProcessEnv, readyTimeoutMs = 60_000): Promise<WorkerProcess> {
    // A "free" port can be taken by someone else before the worker binds it: pick new ones and retry.
    for (let attempt = 1; ; attempt++) {
      try {
        return await WorkerProcess.startOnce(baseEnv, readyTimeoutMs);
      } catch (err) {
        if (attempt >= 3 || !String(err).includes('EADDRINUSE')) throw err;
      }
    }
  }

  private static async startOnce(baseEnv: NodeJS.ProcessEnv, readyTimeoutMs: number): Promise<WorkerProcess> {
    // Each worker process serves its own metrics; free ports keep parallel test files apart.
    const env = {
      ...baseEnv,
      WORKER_METRICS_PORT: String(await freePort()),
      WORKER_APP_METRICS_PORT: String(await freePort()),
    };
    const child = spawn(process.execPath, tsEntry(join(ROOT, 'worker', 'index.ts')), {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a kill takes down anything the worker started, too.
      detached: true,
    });
    const worker = new WorkerProcess(child);
    const deadline = Date.now() + readyTimeoutMs;
    while (!worker.output.includes('worker polling')) {
      if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${worker.output}`);
      if (Date.now() > deadline) {
        await worker.kill();
        throw new Error(`worker not ready after ${readyTimeoutMs} ms:\n${worker.output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return worker;
  }

  get log(): string {
    return this.output;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    process.kill(-this.child.pid!, signal);
    await exited;
    // The group may outlive the launcher for a moment; make sure nothing of it keeps polling.
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
