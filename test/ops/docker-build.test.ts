/**
 * The image's build stage, reproduced without a container engine: the files the Dockerfile's build stage
 * COPYs (and only those, with .dockerignore applied as Docker applies it to the build context) go into a
 * temporary directory, `node_modules` stands in for its `npm ci` (a symlink to this checkout's), and the
 * stage's RUN steps after the install run there: `npm run build` (tsc -p tsconfig.build.json) and the
 * workflow bundle. A source that imports a file the image does not get (e.g. test/support/) fails here
 * as it would fail `docker build`, with tsc's TS2307. Then the compiled entry points compose runs exist.
 */
import { builtinModules } from 'node:module';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The Dockerfile's instructions, continuation lines joined, comments dropped, per stage. */
function stages(): Array<{ name: string | undefined; instructions: Array<{ op: string; args: string }> }> {
  const out: Array<{ name: string | undefined; instructions: Array<{ op: string; args: string }> }> = [];
  const lines = dockerfile.split('\n').filter((line) => !/^\s*#/.test(line));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(raw);
    if (!m) continue;
    const [, op, args] = m as unknown as [string, string, string];
    if (op === 'FROM') out.push({ name: /\s+AS\s+(\S+)/i.exec(args)?.[1], instructions: [] });
    else out.at(-1)?.instructions.push({ op, args: args.trim() });
  }
  return out;
}

/**
 * .dockerignore as Docker reads it (moby/patternmatcher): patterns relative to the context root, `*` and
 * `?` within one path segment, `**` across segments, a matching directory excludes what is below it,
 * `!pattern` re-includes, the last matching line wins.
 */
function dockerignore(): (path: string) => boolean {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = posix.normalize((negate ? line.slice(1) : line).replace(/^\/+/, ''));
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i]!;
        if (ch === '*' && pattern[i + 1] === '*') {
          re += '.*';
          i++;
          if (pattern[i + 1] === '/') i++;
        } else if (ch === '*') re += '[^/]*';
        else if (ch === '?') re += '[^/]';
        else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path) => {
    const parts = path.split('/');
    let excluded = false;
    for (const { negate, re } of rules) {
      // The path itself or one of its parent directories.
      const hit = parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')));
      if (hit) excluded = !negate;
    }
    return excluded;
  };
}

/** Files under `path` (relative to the repository root), recursively, as context-relative paths. */
function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((entry) => filesUnder(posix.join(path, entry)));
}

interface BuildStage {
  /** Context path → path in the stage's WORKDIR. */
  copies: Array<{ from: string; to: string }>;
  /** The RUN steps after the dependency install, in order. */
  runs: string[];
}

/** The build stage: what it copies from the context and what it runs on it after `npm ci`. */
function buildStage(): BuildStage {
  const build = stages().find((s) => s.name === 'build');
  if (!build) throw new Error('Dockerfile has no stage named build');
  const ignored = dockerignore();
  const copies: BuildStage['copies'] = [];
  const runs: string[] = [];
  let installed = false;
  for (const { op, args } of build.instructions) {
    if (op === 'COPY' || op === 'ADD') {
      if (/^--from/.test(args)) throw new Error(`the build stage copies from another stage: ${args}`);
      const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const dest = words.pop()!;
      if (words.length > 1 && !dest.endsWith('/'))
        throw new Error(`COPY of several sources needs a directory: ${args}`);
      for (const source of words) {
        if (/[*?[]/.test(source)) throw new Error(`COPY with a wildcard is not reproduced here: ${source}`);
        const files = filesUnder(source).filter((file) => !ignored(file));
        if (files.length === 0)
          throw new Error(`COPY ${source}: nothing left in the build context (.dockerignore)`);
        const isDir = statSync(join(ROOT, source)).isDirectory();
        for (const file of files) {
          const to = isDir
            ? posix.join(dest, posix.relative(source, file))
            : dest.endsWith('/')
              ? posix.join(dest, posix.basename(file))
              : dest;
          copies.push({ from: file, to });
        }
      }
    } else if (op === 'RUN') {
      if (/\bnpm ci\b/.test(args)) installed = true;
      else if (installed) runs.push(args);
      else if (!/^apt-get /.test(args))
        throw new Error(`a RUN step before npm ci is not reproduced here: ${args}`);
    }
  }
  if (!installed) throw new Error('the build stage never runs npm ci');
  return { copies, runs };
}

/**
 * The packages the compiled module graph from `entry` requires (statically: tsc's CommonJS output names
 * every import, dynamic ones too, as `require("…")`), following relative requires within lib/.
 */
function packagesRequiredFrom(entry: string): Map<string, string> {
  const found = new Map<string, string>(); // package → first file requiring it
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
      if (spec!.startsWith('.')) {
        const base = join(dirname(file), spec!);
        const target = [base, `${base}.js`, join(base, 'index.js')].find(
          (candidate) => existsSync(candidate) && statSync(candidate).isFile(),
        );
        if (!target) throw new Error(`${file} requires ${spec}, which lib/ does not have`);
        queue.push(target);
        continue;
      }
      const name = spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!;
      if (name.startsWith('node:') || builtinModules.includes(name)) continue;
      if (!found.has(name)) found.set(name, file);
    }
  }
  return found;
}

