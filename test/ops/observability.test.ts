/**
 * The observability profile against the code: every series that deploy/prometheus/alerts.yml and the
 * Grafana dashboards in deploy/grafana/dashboards/ query must be one the API or the worker exports,
 * checked against a live scrape of worker/index.ts (its own /metrics and the Temporal SDK's) and of
 * api/index.ts (the ops port), each in its own process as deployed. When promtool is installed
 * (.tools/bin/promtool or PROMTOOL; see the report of issue 16), `promtool check rules` must accept the
 * alert rules, and every dashboard query (as a recording rule) too; without it the rules are still
 * parsed (YAML) and every query is tokenized by the extractor below, which fails on what it cannot read.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { freePort } from '../../scripts/temporal-dev-server';
import { TestStack } from '../support/stack';
import { stackApiEnv } from '../support/stack-api';
import { eventually, uniqueName } from '../support/temporal';
import { WorkerProcess } from '../support/worker-process';

const ROOT = join(__dirname, '..', '..');
const ALERTS = join(ROOT, 'deploy', 'prometheus', 'alerts.yml');
const PROMETHEUS_CONFIG = join(ROOT, 'deploy', 'prometheus', 'prometheus.yml');
const DASHBOARDS = join(ROOT, 'deploy', 'grafana', 'dashboards');

// ---- PromQL: the metric names an expression selects -----------------------------------------------

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'start', 'end']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
// Aggregations may put their grouping first: `sum by (kind) (…)`.
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

type Token = { kind: 'ident' | 'string' | 'number' | 'var' | 'punct'; text: string };

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c !== '`' ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string in: ${expr}`);
      tokens.push({ kind: 'string', text: expr.slice(i + 1, j) });
      i = j + 1;
    } else if (c === '$') {
      // Grafana variables: $__rate_interval, $var, ${var}, ${var:csv}, [[var]] is not used here.
      const m = /^\$(\{[^}]*\}|\w+)/.exec(expr.slice(i));
      if (!m) throw new Error(`stray $ in: ${expr}`);
      tokens.push({ kind: 'var', text: m[0] });
      i += m[0].length;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const m = /^[a-zA-Z_:][\w:]*/.exec(expr.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else if (/[0-9.]/.test(c)) {
      // Numbers and durations (5m, 1h30m, 0.99, 1e3, 0x1f).
      const m = /^(0x[0-9a-fA-F]+|[0-9.]+(e[+-]?\d+)?([smhdwy]|ms)*(\d+([smhdwy]|ms))*)/.exec(expr.slice(i))!;
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else {
      const m = /^(==|!=|>=|<=|=~|!~|[-+*/%^=<>(){}[\],@])/.exec(expr.slice(i));
      if (!m) throw new Error(`cannot read "${expr.slice(i, i + 10)}" in: ${expr}`);
      tokens.push({ kind: 'punct', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** Every metric name an expression selects: bare selectors and `{__name__="…"}`; functions, labels and keywords are not. */
export function metricNames(expr: string): string[] {
  const tokens = tokenize(expr);
  const names = new Set<string>();
  let depth = 0;
  const skipParens = (from: number): number => {
    let level = 0;
    for (let k = from; k < tokens.length; k++) {
      if (tokens[k]!.text === '(') level++;
      if (tokens[k]!.text === ')' && --level === 0) return k;
    }
    throw new Error(`unbalanced parentheses in: ${expr}`);
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.text === '{' || t.text === '[') {
      depth++;
      continue;
    }
    if (t.text === '}' || t.text === ']') {
      depth--;
      continue;
    }
    if (depth > 0) {
      // Inside a label matcher list: {__name__="x"} names a metric; other labels do not.
      if (
        t.kind === 'ident' &&
        t.text === '__name__' &&
        next?.text === '=' &&
        tokens[i + 2]?.kind === 'string'
      )
        names.add(tokens[i + 2]!.text);
      continue;
    }
    if (t.kind !== 'ident') continue;
    if (GROUPING.has(t.text)) {
      if (next?.text === '(') i = skipParens(i + 1);
      continue;
    }
    if (KEYWORDS.has(t.text)) continue;
    if (next?.text === '(') continue; // a function or an aggregation
    if (AGGREGATIONS.has(t.text) && next && GROUPING.has(next.text)) continue;
    names.add(t.text);
  }
  if (depth !== 0) throw new Error(`unbalanced braces or brackets in: ${expr}`);
  const opened = tokens.filter((t) => t.text === '(').length;
  if (opened !== tokens.filter((t) => t.text === ')').length)
    throw new Error(`unbalanced parentheses in: ${expr}`);
  return [...names];
}

// ---- what the files query ----------------------------------------------------------------------------

interface Query {
  file: string;
  where: string;
  expr: string;
}

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string }[] }[];
}

function alertQueries(): Query[] {
  const rules = parseYaml(readFileSync(ALERTS, 'utf8')) as RuleFile;
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ file: relative(ROOT, ALERTS), where: r.alert ?? r.record ?? '?', expr: r.expr })),
  );
}

