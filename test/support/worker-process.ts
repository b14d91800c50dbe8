/** Runs `worker/index.ts` as a separate process, so tests can SIGKILL it like a crashed machine. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export class WorkerProcess {
  private output = '';
  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  static async start(env: NodeJS.ProcessEnv, readyTimeoutMs = 60_000): Promise<WorkerProcess> {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'worker', 'index.ts')],
      {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const worker = new WorkerProcess(child);
    const deadline = Date.now() + readyTimeoutMs;
    while (!worker.output.includes('worker polling')) {
      if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${worker.output}`);
      if (Date.now() > deadline)
        throw new Error(`worker not ready after ${readyTimeoutMs} ms:\n${worker.output}`);
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
    this.child.kill(signal);
    await exited;
  }
}
