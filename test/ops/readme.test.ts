/**
 * The README is exact: what it tells an operator to run exists and parses, and what it tells them to set
 * is read by the process it names. Checked without a network or a container engine:
 * - every `npm run <script>` it mentions is a script of package.json; the benchmark's arguments are
 *   accepted by bench/index.ts's own parser; compose profiles and services it names exist;
 * - every fenced `sh` block passes `bash -n` (curl lines and the Temporal CLI are not run: they need a
 *   running stack); `.env` examples hold plain `NAME=value` lines (a .env file never runs `$(…)`) and
 *   name only variables docker-compose.yml reads; every variable compose requires is in the README;
 * - every variable in its configuration tables is read by each process its "used by" column names
 *   (the zod config schemas of the API, worker and emulator, or the scripts and test harness that read
 *   it), and every variable the API and worker schemas read is documented;
 * - every link and every repository path in backticks exists, every `#anchor` is a heading;
 * - the Node version it states is package.json's `engines`, and it says which systems are supported;
 * - every metric series it names is one the code defines (ours) or the Temporal SDK dashboard queries
 *   (the SDK's; test/ops/observability.test.ts checks those against a live scrape), and its alert table
 *   is exactly the alerts in deploy/prometheus/alerts.yml.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { apiConfigSchema } from '../../api/config';
import { DEV_API_KEYS, PUBLISHED_API_KEYS } from '../../api/api-keys';
import { SECRET_VARIABLES } from '../../common/config';
import { workerConfigSchema } from '../../worker/config';
import { tsEntry } from '../../scripts/ts-entry';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const readme = read('README.md');
const readmeLines = readme.split('\n');
const packageJson = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  engines?: { node?: string };
};
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<
    string,
    { profiles?: string[]; volumes?: unknown[]; environment?: Record<string, unknown> }
  >;
};
const composeText = read('docker-compose.yml');
/**
 * Variables compose takes from the shell or `.env`: interpolated (`${NAME}`, `${NAME:-…}`, `${NAME:?…}`)
 * or passed through to a service as they are (an environment key without a value).
 */
const composeReads = new Set([
  ...[...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!),
  ...Object.values(compose.services).flatMap((s) =>
    Object.entries(s.environment ?? {})
      .filter(([, value]) => value === null)
      .map(([name]) => name),
  ),
]);
/** Variables compose sets in a service's environment (e.g. the Temporal UI's). */
const composeSets = new Set([...composeText.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!));

// ---- the README's parts ----------------------------------------------------------------------------

interface Fence {
  lang: string;
  line: number;
  body: string;
}

/** Fenced blocks, also indented ones inside list items. */
function fences(): Fence[] {
  const out: Fence[] = [];
  let open: { lang: string; line: number; indent: string; lines: string[] } | undefined;
  readmeLines.forEach((text, index) => {
    const m = /^(\s*)```([\w-]*)\s*$/.exec(text);
    if (!open) {
      if (m) open = { lang: m[2] ?? '', line: index + 1, indent: m[1] ?? '', lines: [] };
      return;
    }
    if (m && (m[2] ?? '') === '') {
      out.push({ lang: open.lang, line: open.line, body: open.lines.join('\n') });
      open = undefined;
      return;
    }
    open.lines.push(text.startsWith(open.indent) ? text.slice(open.indent.length) : text);
  });
  if (open) throw new Error(`README.md:${open.line}: fence never closed`);
  return out;
}

/** The README without its fenced blocks (prose, tables, inline code). */
const prose = (() => {
  let inFence = false;
  return readmeLines
    .map((text) => {
      if (/^\s*```/.test(text)) {
        inFence = !inFence;
        return '';
      }
      return inFence ? '' : text;
    })
    .join('\n');
})();

