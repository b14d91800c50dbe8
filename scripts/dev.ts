/**
 * `npm run dev`: the whole system on one machine. Today: the Temporal dev server (persistent SQLite file
 * under .data/, Web UI on 8233, search attributes registered) and the worker. Waits until each is up,
 * prints the URLs, prefixes every process's log lines, and stops everything on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTemporalCli, PROJECT_ROOT } from './ensure-temporal';
import { startDevServer, type DevServer } from './temporal-dev-server';

const DATA_DIR = join(PROJECT_ROOT, '.data');
const TEMPORAL_PORT = Number(process.env.TEMPORAL_DEV_PORT ?? 7233);
const UI_PORT = Number(process.env.TEMPORAL_UI_PORT ?? 8233);

const colors = { temporal: 35, worker: 36, dev: 33 } as const;
function prefixed(name: keyof typeof colors, line: string): void {
  const tag = process.stdout.isTTY ? `\x1b[${colors[name]}m${name.padEnd(8)}\x1b[0m` : name.padEnd(8);
  console.log(`${tag}| ${line}`);
}

function startChild(name: keyof typeof colors, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), script],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const forward = (chunk: Buffer) =>
    chunk
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .forEach((l) => prefixed(name, l));
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(-child.pid, 'SIGINT');
  const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true });
  const cli = ensureTemporalCli({ log: (l) => prefixed('dev', l) });
  prefixed('dev', `Temporal CLI (${cli.source}): ${cli.path} — ${cli.version}`);

  const children: ChildProcess[] = [];
  const running: { server?: DevServer } = {};
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    prefixed('dev', 'stopping …');
    for (const child of children.reverse()) await stopChild(child);
    await running.server?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const server = await startDevServer({
    cliPath: cli.path,
    port: TEMPORAL_PORT,
    uiPort: UI_PORT,
    dbFile: join(DATA_DIR, 'temporal.db'),
    onLog: (l) => prefixed('temporal', l),
  });
  running.server = server;

  const worker = startChild('worker', 'worker/index.ts', { TEMPORAL_ADDRESS: server.address });
  children.push(worker);
  worker.once('exit', (code) => {
    if (!stopping) {
      prefixed('dev', `worker exited (${code ?? 'signal'}); stopping the stack`);
      void shutdown(1);
    }
  });

  console.log(
    [
      '',
      '  otto-connect dev stack is up',
      `  Temporal frontend  ${server.address}`,
      `  Temporal UI        ${server.uiUrl ?? 'n/a'}`,
      `  Task queue         otto-connect`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
