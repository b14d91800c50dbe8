/**
 * Runs a command on the Node this project supports, so `npm run dev`, `npm test`, `npm run demo` and
 * `npm run bench` work on a machine whose Node is another version (package.json runs them through this):
 *
 *   node scripts/on-node.mjs <command> [args…]
 *
 * - The running Node satisfies package.json `engines.node`: the command runs as it is.
 * - It does not: the Node pinned in .nvmrc is installed once into the git-ignored `.tools/node-v<pin>/`
 *   from the npm registry's `node-<os>-<arch>` package (the same place and package `.ci/run` uses), and
 *   the command runs with that Node first on PATH (so `node`, and every `#!/usr/bin/env node` script
 *   such as jest or tsx, is the pinned one) and `npm_config_nodedir` pointing at its headers (native
 *   add-ons build against it). One line on stderr says so.
 * - `OTTO_NODE=system` runs the command on the machine's Node whatever its version (unsupported).
 *
 * The command inherits stdio; its exit code (or its signal) is this process's. SIGTERM and SIGHUP sent to
 * this process are passed on; SIGINT is not (Ctrl-C reaches the whole foreground process group, the
 * command included, and dev's Ctrl-C handling must see it once). Plain Node with `node:` imports only:
 * it runs before anything is installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmCommand } from './ensure-deps.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = '[on-node]';

/** [major, minor, patch] of "v24.1.0" or "24.1.0". */
export function parseVersion(text) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a version: ${JSON.stringify(text)}`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * Whether `version` satisfies `range`: comparators (`>=`, `>`, `<=`, `<`, `=` or none) joined by spaces
 * (all must hold), alternatives joined by `||`. That is what engines ranges here use; anything else
 * (`^`, `~`, `x`, hyphens) throws rather than guess.
 */
export function satisfies(version, range) {
  const v = parseVersion(version);
  return range.split('||').some((set) =>
    set
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((comparator) => {
        const m = /^(>=|<=|>|<|=)?(v?\d+(?:\.\d+){0,2})$/.exec(comparator);
        if (!m) throw new Error(`unsupported engines comparator ${JSON.stringify(comparator)}`);
        const c = compare(v, parseVersion(m[2]));
        switch (m[1] ?? '=') {
          case '>=':
            return c >= 0;
          case '>':
            return c > 0;
          case '<=':
            return c <= 0;
          case '<':
            return c < 0;
          default:
            return c === 0;
        }
      }),
  );
}

/** The npm registry's Node package for this machine, or undefined. */
export function nodePackageName(platform = process.platform, arch = process.arch) {
  const os = { linux: 'linux', darwin: 'darwin' }[platform];
  const cpu = { x64: 'x64', arm64: 'arm64' }[arch];
  return os && cpu ? `node-${os}-${cpu}` : undefined;
}

function installedVersion(nodeDir) {
  const result = spawnSync(join(nodeDir, 'bin', 'node'), ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Installs Node `pin` into `.tools/node-v<pin>` unless it is there; returns that directory. */
function ensurePinnedNode(pin, why, root) {
  const nodeDir = join(root, '.tools', `node-v${pin}`);
  if (installedVersion(nodeDir) === `v${pin}`) return nodeDir;
  const pkgName = nodePackageName();
  if (!pkgName)
    throw new Error(
      `${why}, and the npm registry has no Node package for ${process.platform}-${process.arch}: install Node ${pin} (see .nvmrc)`,
    );
  console.error(
    `${PREFIX} ${why}: installing Node ${pin} (${pkgName}@${pin} from the npm registry) into .tools/ (once) …`,
  );
  // Unpacked in a directory of this process's own and renamed into place: two first runs at once (npm run
  // dev and npm test started together) each install, one rename wins and the other uses its result.
  const tmp = `${nodeDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  // A broken or other version there (an interrupted copy, a changed .nvmrc pin) makes way.
  if (existsSync(nodeDir)) rmSync(nodeDir, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const npm = npmCommand();
    const packed = spawnSync(npm.cmd, [...npm.args, 'pack', '--silent', `${pkgName}@${pin}`], {
      cwd: tmp,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarball = packed.stdout?.trim().split('\n').pop();
    if (packed.status !== 0 || !tarball)
      throw new Error(`npm pack ${pkgName}@${pin} failed (exit ${packed.status})`);
    const untar = spawnSync('tar', ['-xzf', join(tmp, tarball), '-C', tmp], { stdio: 'inherit' });
    if (untar.status !== 0) throw new Error(`unpacking ${tarball} failed (exit ${untar.status})`);
    try {
      renameSync(join(tmp, 'package'), nodeDir);
    } catch (err) {
      // Another run put it there first.
      if (installedVersion(nodeDir) !== `v${pin}`) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const got = installedVersion(nodeDir);
  if (got !== `v${pin}`)
    throw new Error(`the installed Node in ${nodeDir} answers ${got ?? 'nothing'}, not v${pin}`);
  return nodeDir;
}

/** The environment for the command: unchanged, or with the pinned Node first on PATH. */
export function commandEnv(env = process.env, version = process.version, root = ROOT) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const range = pkg.engines?.node;
  if (!range || satisfies(version, range)) return env;
  if (env.OTTO_NODE === 'system') {
    console.error(
      `${PREFIX} warning: Node ${version} does not satisfy engines ${range}; running on it anyway (OTTO_NODE=system)`,
    );
    return env;
  }
  const pin = readFileSync(join(root, '.nvmrc'), 'utf8').trim().replace(/^v/, '');
  if (!satisfies(pin, range)) throw new Error(`.nvmrc (${pin}) does not satisfy engines ${range}`);
  const nodeDir = ensurePinnedNode(pin, `Node ${version} does not satisfy engines ${range}`, root);
  console.error(
    `${PREFIX} running on Node ${pin} from .tools/ (this machine's Node is ${version}; OTTO_NODE=system keeps it)`,
  );
  const bin = join(nodeDir, 'bin');
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  return {
    ...env,
    [pathKey]: [bin, env[pathKey]].filter(Boolean).join(delimiter),
    npm_config_nodedir: nodeDir,
  };
}

function main() {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error(`usage: node scripts/on-node.mjs <command> [args…]`);
    return process.exit(2);
  }
  let env;
  try {
    env = commandEnv();
  } catch (err) {
    console.error(`${PREFIX} ${err instanceof Error ? err.message : String(err)}`);
    return process.exit(1);
  }
  // spawn looks the command up on env's PATH: `node` and the node_modules/.bin scripts npm put there.
  const child = spawn(command, args, { stdio: 'inherit', env });
  const forward = (signal) => () => child.kill(signal);
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGHUP', forward('SIGHUP'));
  // Ctrl-C reaches the command directly (same process group); this process only waits for it.
  process.on('SIGINT', () => undefined);
  child.on('error', (err) => {
    console.error(`${PREFIX} could not run ${command}: ${err.message}`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