/** Inline code spans of the prose, with their line numbers. */
function inlineCode(): Array<{ code: string; line: number }> {
  const out: Array<{ code: string; line: number }> = [];
  prose.split('\n').forEach((text, index) => {
    for (const m of text.matchAll(/`([^`]+)`/g)) out.push({ code: m[1]!, line: index + 1 });
  });
  return out;
}

interface Table {
  line: number;
  /** The `## ` section it is in. */
  section: string;
  header: string[];
  rows: Array<{ line: number; cells: string[] }>;
}

function cells(row: string): string[] {
  // Split on | that is not escaped (\|) and not inside a code span.
  const out: string[] = [];
  let cell = '';
  let inCode = false;
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '`') inCode = !inCode;
    if (ch === '\\' && body[i + 1] === '|') {
      cell += '|';
      i++;
      continue;
    }
    if (ch === '|' && !inCode) {
      out.push(cell.trim());
      cell = '';
      continue;
    }
    cell += ch;
  }
  out.push(cell.trim());
  return out;
}

function tables(): Table[] {
  const out: Table[] = [];
  const lines = prose.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.startsWith('## ')) section = lines[i]!.slice(3);
    if (!lines[i]!.startsWith('|') || !/^\|[\s|:-]+\|$/.test(lines[i + 1]?.trim() ?? '')) continue;
    const table: Table = { line: i + 1, section, header: cells(lines[i]!), rows: [] };
    let j = i + 2;
    for (; j < lines.length && lines[j]!.startsWith('|'); j++)
      table.rows.push({ line: j + 1, cells: cells(lines[j]!) });
    out.push(table);
    i = j;
  }
  return out;
}

// ---- where each variable is read ---------------------------------------------------------------------