interface Panel {
  title?: string;
  targets?: { expr?: string; refId?: string }[];
  panels?: Panel[];
}

function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => join(DASHBOARDS, f));
}

function dashboardQueries(): Query[] {
  const queries: Query[] = [];
  for (const path of dashboardFiles()) {
    const file = relative(ROOT, path);
    const dashboard = JSON.parse(readFileSync(path, 'utf8')) as {
      title: string;
      panels: Panel[];
      templating?: { list: { name: string; type: string; query?: string | { query?: string } }[] };
    };
    const walk = (panels: Panel[]) => {
      for (const panel of panels) {
        for (const target of panel.targets ?? [])
          if (target.expr) queries.push({ file, where: `panel "${panel.title}"`, expr: target.expr });
        walk(panel.panels ?? []);
      }
    };
    walk(dashboard.panels);
    for (const variable of dashboard.templating?.list ?? []) {
      if (variable.type !== 'query') continue;
      const text = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      // Grafana's label_values(selector, label) / label_values(label) / query_result(expr).
      const labelValues = /^label_values\((.*),\s*\w+\)$/.exec(text.trim());
      const queryResult = /^query_result\((.*)\)$/.exec(text.trim());
      const expr = labelValues?.[1] ?? queryResult?.[1];
      if (expr) queries.push({ file, where: `variable $${variable.name}`, expr });
    }
  }
  return queries;
}

/** Grafana's variables replaced by values PromQL accepts, for promtool. */
function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{[^}]*\}|\$\w+/g, 'x');
}

// ---- a live scrape's metric names ---------------------------------------------------------------------

/** Sample names and the names a `# TYPE` line promises (a histogram without observations has no samples yet). */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === 'histogram' || kind === 'summary')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
      if (kind === 'counter' && !name.endsWith('_total')) names.add(`${name}_total`);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]!);
  }
  return names;
}

/**
 * Temporal SDK series that exist only after an event this test cannot cause cheaply (a failed gRPC
 * request or long poll, a sticky-cache miss after a worker restart): for these alone, the SDK's native
 * library (the Rust core that serves port 9464) must name the metric instead. Failed workflows, failed
 * workflow tasks and empty polls are caused below and checked live.
 */
const EVENT_ONLY_SDK_SERIES: Record<string, string> = {
  temporal_request_failure_total: 'request_failure',
  temporal_long_request_failure_total: 'long_request_failure',
  temporal_sticky_cache_miss_total: 'sticky_cache_miss',
};

function coreBridgeLibrary(): Buffer {
  const dir = join(ROOT, 'node_modules', '@temporalio', 'core-bridge', 'releases');
  const target = { x64: 'x86_64', arm64: 'aarch64' }[process.arch as 'x64' | 'arm64'];
  const release = readdirSync(dir).find((d) => d.startsWith(`${target}-`) && d.includes(process.platform));
  if (!release) throw new Error(`no core-bridge release for ${process.platform}/${process.arch} in ${dir}`);
  return readFileSync(join(dir, release, 'index.node'));
}

