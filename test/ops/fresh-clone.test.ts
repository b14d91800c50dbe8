/**
 * A fresh clone runs `npm run dev` and `npm test` without a prior `npm install`: package.json runs
 * scripts/ensure-deps.mjs before them, which installs with `npm ci` only when node_modules is missing or
 * stale. Here its staleness check runs (`--check --root DIR`, which installs nothing) against lock-file
 * fixtures and against this checkout; and the supported Node line is the same in engines, .nvmrc and
 * .node-version (.ci/run installs the .nvmrc version and runs the suite on it).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'ensure-deps.mjs');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};

type Entry = { version: string; integrity?: string; optional?: boolean; dev?: boolean };

const LOCK: Record<string, Entry> = {
  'node_modules/a': { version: '1.0.0', integrity: 'sha512-a' },
  'node_modules/b': { version: '2.0.0', integrity: 'sha512-b', dev: true },
  'node_modules/other-platform': { version: '3.0.0', integrity: 'sha512-c', optional: true },
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ensure-deps-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeLock(packages: Record<string, Entry>): void {
  const lock = { name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' }, ...packages } };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
}

function writeInstalled(packages: Record<string, Entry>): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', '.package-lock.json'),
    JSON.stringify({ name: 'x', lockfileVersion: 3, packages }),
  );
}

function check(root = dir): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT, '--check', '--root', root], {
    encoding: 'utf8',
    env: { ...process.env, OTTO_SKIP_ENSURE_DEPS: '' },
  });
  return { status: result.status, stderr: result.stderr };
}

describe('scripts/ensure-deps.mjs staleness check', () => {
  it('calls a missing node_modules stale', () => {
    writeLock(LOCK);
    const result = check();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('node_modules is missing');
  });

  it('calls a node_modules without npm’s record of a complete install stale', () => {
    writeLock(LOCK);
    mkdirSync(join(dir, 'node_modules'));
    expect(check().stderr).toContain('node_modules/.package-lock.json is missing');
  });

  it('accepts node_modules as npm ci leaves it (optional packages of other platforms absent)', () => {
    writeLock(LOCK);
    const { 'node_modules/other-platform': _skipped, ...installed } = LOCK;
    writeInstalled(installed);
    const result = check();
    expect(result.stderr).toContain('dependencies are current');
    expect(result.status).toBe(0);
  });

  it('calls a package at another version, a missing one and a removed one stale', () => {
    writeLock(LOCK);
    writeInstalled({ ...LOCK, 'node_modules/a': { version: '0.9.0', integrity: 'sha512-old' } });
    expect(check().stderr).toContain('node_modules/a is 0.9.0, package-lock.json wants 1.0.0');

    writeInstalled({ 'node_modules/a': LOCK['node_modules/a']! });
    expect(check().stderr).toContain('node_modules/b (2.0.0) is not installed');

    writeInstalled({ ...LOCK, 'node_modules/gone': { version: '1.0.0' } });
    expect(check().stderr).toContain('node_modules/gone is installed but no longer in package-lock.json');
  });

  it('finds this checkout current (its node_modules is what the suite runs on)', () => {
    const result = check(ROOT);
    expect(result.stderr).toContain('dependencies are current');
    expect(result.status).toBe(0);
  });
});

describe('scripts/ensure-deps.mjs install environment', () => {
  /** installEnv(env, execPath) as the script computes it, in a child (the script is an ES module). */
  function installEnv(env: Record<string, string>, execPath: string): Record<string, string> {
    const code = `import { installEnv } from ${JSON.stringify(pathToFileURL(SCRIPT).href)};
      console.log(JSON.stringify(installEnv(${JSON.stringify(env)}, ${JSON.stringify(execPath)})));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as Record<string, string>;
  }

  /** Node's headers under the fake prefix, as the npm registry's Node packages ship them. */
  function addHeaders(): void {
    mkdirSync(join(dir, 'include', 'node'), { recursive: true });
    writeFileSync(join(dir, 'include', 'node', 'node.h'), '');
  }

  /** A Node executable at <dir>/bin/node, with or without headers beside it. */
  function fakeNode(withHeaders: boolean): string {
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'node'), '');
    if (withHeaders) addHeaders();
    return join(dir, 'bin', 'node');
  }

  it('builds native add-ons against the running Node’s own headers when it ships them', () => {
    expect(installEnv({ PATH: '/bin' }, fakeNode(true))).toEqual({ PATH: '/bin', npm_config_nodedir: dir });
  });

  it('leaves the environment alone without headers beside the Node, or with a nodedir set', () => {
    const node = fakeNode(false);
    expect(installEnv({ PATH: '/bin' }, node)).toEqual({ PATH: '/bin' });
    addHeaders();
    expect(installEnv({ npm_config_nodedir: '/opt/node' }, node)).toEqual({
      npm_config_nodedir: '/opt/node',
    });
  });
});

describe('package.json', () => {
  it.each(['dev', 'test', 'demo'])('runs the dependency pre-step before npm run %s', (script) => {
    expect(pkg.scripts[`pre${script}`]).toBe('node scripts/on-node.mjs node scripts/ensure-deps.mjs');
  });

  it('names one Node line in engines, .nvmrc and .node-version', () => {
    const nvmrc = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();
    expect(nvmrc).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readFileSync(join(ROOT, '.node-version'), 'utf8').trim()).toBe(nvmrc);
    expect(pkg.engines.node).toMatch(new RegExp(`^>=${nvmrc.split('.')[0]}\\.0\\.0 <\\d+$`));
  });
});