/** The keys of a zod object schema, through refinements, transforms and pipes. */
function schemaKeys(schema: z.ZodType): string[] {
  let current: unknown = schema;
  for (let depth = 0; depth < 10 && current; depth++) {
    const shape = (current as { shape?: Record<string, unknown> }).shape;
    if (shape && typeof shape === 'object') return Object.keys(shape);
    const def = (current as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    current = def?.in ?? def?.innerType ?? def?.schema;
  }
  throw new Error('not an object schema');
}

/** Code with comments removed, so a variable named only in a comment does not count as read. */
function code(path: string): string {
  return read(path)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Variables a file reads from an environment object: env.X, env['X'], process.env.X, resolved.X, 'X' keys. */
function readIn(paths: string[]): Set<string> {
  const out = new Set<string>();
  for (const path of paths) {
    const text = code(path);
    for (const m of text.matchAll(
      /\b(?:env|resolved)\s*(?:\.\s*([A-Z][A-Z0-9_]+)\b|\[\s*['"`]([A-Z][A-Z0-9_]+)['"`]\s*\])/g,
    ))
      out.add((m[1] ?? m[2])!);
    // Names handed to a helper (`port('WORKER_METRICS_PORT', …)`, `['OTTO_APPS', …].filter(n => env[n])`).
    for (const m of text.matchAll(/['"`]([A-Z][A-Z0-9_]{2,})['"`]/g)) out.add(m[1]!);
  }
  return out;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = `${dir}/${entry}`;
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...tsFiles(path));
    else if (/\.(ts|js)$/.test(entry)) out.push(path);
  }
  return out;
}

const secretFileVariables = SECRET_VARIABLES.map((name) => `${name}_FILE`);
const emulatorSchema = /const envSchema = z\.object\(\{([\s\S]*?)\n\}\);/.exec(
  read('emulator/index.ts'),
)?.[1];
const emulatorKeys = [...(emulatorSchema ?? '').matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);

/** Who reads what: the "used by" column's names. */
const READERS: Record<string, Set<string>> = {
  worker: new Set([
    ...schemaKeys(workerConfigSchema),
    ...secretFileVariables,
    // Read beside the schema: the dev seal keys' directory, the logger's format.
    ...readIn(['worker/config.ts', 'worker/index.ts', 'common/dev-secrets.ts', 'common/logger.ts']),
  ]),
  API: new Set([
    ...schemaKeys(apiConfigSchema),
    ...secretFileVariables,
    ...readIn(['api/config.ts', 'api/index.ts', 'common/dev-secrets.ts', 'common/logger.ts']),
  ]),
  emulator: new Set(emulatorKeys),
  compose: composeReads,
  'npm run dev': readIn([
    'scripts/dev.ts',
    'scripts/ensure-temporal.ts',
    'scripts/temporal-dev-server.ts',
    ...['scripts/ensure-deps.mjs', 'scripts/on-node.mjs'].filter((path) => existsSync(join(ROOT, path))),
  ]),
  'npm run demo': readIn(['scripts/demo.ts']),
  tests: new Set([
    ...readIn(tsFiles('test').filter((path) => path !== 'test/ops/readme.test.ts')),
    ...readIn([
      'scripts/ensure-temporal.ts',
      ...['scripts/ensure-deps.mjs', 'scripts/on-node.mjs'].filter((p) => existsSync(join(ROOT, p))),
    ]),
    // package.json's long-form test scripts set these for the tests they run.
    ...Object.values(packageJson.scripts).flatMap((s) =>
      [...s.matchAll(/\b([A-Z][A-Z0-9_]+)=/g)].map((m) => m[1]!),
    ),
  ]),
};

/**
 * Names in the configuration tables that are not variables a process reads, each with the reason.
 * Keep this list short: a variable that nothing reads belongs out of the README.
 */
const NOT_READ: Record<string, string> = {
  NODE_ENV: 'listed to say it has no effect on the configuration rules; the worker ignores it',
};

function readerFor(usedBy: string): string[] {
  return usedBy
    .split(',')
    .map((part) => part.replace(/`/g, '').trim())
    .filter(Boolean);
}

/** `OTTO_APPS[].scopes` → OTTO_APPS; `FLEET_BREAKER_*` → a prefix; words and `…` are skipped. */
function variablesIn(cell: string): Array<{ name: string; prefix: boolean }> {
  return [...cell.matchAll(/`([A-Z][A-Z0-9_]*)(\*|[^`]*)`/g)]
    .filter((m) => /[A-Z0-9]_|^[A-Z]{3,}$/.test(m[1]!) && m[1]!.length > 2)
    .map((m) => ({ name: m[1]!.replace(/_$/, ''), prefix: m[2] === '*' }));
}

interface Documented {
  name: string;
  prefix: boolean;
  readers: string[];
  line: number;
}

/** Every variable of the configuration tables (a "variable" column), with its "used by" column. */
function documentedVariables(): Documented[] {
  const out: Documented[] = [];
  for (const table of tables()) {
    const header = table.header.map((h) => h.toLowerCase());
    const variable = header.indexOf('variable');
    if (variable < 0) continue;
    const usedBy = header.indexOf('used by');
    for (const row of table.rows) {
      // No "used by" column: the variables compose itself reads, or the transfer settings, which the
      // README says are set on the worker.
      const readers =
        usedBy >= 0
          ? readerFor(row.cells[usedBy] ?? '')
          : [table.section.includes('docker-compose') ? 'compose' : 'worker'];
      for (const v of variablesIn(row.cells[variable] ?? '')) out.push({ ...v, readers, line: row.line });
    }
  }
  return out;
}

function isRead(reader: Set<string>, v: { name: string; prefix: boolean }): boolean {
  return v.prefix ? [...reader].some((name) => name.startsWith(`${v.name}_`)) : reader.has(v.name);
}

// ---- the tests -------------------------------------------------------------------------------------------

describe('README.md is exact', () => {
  it('names only npm scripts that exist', () => {
    const missing = [...readme.matchAll(/npm run ([\w:-]+)/g)]
      .map((m) => m[1]!)
      .filter((name) => !(name in packageJson.scripts));
    expect([...new Set(missing)]).toEqual([]);
  });

  it('passes the benchmark only arguments bench/index.ts accepts', () => {
    const source = read('bench/index.ts');
    const benchmarks = [
      ...(/const BENCHMARKS[^{]*\{([\s\S]*?)\n\};/.exec(source)?.[1] ?? '').matchAll(/^\s+(\w+):/gm),
    ].map((m) => m[1]!);
    expect(benchmarks).toContain('ceiling');
    const commands = [
      ...new Map(
        [...readme.matchAll(/npm run (bench(?::full)?)((?: --(?: --[\w-]+(?:=[\w,]+)?)*)?)/g)].map((m) => [
          m[0],
          m,
        ]),
      ).values(),
    ];
    expect(commands.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const [text, script, rest] of commands) {
      // The script's own arguments, after the Node launcher (scripts/on-node.mjs) and the entry point.
      const launcher = /^node scripts\/on-node\.mjs node --import tsx bench\/index\.ts\b/;
      const command = packageJson.scripts[script!]!;
      if (!launcher.test(command))
        problems.push(`${text}: npm script "${command}" does not run bench/index.ts`);
      const args = [
        ...command.replace(launcher, '').split(/\s+/).filter(Boolean),
        ...(rest ?? '').replace(/^ --/, '').split(/\s+/).filter(Boolean),
      ];
      for (const only of args.filter((a) => a.startsWith('--only=')))
        for (const name of only.slice('--only='.length).split(','))
          if (!benchmarks.includes(name)) problems.push(`${text}: no benchmark "${name}"`);
      // The real parser, stopped before anything starts: an invalid --sellers is refused only after every
      // other argument was accepted, so that refusal (exit 2) means the README's arguments parse.
      const run = spawnSync(process.execPath, [...tsEntry('bench/index.ts'), ...args, '--sellers=0'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (!/--sellers must be a positive number/.test(run.stderr))
        problems.push(`${text}: ${run.stderr.trim() || `exit ${run.status}`}`);
    }
    expect(problems).toEqual([]);
  });

  it('has sh blocks that are valid shell', () => {
    const blocks = fences().filter((f) => f.lang === 'sh');
    expect(blocks.length).toBeGreaterThan(5);
    const dir = mkdtempSync(join(tmpdir(), 'readme-sh-'));
    try {
      const problems: string[] = [];
      for (const block of blocks) {
        const file = join(dir, `line-${block.line}.sh`);
        writeFileSync(file, `${block.body}\n`);
        const check = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
        if (check.status !== 0) problems.push(`README.md:${block.line}: ${check.stderr.trim()}`);
      }
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names only compose profiles and services that exist', () => {
    const profiles = new Set(Object.values(compose.services).flatMap((s) => s.profiles ?? []));
    const named = [...readme.matchAll(/docker compose[^\n`]*?--profile (\w+)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((p) => !profiles.has(p))).toEqual([]);
    const scaled = [...readme.matchAll(/--scale (\w+)=/g)].map((m) => m[1]!);
    expect(scaled.filter((s) => !(s in compose.services))).toEqual([]);
    const services = [...readme.matchAll(/docker compose exec (\w[\w-]*)/g)].map((m) => m[1]!);
    expect(services.filter((s) => !(s in compose.services))).toEqual([]);
  });

  it('shows .env contents that a .env file can hold, naming variables compose reads', () => {
    const blocks = fences().filter((f) => ['dotenv', 'env', 'ini'].includes(f.lang));
    expect(blocks.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const block of blocks)
      block.body.split('\n').forEach((text, i) => {
        const line = text.trim();
        if (!line || line.startsWith('#')) return;
        const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
        if (!m) return problems.push(`README.md:${block.line + 1 + i}: not NAME=value: ${line}`);
        if (/\$\(|`/.test(m[2]!))
          problems.push(`README.md:${block.line + 1 + i}: ${m[1]}: a .env file never runs commands`);
        if (!composeReads.has(m[1]!))
          problems.push(`README.md:${block.line + 1 + i}: docker-compose.yml does not read ${m[1]}`);
      });
    expect(problems).toEqual([]);
    // Nowhere else either: an sh block of bare `NAME=…$(…)` lines reads like a .env file and invites the
    // same mistake (in a shell they would set unexported variables only).
    const envLike = fences()
      .filter((f) => f.lang === 'sh')
      .flatMap((f) => f.body.split('\n').map((text, i) => ({ text, line: f.line + 1 + i })))
      .filter(({ text }) => /^[A-Z][A-Z0-9_]*=\S*\$\(/.test(text.trim()));
    expect(envLike.map(({ text, line }) => `README.md:${line}: ${text}`)).toEqual([]);
  });

  it('documents every variable docker-compose.yml reads', () => {
    expect(composeReads.size).toBeGreaterThan(10);
    expect([...composeReads].filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it('says what docker-compose.yml does with worker volumes', () => {
    const workerVolumes = compose.services.worker?.volumes ?? [];
    if (/[Ww]orkers mount no volume/.test(readme)) expect(workerVolumes).toEqual([]);
    else expect(readme).toMatch(/worker[^.]*volume/i);
  });

  it('names in its configuration tables only variables the named process reads', () => {
    const documented = documentedVariables();
    expect(documented.length).toBeGreaterThan(60);
    const problems: string[] = [];
    for (const v of documented) {
      if (v.name in NOT_READ) continue;
      if (v.readers.length === 0) problems.push(`README.md:${v.line}: ${v.name}: no "used by"`);
      for (const reader of v.readers) {
        const names = READERS[reader];
        if (!names) problems.push(`README.md:${v.line}: ${v.name}: unknown reader "${reader}"`);
        else if (!isRead(names, v)) problems.push(`README.md:${v.line}: ${v.name} is not read by ${reader}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('documents every variable the API and worker schemas read', () => {
    const keys = new Set([...schemaKeys(apiConfigSchema), ...schemaKeys(workerConfigSchema)]);
    expect([...keys].filter((name) => !readme.includes(name))).toEqual([]);
  });

  it('documents every variable npm run dev and npm run demo read', () => {
    const direct = (path: string) =>
      [
        ...code(path).matchAll(/\benv\s*(?:\.\s*([A-Z][A-Z0-9_]+)\b|\[\s*['"`]([A-Z][A-Z0-9_]+)['"`]\s*\])/g),
      ].map((m) => (m[1] ?? m[2])!);
    const names = new Set([...direct('scripts/dev.ts'), ...direct('scripts/demo.ts')]);
    expect(names.size).toBeGreaterThan(10);
    expect([...names].filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it('sets, in its commands, only variables some process reads', () => {
    const all = new Set(Object.values(READERS).flatMap((names) => [...names]));
    const commands = [
      ...fences()
        .filter((f) => f.lang === 'sh')
        .flatMap((f) => f.body.split('\n')),
      ...inlineCode().map((c) => c.code),
    ];
    // Leading assignments: `export NAME=…`, `NAME=… NAME=… npm run dev`, `NAME=value` on its own.
    // `NAME=value` in prose is the format, not a setting.
    const set = commands
      .filter((line) => !/^[A-Z_]+=value$/.test(line))
      .flatMap((line) => {
        const names: string[] = [];
        let rest = line.trim().replace(/^export\s+/, '');
        for (
          let m = /^([A-Z][A-Z0-9_]*)=('[^']*'|\S+)\s*/.exec(rest);
          m;
          m = /^([A-Z][A-Z0-9_]*)=('[^']*'|\S+)\s*/.exec(rest)
        ) {
          names.push(m[1]!);
          rest = rest.slice(m[0].length);
        }
        return names;
      });
    expect(set.length).toBeGreaterThan(5);
    // Read by the system for the process, not by our code: the dynamic linker's preload (jemalloc).
    const systemReads = new Set(['LD_PRELOAD']);
    expect(
      [...new Set(set)].filter(
        (name) =>
          !all.has(name) && !composeReads.has(name) && !composeSets.has(name) && !systemReads.has(name),
      ),
    ).toEqual([]);
  });

  it('links only files and headings that exist', () => {
    const slugs = new Set(
      readmeLines
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) =>
          l
            .replace(/^#+ /, '')
            .toLowerCase()
            .replace(/[^\p{L}\p{N} _-]/gu, '')
            .replace(/ /g, '-'),
        ),
    );
    const problems: string[] = [];
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      if (path && !existsSync(join(ROOT, path))) problems.push(`link to missing ${path}`);
      if (!path && anchor && !slugs.has(anchor)) problems.push(`link to missing heading #${anchor}`);
    }
    expect(problems).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    // Created at run time or by a build, never committed.
    const generated = ['.data/', '.tools/', 'lib/', 'node_modules/', 'test-artifacts/', '.env'];
    const topLevel = new Set(readdirSync(ROOT));
    const problems: string[] = [];
    for (const { code: span, line } of inlineCode()) {
      if (!/^\.?[\w-]+(\.[\w]+)?(\/[\w.*-]*)*$/.test(span) || !span.includes('/')) continue;
      if (generated.some((prefix) => span === prefix || span.startsWith(prefix))) continue;
      if (!topLevel.has(span.split('/')[0]!)) continue;
      if (!existsSync(join(ROOT, span))) problems.push(`README.md:${line}: ${span}`);
    }
    expect(problems).toEqual([]);
  });

  it('has every section of docs/design.md and docs/otto-api.md that the code cites', () => {
    // Numbered headings (`## 2.`, `### 5.1`) and numbered list items under a numbered heading (§7.3).
    const sections = (path: string) => {
      const out = new Set<string>();
      let current = '';
      for (const text of read(path).split('\n')) {
        const heading = /^#{2,3} (\d+(?:\.\d+)?)[. ]/.exec(text);
        if (heading) out.add((current = heading[1]!));
        const item = /^(\d+)\. /.exec(text);
        if (item && current) out.add(`${current}.${item[1]}`);
      }
      return out;
    };
    const docs = { 'otto-api': sections('docs/otto-api.md'), design: sections('docs/design.md') };
    const files = [
      'activities',
      'api',
      'bench',
      'client',
      'common',
      'emulator',
      'scripts',
      'store',
      'test',
      'worker',
      'workflows',
    ]
      .flatMap((dir) => tsFiles(dir))
      .concat(['emulator/README.md', 'docs/scaling.md']);
    const problems: string[] = [];
    let cited = 0;
    for (const path of files)
      for (const m of read(path).matchAll(
        /\b(otto-api|design)(?:\.md)?\)? ((?:§[\d.]*\d(?:\s*(?:,|–|-|and)\s*)?)+)/g,
      )) {
        for (const section of m[2]!.match(/§[\d.]*\d/g) ?? []) {
          cited++;
          if (!docs[m[1] as 'otto-api' | 'design'].has(section.slice(1)))
            problems.push(`${path}: ${m[1]} ${section} does not exist`);
        }
      }
    expect(cited).toBeGreaterThan(50);
    expect(problems).toEqual([]);
  });

  it('states the Node version package.json requires, and which systems are supported', () => {
    const engines = packageJson.engines?.node ?? '';
    const major = /\d+/.exec(engines)?.[0];
    expect(major).toBeDefined();
    expect(readme).toMatch(new RegExp(`\\*\\*Node\\.js (≥ )?${major}\\b[^*]*\\*\\*`));
    expect(readme).toContain(`\`${engines}\``);
    expect(readme).toMatch(/Linux/);
    expect(readme).toMatch(/macOS/);
    expect(readme).toMatch(/Windows/);
  });

  it('shows the block npm run dev prints, line by line in its order', () => {
    // The labels scripts/dev.ts prints (b('API', …) …), and its closing line.
    const source = code('scripts/dev.ts');
    const printed = /dev stack is up',([\s\S]*?)\]\.join/.exec(source)?.[1] ?? '';
    const labels = [...printed.matchAll(/\bb\(\s*'([^']*)'/g)].map((m) => m[1]!).filter(Boolean);
    expect(labels.length).toBeGreaterThan(4);
    const closing = /'\s{2}(Connect the demo seller[^']*)'/.exec(printed)?.[1];
    const block = fences().find((f) => f.body.includes('otto-connect dev stack is up'));
    expect(block).toBeDefined();
    const shown = block!.body
      .split('\n')
      .filter((line) => !line.includes(closing!))
      .map((line) => /^\s{2}(\S+(?: \S+)*?)\s{2,}/.exec(line)?.[1])
      .filter((label): label is string => label !== undefined);
    // USE_EMULATOR picks one of two labels for the same line: the README shows the emulator's.
    expect(shown).toEqual(labels.filter((label) => label !== 'OTTO'));
    expect(block!.body).toContain(closing!);
  });

  it('states the dev API keys and the refused published keys as api/api-keys.ts has them', () => {
    expect(readme).toContain(`\`${DEV_API_KEYS}\``);
    const refused = /published dev keys \(([^)]*)\) are refused/.exec(readme)?.[1] ?? '';
    expect([...refused.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort()).toEqual(
      [...PUBLISHED_API_KEYS].sort(),
    );
  });

  it('names every secret that may come from a file, in the README and the compose file', () => {
    const paragraph = /\*\*Secrets from files\.\*\*([\s\S]*?)\n\n/.exec(readme)?.[1] ?? '';
    const header = composeText
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join(' ');
    for (const name of SECRET_VARIABLES) {
      expect([name, paragraph.includes(`\`${name}\``)]).toEqual([name, true]);
      expect([name, header.includes(name)]).toEqual([name, true]);
    }
  });

  it('names in docs/ only Temporal SDK series as exported (the dashboard queries them), and every patch', () => {
    const series = new Set(
      [...read('deploy/grafana/dashboards/temporal-sdk.json').matchAll(/temporal_[a-z_]+/g)].map((m) => m[0]),
    );
    const exported = (name: string) => ['', '_bucket', '_sum', '_count'].some((s) => series.has(name + s));
    const unknown: string[] = [];
    for (const doc of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')))
      for (const [name] of read(`docs/${doc}`).matchAll(/(?<=`)temporal_[a-z_]+(?=[`{])/g))
        if (!exported(name)) unknown.push(`docs/${doc}: ${name}`);
    expect(unknown).toEqual([]);
    // The upgrade notes name every patch the workflow asks for.
    const patches = [...read('workflows/patches.ts').matchAll(/^ {2}(\w+): \{$/gm)].map((m) => m[1]!);
    expect(patches.length).toBeGreaterThanOrEqual(3);
    const versioning = read('docs/versioning.md');
    expect(patches.filter((id) => !versioning.includes(`\`${id}\``))).toEqual([]);
  });

  it('names only metric series the code exports, and exactly the alerts of the rules file', () => {
    const ours = ['api', 'worker']
      .flatMap((dir) => readdirSync(join(ROOT, dir)).map((f) => join(dir, f)))
      .filter((path) => path.endsWith('.ts'))
      .map(read)
      .join('\n');
    const sdkDashboard = read('deploy/grafana/dashboards/temporal-sdk.json');
    const unknown: string[] = [];
    for (const [name] of readme.matchAll(/(?<=`)otto_connect_[a-z_]+(?=[`{])/g))
      if (!ours.includes(`'${name}'`)) unknown.push(name);
    for (const [name] of readme.matchAll(/(?<=`)temporal_[a-z_]+(?=[`{])/g))
      if (!sdkDashboard.includes(name)) unknown.push(name);
    expect([...new Set(unknown)]).toEqual([]);

    const rules = parse(read('deploy/prometheus/alerts.yml')) as {
      groups: { rules: { alert?: string }[] }[];
    };
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])));
    const inReadme = [...readme.matchAll(/^\| `(Otto[A-Za-z]+)` +\|/gm)].map((m) => m[1]);
    expect(inReadme.sort()).toEqual(alerts.sort());
  });
});
