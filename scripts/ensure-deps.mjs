/**
 * Pre-step of `npm run dev`, `npm test`, `npm run demo` and `npm run bench` (the `pre…` scripts in
 * package.json): installs the npm dependencies with `npm ci` when node_modules is missing or stale,
 * so those commands work on a fresh clone without a prior `npm install`. When node_modules is current
 * it does nothing (a few milliseconds: it reads two lock files and loads the one native add-on built
 * from source). Plain Node with `node:` imports only, since it runs before anything is installed.
 *
 * Stale means any of:
 *   - node_modules/.package-lock.json (npm's record of what it installed) is missing;
 *   - a package in package-lock.json is not installed at the locked version and integrity (packages
 *     marked optional may be absent: npm skips those built for other platforms), or an installed
 *     package is no longer in package-lock.json;
 *   - better-sqlite3's native add-on is missing or does not load in this Node (built by another version).
 *
 * OTTO_SKIP_ENSURE_DEPS=1 skips the check. `node scripts/ensure-deps.mjs --check [--root DIR]` only
 * reports (exit 1 when stale, naming why) and installs nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = '[ensure-deps]';

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why node_modules does not match package-lock.json, or undefined when it does. */
export function staleReason(root = ROOT) {
  const lock = readJson(join(root, 'package-lock.json'));
  if (!lock?.packages) return 'package-lock.json is missing or unreadable';
  if (!existsSync(join(root, 'node_modules'))) return 'node_modules is missing';
  const installed = readJson(join(root, 'node_modules', '.package-lock.json'));
  if (!installed?.packages) return 'node_modules/.package-lock.json is missing (no complete npm install)';

  for (const [path, want] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || want.link) continue;
    const have = installed.packages[path];
    if (!have) {
      if (want.optional) continue;
      return `${path} (${want.version}) is not installed`;
    }
    if (have.version !== want.version || (want.integrity && have.integrity !== want.integrity))
      return `${path} is ${have.version}, package-lock.json wants ${want.version}`;
  }
  for (const path of Object.keys(installed.packages)) {
    if (!(path in lock.packages)) return `${path} is installed but no longer in package-lock.json`;
  }

  // better-sqlite3's native add-on: built from source into build/Release (12.x without a downloadable
  // prebuilt), or shipped in the package as prebuilds/<platform>-<arch>.node (13.x).
  if (lock.packages['node_modules/better-sqlite3']) {
    const dir = join(root, 'node_modules', 'better-sqlite3');
    const addons = [
      join(dir, 'build', 'Release', 'better_sqlite3.node'),
      join(dir, 'prebuilds', `${process.platform}-${process.arch}.node`),
      join(dir, 'prebuilds', `${process.platform}musl-${process.arch}.node`),
    ].filter((file) => existsSync(file));
    if (addons.length === 0) return 'better-sqlite3 has no native add-on for this platform';
    const errors = [];
    for (const addon of addons) {
      try {
        process.dlopen({ exports: {} }, addon);
        return undefined;
      } catch (err) {
        errors.push(
          String(err instanceof Error ? err.message : err)
            .split('\n')
            .slice(0, 4)
            .join(' '),
        );
      }
    }
    return `better-sqlite3's native add-on does not load in Node ${process.version}: ${errors[0]}`;
  }
  return undefined;
}

/**
 * npm ci's environment. node-gyp builds native add-ons (better-sqlite3) against the headers of the Node
 * that runs it: the running Node's own when it ships them (`<prefix>/include/node`, as the npm registry's
 * Node packages in .tools/ and Debian's /usr do), set as npm_config_nodedir unless the caller set one.
 * Without it node-gyp takes whatever headers it finds first (a machine's /usr/include/node of another
 * Node version: the add-on then does not load) or tries to download them.
 */
export function installEnv(env = process.env, execPath = process.execPath) {
  if (env.npm_config_nodedir) return env;
  const prefix = dirname(dirname(execPath));
  if (!existsSync(join(prefix, 'include', 'node', 'node.h'))) return env;
  return { ...env, npm_config_nodedir: prefix };
}

/** The npm that runs this script (npm sets npm_execpath), else `npm` on PATH. */
export function npmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /\.[cm]?js$/.test(execPath) && existsSync(execPath))
    return { cmd: process.execPath, args: [execPath] };
  return { cmd: process.platform === 'win32' ? 'npm.cmd' : 'npm', args: [] };
}

function main() {
  if (process.env.OTTO_SKIP_ENSURE_DEPS === '1') return 0;
  const checkOnly = process.argv.includes('--check');
  const rootAt = process.argv.indexOf('--root');
  if (rootAt > 0 && !checkOnly) {
    console.error(`${PREFIX} --root only goes with --check`);
    return 2;
  }
  const reason = staleReason(rootAt > 0 ? process.argv[rootAt + 1] : ROOT);
  if (!reason) {
    if (checkOnly) console.error(`${PREFIX} dependencies are current`);
    return 0;
  }
  if (checkOnly) {
    console.error(`${PREFIX} dependencies are stale: ${reason}`);
    return 1;
  }

  console.error(`${PREFIX} ${reason}: running npm ci (once; later runs skip this) …`);
  const npm = npmCommand();
  const result = spawnSync(npm.cmd, [...npm.args, 'ci', '--no-audit', '--no-fund'], {
    cwd: ROOT,
    env: installEnv(),
    stdio: 'inherit',
    shell: process.platform === 'win32' && npm.args.length === 0,
  });
  if (result.error) {
    console.error(`${PREFIX} could not run npm: ${result.error.message}`);
    return 1;
  }
  if (result.status !== 0) {
    console.error(`${PREFIX} npm ci failed (exit ${result.status ?? result.signal}); see its output above`);
    return result.status ?? 1;
  }
  // Checked again in a fresh process: this one may have loaded the add-on npm ci just replaced (a
  // process cannot load a native module twice), so an in-process check would fail for that alone.
  const again = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--check', '--root', ROOT], {
    encoding: 'utf8',
    env: { ...process.env, OTTO_SKIP_ENSURE_DEPS: '' },
  });
  if (again.status !== 0)
    console.error(`${PREFIX} warning: still stale after npm ci: ${again.stderr.trim()}`);
  else console.error(`${PREFIX} dependencies installed`);
  return 0;
}

if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]))
  process.exitCode = main();