function promtool(): string | undefined {
  const candidates = [process.env.PROMTOOL, join(ROOT, '.tools', 'bin', 'promtool')];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

// ---- the tests --------------------------------------------------------------------------------------

describe('Prometheus rules and Grafana dashboards, read offline', () => {
  it('extracts metric names from PromQL, not functions, labels, keywords or Grafana variables', () => {
    expect(
      metricNames(
        'sum by (kind) (rate(a_total{result="x", __name__!="no"}[$__rate_interval])) / on () group_left (kind) b offset 5m and {__name__="c"} > bool 0',
      ).sort(),
    ).toEqual(['a_total', 'b', 'c']);
    expect(metricNames('histogram_quantile(0.95, sum without (instance) (rate(d_bucket[5m])))')).toEqual([
      'd_bucket',
    ]);
    expect(() => metricNames('sum(rate(x[5m])')).toThrow(/unbalanced/);
  });

  it('parses the alert rules, with the alerts the README names', () => {
    const queries = alertQueries();
    expect(queries.map((q) => q.where).sort()).toEqual(
      [
        'OttoConnectionsCountFailing',
        'OttoConnectionsCountMissing',
        'OttoFleetIncidentOpen',
        'OttoSellersDegraded',
        'OttoTokenExpiringSoon',
        'OttoTokenMintsFailing',
        'OttoTransfersFailing',
      ].sort(),
    );
    for (const q of queries) expect([q.where, metricNames(q.expr).length > 0]).toEqual([q.where, true]);
    const config = parseYaml(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        dns_sd_configs?: { names: string[]; type: string; port: number }[];
      }[];
    };
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    const targets = config.scrape_configs.flatMap((job) => [
      ...(job.static_configs ?? []).flatMap((s) => s.targets),
      ...(job.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${d.type}:${n}:${d.port}`)),
    ]);
    expect(targets.sort()).toEqual(['A:worker:9464', 'A:worker:9465', 'api:3001']);
  });

  it('reads every dashboard: a uid, the provisioned datasource, and queries on every panel', () => {
    const titles: string[] = [];
    for (const path of dashboardFiles()) {
      const dashboard = JSON.parse(readFileSync(path, 'utf8')) as {
        uid: string;
        title: string;
        panels: Panel[];
      };
      titles.push(dashboard.title);
      expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
      const text = readFileSync(path, 'utf8');
      // Every datasource reference is the provisioned one (deploy/grafana/provisioning/datasources).
      for (const m of text.matchAll(/"datasource":\s*\{[^}]*"uid":\s*"([^"]+)"/g))
        expect(m[1]).toBe('prometheus');
      const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);
      for (const panel of flat(dashboard.panels).filter((p) => (p as { type?: string }).type !== 'row'))
        expect([panel.title, (panel.targets ?? []).length > 0]).toEqual([panel.title, true]);
    }
    expect(titles.sort()).toEqual(['Temporal SDK (otto-connect workers)', 'otto-connect']);
    for (const q of dashboardQueries()) expect(() => metricNames(q.expr)).not.toThrow();
  });

  const tool = promtool();
  (tool ? it : it.skip)(
    `promtool check rules accepts the alerts and every dashboard query (${tool ?? 'no promtool'})`,
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'otto-connect-promtool-'));
      try {
        execFileSync(tool!, ['check', 'rules', ALERTS], { stdio: 'pipe' });
        const recording = {
          groups: [
            {
              name: 'dashboard-queries',
              rules: dashboardQueries().map((q, i) => ({
                record: `dashboard:query_${i}`,
                expr: withoutGrafanaVariables(q.expr),
              })),
            },
          ],
        };
        const file = join(dir, 'dashboard-queries.yml');
        writeFileSync(file, stringifyYaml(recording));
        execFileSync(tool!, ['check', 'rules', file], { stdio: 'pipe' });
      } catch (err) {
        const e = err as { stdout?: Buffer; stderr?: Buffer };
        throw new Error(`promtool refused: ${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`, {
          cause: err,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('every series queried is exported (live scrape of the worker and the API, as deployed)', () => {
  let stack: TestStack;
  let worker: WorkerProcess | undefined;
  let api: ChildProcess | undefined;
  let apiOutput = '';
  let storeDir: string | undefined;

  beforeAll(async () => {
    stack = await TestStack.start({
      tokenTtlSeconds: 3,
      inProcessWorkers: false,
      settings: {
        tokenRefreshMarginMs: 2_000,
        refreshJitterMs: 0,
        refreshRetryMaxIntervalMs: 200,
        revocationProbeIntervalMs: 1_500,
      },
    });
  }, 60_000);
  afterAll(async () => {
    if (api && api.exitCode === null && api.signalCode === null) {
      const exited = new Promise((resolve) => api!.once('exit', resolve));
      process.kill(-api.pid!, 'SIGKILL');
      await exited;
    }
    await worker?.kill('SIGTERM');
    await stack?.close();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  async function startApi(): Promise<string> {
    const [port, opsPort] = [await freePort(), await freePort()];
    storeDir = mkdtempSync(join(tmpdir(), 'otto-connect-obs-api-'));
    api = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'api', 'index.ts')],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          LOG_LEVEL: 'INFO',
          ...stackApiEnv(stack, {
            admin: randomBytes(24).toString('base64url'),
            stateKey: randomBytes(32).toString('base64url'),
          }),
          PORT: String(port),
          OPS_PORT: String(opsPort),
          SELLER_STORE: join(storeDir, 'seller-store.db'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    api.stdout?.on('data', (d: Buffer) => (apiOutput += d.toString()));
    api.stderr?.on('data', (d: Buffer) => (apiOutput += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!apiOutput.includes('ops endpoints on')) {
      if (api.exitCode !== null) throw new Error(`the API exited (${api.exitCode}):\n${apiOutput}`);
      if (Date.now() > deadline) throw new Error(`the API did not start:\n${apiOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return `http://127.0.0.1:${opsPort}/metrics`;
  }

  const scrape = async (url: string) => {
    const res = await fetch(url);
    expect([url, res.status]).toEqual([url, 200]);
    return await res.text();
  };

  it('finds every alert and dashboard series in /metrics of the API, the worker or the Temporal SDK', async () => {
    const apiUrl = await startApi();
    worker = await WorkerProcess.start(stack.workerEnv());
    const ready = /"sdkMetrics":"([^"]+)","appMetrics":"([^"]+)"/.exec(worker.log);
    if (!ready?.[1] || !ready[2])
      throw new Error(`no metrics URLs in the worker's ready line:\n${worker.log}`);
    const [sdkUrl, appUrl] = [ready[1], ready[2]];

    // A seller connects and tokens are minted (the probe's, every 1.5 s): mints, OTTO calls, activities
    // and workflow tasks run. The seller then disconnects: its workflow completes.
    // The code exchange fails once (OTTO answers 500): the authorization activity's attempt fails and is
    // retried. Mints fail twice the same way; a tick reports those to the workflow's token policy.
    await stack.admin('POST', '/faults', { pathPattern: '/oauth2/token$', status: 500, times: 1 });
    const { handle } = await stack.connectSeller();
    await stack.admin('POST', '/faults', { pathPattern: '/accessToken$', status: 500, times: 2 });
    await stack.waitFor(handle, (s) => s.token.refreshCount >= 2);
    await stack.disconnect(handle);
    // Failures the SDK dashboard shows: a workflow that fails (invalid input) and workflow tasks that fail
    // (a workflow type no worker registers); then idle pollers come back empty after a long poll.
    const failing = await stack.env.client.workflow.start('sellerConnection', {
      taskQueue: stack.taskQueue,
      workflowId: uniqueName('obs-invalid'),
      args: [{ sellerId: 'not a valid seller id!' }],
    });
    await expect(failing.result()).rejects.toThrow();
    const unknown = await stack.env.client.workflow.start('noSuchWorkflowType', {
      taskQueue: stack.taskQueue,
      workflowId: uniqueName('obs-unknown'),
      args: [],
    });
    const sdk = await eventually(
      () => scrape(sdkUrl),
      (text) =>
        [
          'temporal_workflow_completed_total',
          'temporal_activity_execution_failed_total',
          'temporal_workflow_failed_total',
          'temporal_workflow_task_execution_failed_total',
          'temporal_workflow_task_queue_poll_empty_total',
          'temporal_activity_poll_no_task_total',
        ].every((name) => text.includes(name)),
      100_000,
    );
    await unknown.terminate('observability test: done');
    const exported = {
      'API ops /metrics': exportedNames(await scrape(apiUrl)),
      'worker /metrics': exportedNames(await scrape(appUrl)),
      'Temporal SDK /metrics': exportedNames(sdk),
    };
    if (process.env.OBSERVABILITY_DUMP)
      writeFileSync(
        process.env.OBSERVABILITY_DUMP,
        JSON.stringify(
          { ...Object.fromEntries(Object.entries(exported).map(([k, v]) => [k, [...v].sort()])), sdk },
          null,
          1,
        ),
      );

    // Standard process and Node.js series, unprefixed, on both processes; the SDK's with Prometheus naming.
    for (const [where, names] of [
      ['API ops /metrics', exported['API ops /metrics']],
      ['worker /metrics', exported['worker /metrics']],
    ] as const)
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
      ])
        expect([where, name, names.has(name)]).toEqual([where, name, true]);
    expect([...exported['worker /metrics']].filter((n) => n.startsWith('otto_connect_worker_'))).toEqual([]);
    for (const name of [
      'temporal_activity_execution_latency_seconds_bucket',
      'temporal_workflow_task_execution_latency_seconds_bucket',
      'temporal_workflow_task_queue_poll_succeed_total',
    ])
      expect([name, exported['Temporal SDK /metrics'].has(name)]).toEqual([name, true]);

    const all = new Set(Object.values(exported).flatMap((s) => [...s]));
    const missing: string[] = [];
    const sdkLibrary = coreBridgeLibrary();
    const queries = [...alertQueries(), ...dashboardQueries()];
    for (const q of queries)
      for (const name of metricNames(q.expr))
        if (
          !all.has(name) &&
          !(name in EVENT_ONLY_SDK_SERIES && sdkLibrary.includes(EVENT_ONLY_SDK_SERIES[name]!))
        )
          missing.push(`${q.file} (${q.where}): ${name} is not exported`);
    expect(missing).toEqual([]);
    expect(queries.length).toBeGreaterThan(20);
  }, 200_000);
});
