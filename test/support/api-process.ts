/**
 * Runs `api/index.ts` as deployed (`node lib/api/index.js`), in a process of its own on free ports, with tsx
 * as a loader: tsx's CLI would run the API in a second process and relay SIGTERM to it, and SIGKILL it
 * (exit 143) when the API's event loop is busy for ~60 ms just then, as on a loaded CI machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { generateSealKey } from '../../common/seal';
import { freePort } from '../../scripts/temporal-dev-server';
import { tsEntry } from '../../scripts/ts-entry';
import { TEST_APPS } from '../api/test-app';
import { testAddress } from './temporal';

const ROOT = join(__dirname, '..', '..');

/** A production configuration against the test run's Temporal and made-up OTTO hosts (no OTTO is called). */
export function standaloneApiEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    TEMPORAL_ADDRESS: testAddress(),
    PUBLIC_BASE_URL: 'https://connect.shop.test',
    OTTO_AUTH_BASE_URL: 'https://otto-auth.test',
    OTTO_API_BASE_URL: 'https://otto-api.test',
    OTTO_APPS: JSON.stringify(TEST_APPS),
    SEAL_KEYS: generateSealKey('k1'),
    STATE_SIGNING_KEY: randomBytes(32).toString('base64url'),
  };
}

export interface ApiProcess {
  child: ChildProcess;
  port: number;
  opsPort: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Its exit code and when it exited. */
  exited: Promise<{ code: number | null; at: number }>;
  /** SIGKILLs it (and its process group) if it still runs. */
  kill(): Promise<void>;
}

/**
 * Starts the API with `env` (plus PATH, LOG_LEVEL=INFO and its two ports) and waits until both its servers
 * listen; throws with its output when it exits or does not come up within 30 s.
 */
export async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const [port, opsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, tsEntry(join(ROOT, 'api', 'index.ts')), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'INFO',
      ...env,
      PORT: String(port),
      OPS_PORT: String(opsPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: kill() takes down anything it started, too.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  const api: ApiProcess = {
    child,
    port,
    opsPort,
    output: () => output,
    exited,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  while (!(output.includes('otto-connect API on') && output.includes('ops endpoints on'))) {
    if (child.exitCode !== null) throw new Error(`the API exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      await api.kill();
      throw new Error(`the API did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return api;
}