describe('the image build (the Dockerfile build stage, reproduced without Docker)', () => {
  it('copies nothing .dockerignore keeps out of the context, and gets only sources and manifests', () => {
    const { copies } = buildStage();
    const top = new Set(copies.map(({ from }) => from.split('/')[0]!));
    for (const kept of ['test', 'bench', 'node_modules', 'lib', '.data', '.env'])
      expect(top).not.toContain(kept);
    expect(top).toContain('package-lock.json');
  });

  it('compiles with tsconfig.build.json and bundles the workflows on exactly what the build stage copies', () => {
    const { copies, runs } = buildStage();
    expect(runs).toEqual(expect.arrayContaining(['npm run build']));
    const dir = mkdtempSync(join(tmpdir(), 'otto-image-build-'));
    try {
      for (const { from, to } of copies) {
        mkdirSync(dirname(join(dir, to)), { recursive: true });
        copyFileSync(join(ROOT, from), join(dir, to));
      }
      // `RUN npm ci`: the same lock file's install, this checkout's.
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const env = {
        ...process.env,
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
        npm_config_update_notifier: 'false',
      };
      for (const step of runs) {
        const result = spawnSync('sh', ['-c', step], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
        const lines = `${result.stdout}\n${result.stderr}`.trim().split('\n');
        const errors = lines.filter((line) => /error TS\d+/.test(line));
        const output = (errors.length > 0 ? errors : lines.slice(-15)).slice(0, 15).join('\n');
        expect([step, result.status, result.status === 0 ? '' : output]).toEqual([step, 0, '']);
      }
      // What compose runs from the image exists in lib/, with the migrations and the prebuilt bundle.
      const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
        services: Record<string, { build?: unknown; command?: string[] }>;
      };
      const entries = Object.values(compose.services)
        .filter((s) => s.build !== undefined)
        .map((s) => s.command!.find((arg) => arg.startsWith('lib/'))!);
      expect(entries.length).toBeGreaterThanOrEqual(3);
      for (const path of [...entries, 'lib/workflow-bundle.js', 'lib/store/migrations'])
        expect([path, existsSync(join(dir, path))]).toEqual([path, true]);
      // The runtime stage installs production dependencies only (`npm ci --omit=dev`): what the entry
      // points load must be among them, or the container stops at start with "Cannot find module".
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      expect(dockerfile).toMatch(/npm ci --omit=dev/);
      for (const entry of entries)
        for (const [name, by] of packagesRequiredFrom(join(dir, entry)))
          expect([
            entry,
            name,
            name in pkg.dependencies ? 'a dependency' : `not a dependency (${by})`,
          ]).toEqual([entry, name, 'a dependency']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
