/**
 * The observability profile against the code: every series that deploy/prometheus/alerts.yml and the
 * Grafana dashboards in deploy/grafana/dashboards/ query must be one the API or the worker exports,
 * checked against a live scrape of worker/index.ts (its own /metrics and the Temporal SDK's) and of
 * api/index.ts (the ops port), each in its own process as deployed. Series that exist only once something
 * happened are made to happen first: failed workflows, activities and workflow tasks, empty polls, a
 * request Temporal refuses, a long poll cut off, a sticky-cache miss. When promtool is installed
 * (.tools/bin/promtool or PROMTOOL; see the report of issue 16), `promtool check rules` must accept the
 * alert rules, and every dashboard query (as a recording rule) too; without it the rules are still
 * parsed (YAML) and every query is tokenized by the extractor below, which fails on what it cannot read.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { sellerWorkflowId } from '../../workflows/definitions';
import { TestStack } from '../support/stack';
import { startApiProcess, type ApiProcess } from '../support/api-process';
import { stackApiEnv } from '../support/stack-api';
import { eventually, uniqueName } from '../support/temporal';
import { WorkerProcess } from '../support/worker-process';
import { TcpProxy } from './support/tcp-proxy';

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

/** The sum of a series' samples (0 when it is not exported), optionally only those with these labels. */
function seriesTotal(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m?.[1] !== name) continue;
    const found = new Map(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!] as const),
    );
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) total += Number(m[3]);
  }
  return total;
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
  let proxy: TcpProxy | undefined;
  let api: ApiProcess | undefined;
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
    await api?.kill();
    await worker?.kill('SIGTERM');
    await proxy?.close();
    await stack?.close();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  async function startApi(): Promise<string> {
    storeDir = mkdtempSync(join(tmpdir(), 'otto-connect-obs-api-'));
    api = await startApiProcess({
      ...stackApiEnv(stack, {
        admin: randomBytes(24).toString('base64url'),
        stateKey: randomBytes(32).toString('base64url'),
      }),
      SELLER_STORE: join(storeDir, 'seller-store.db'),
    });
    return `http://127.0.0.1:${api.opsPort}/metrics`;
  }

  const scrape = async (url: string) => {
    const res = await fetch(url);
    expect([url, res.status]).toEqual([url, 200]);
    return await res.text();
  };

  /**
   * Scrapes `url` until `holds`, running `meanwhile` (or pausing 200 ms) between scrapes; after `timeoutMs`
   * fails naming what was awaited and the temporal_* series the last scrape had.
   */
  async function scrapeUntil(
    url: string,
    what: string,
    holds: (exposition: string) => boolean,
    { timeoutMs = 30_000, meanwhile }: { timeoutMs?: number; meanwhile?: () => Promise<unknown> } = {},
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await scrape(url);
      if (holds(text)) return text;
      if (Date.now() > deadline) {
        const sdkSeries = [...exportedNames(text)].filter((n) => n.startsWith('temporal_')).sort();
        throw new Error(
          `${what}: not seen in ${url} within ${timeoutMs} ms; its temporal_* series were:\n  ${sdkSeries.join('\n  ')}`,
        );
      }
      await (meanwhile ? meanwhile() : new Promise((resolve) => setTimeout(resolve, 200)));
    }
  }

  it('finds every alert and dashboard series in /metrics of the API, the worker or the Temporal SDK', async () => {
    const apiUrl = await startApi();
    // The worker as deployed, with two settings for the events below: it reaches Temporal through a
    // forwarder the test can cut (a network failure on cue), and caches at most two workflows (the
    // SDK's smallest non-zero cache), so a third workflow's task evicts one of them.
    proxy = await TcpProxy.start(stack.temporalAddress);
    worker = await WorkerProcess.start({
      ...stack.workerEnv(),
      TEMPORAL_ADDRESS: proxy.address,
      MAX_CACHED_WORKFLOWS: '2',
    });
    const ready = /"sdkMetrics":"([^"]+)","appMetrics":"([^"]+)"/.exec(worker.log);
    if (!ready?.[1] || !ready[2])
      throw new Error(`no metrics URLs in the worker's ready line:\n${worker.log}`);
    const [sdkUrl, appUrl] = [ready[1], ready[2]];

    const app = (version: string) => {
      const found = stack.apps.find((a) => a.version === version);
      if (!found) throw new Error(`the emulator has no ${version} app`);
      return found;
    };
    /** The token requests (mints) of one app's installations; a fault on them hits only that app's sellers. */
    const mintsOf = (version: string) =>
      `/apps/${escapeRegExp(encodeURIComponent(app(version).appId))}/installations/[^/]+/accessToken$`;

    // A seller connects and tokens are minted (the probe's, every 1.5 s): mints, OTTO calls, activities
    // and workflow tasks run. The seller then disconnects: its workflow completes.
    // The code exchange fails once (OTTO answers 500): the authorization activity's attempt fails and is
    // retried. Mints fail twice the same way; a tick reports those to the workflow's token policy.
    // Failures the SDK dashboard shows: a workflow that fails (invalid input) and workflow tasks that fail
    // (a workflow type no worker registers); then idle pollers come back empty after a long poll.
    const sellerLifecycle = async () => {
      await stack.admin('POST', '/faults', { pathPattern: '/oauth2/token$', status: 500, times: 1 });
      const { handle } = await stack.connectSeller();
      await stack.admin('POST', '/faults', { pathPattern: mintsOf('v1'), status: 500, times: 2 });
      await stack.waitFor(handle, (s) => s.token.refreshCount >= 2);
      await stack.disconnect(handle);
      const failing = await stack.env.client.workflow.start('sellerConnection', {
        taskQueue: stack.taskQueue,
        workflowId: uniqueName('obs-invalid'),
        args: [{ sellerId: 'not a valid seller id!' }],
      });
      await expect(failing.result()).rejects.toThrow();
      return await stack.env.client.workflow.start('noSuchWorkflowType', {
        taskQueue: stack.taskQueue,
        workflowId: uniqueName('obs-unknown'),
        args: [],
      });
    };

    // A request to Temporal that fails (temporal_request_failure_total): an activity still running when
    // its workflow is terminated reports to a workflow that is gone, and Temporal answers NOT_FOUND.
    // A seller on app v2 (so no other seller's request matches) has one token request held at OTTO for
    // 2 s; once it is in flight, the seller's workflow is terminated.
    const requestFailure = async () => {
      const { handle } = await stack.connectSeller(uniqueName('obs-terminated'), 'v2');
      const notFound = { status_code: 'NOT_FOUND' };
      const before = seriesTotal(await scrape(sdkUrl), 'temporal_request_failure_total', notFound);
      const held = await stack.admin<{ id: string }>('POST', '/faults', {
        pathPattern: mintsOf('v2'),
        latencyMs: 2_000,
        times: 1,
      });
      // A fault that fired its last time leaves the list: the held request is in flight now.
      await eventually(
        () => stack.admin<{ id: string }[]>('GET', '/faults'),
        (faults) => !faults.some((f) => f.id === held.id),
        30_000,
      );
      await handle.terminate('observability test: its token request is in flight');
      await scrapeUntil(
        sdkUrl,
        'a request answered NOT_FOUND (by an activity of a terminated workflow)',
        (text) => seriesTotal(text, 'temporal_request_failure_total', notFound) > before,
      );
    };

    // A sticky-cache miss (temporal_sticky_cache_miss_total): three seller workflows that wait for
    // consent, for a cache of two. A query is sent to the worker's sticky queue without history; for a
    // workflow no longer cached, the SDK misses and fetches the history. Queried in turn, each of the
    // three was evicted by the two queried since.
    const stickyCacheMiss = async () => {
      const waiting = await Promise.all(
        [1, 2, 3].map(async () => {
          const sellerId = uniqueName('obs-waiting');
          return await stack.env.client.workflow.start('sellerConnection', {
            taskQueue: stack.taskQueue,
            workflowId: sellerWorkflowId(sellerId),
            args: [{ sellerId, overrides: stack.settings }],
          });
        }),
      );
      // Once it answers a query, a workflow has run its first task and has the worker's sticky queue.
      for (const w of waiting)
        await eventually(
          () => stack.status(w).catch(() => undefined),
          (s) => s !== undefined,
        );
      const before = seriesTotal(await scrape(sdkUrl), 'temporal_sticky_cache_miss_total');
      let next = 0;
      await scrapeUntil(
        sdkUrl,
        'a sticky-cache miss (queries to three workflows, two cached)',
        (text) => seriesTotal(text, 'temporal_sticky_cache_miss_total') > before,
        { meanwhile: () => stack.status(waiting[next++ % waiting.length]!) },
      );
      for (const w of waiting) await w.terminate('observability test: done');
    };

    // The three run at once: an empty poll (awaited below) needs a whole long poll (about 60 s) with
    // nothing to do, which starts only after the last of them; one after another would add to that.
    const [unknown] = await Promise.all([sellerLifecycle(), requestFailure(), stickyCacheMiss()]);

    const pollsDone = [
      'temporal_workflow_completed_total',
      'temporal_activity_execution_failed_total',
      'temporal_workflow_failed_total',
      'temporal_workflow_task_execution_failed_total',
      'temporal_workflow_task_queue_poll_empty_total',
      'temporal_activity_poll_no_task_total',
    ];
    await scrapeUntil(
      sdkUrl,
      `all of ${pollsDone.join(', ')}`,
      (text) => pollsDone.every((name) => text.includes(name)),
      { timeoutMs: 100_000 },
    );
    await unknown.terminate('observability test: done');

    // A long poll that fails (temporal_long_request_failure_total): the link to Temporal drops while the
    // worker's pollers wait. Each poll in flight fails at the transport; the SDK reconnects and polls
    // again. Last, since a cut poll starts its wait for an empty answer (above) over.
    const longFailure = { status_code: 'TRANSPORT_ERROR' };
    const longFailuresBefore = seriesTotal(
      await scrape(sdkUrl),
      'temporal_long_request_failure_total',
      longFailure,
    );
    expect(['connections the worker has open through the proxy', proxy.cut() > 0]).toEqual([
      'connections the worker has open through the proxy',
      true,
    ]);
    const sdk = await scrapeUntil(
      sdkUrl,
      'a long poll failed at the transport (the link to Temporal cut)',
      (text) => seriesTotal(text, 'temporal_long_request_failure_total', longFailure) > longFailuresBefore,
    );

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
    const queries = [...alertQueries(), ...dashboardQueries()];
    for (const q of queries)
      for (const name of metricNames(q.expr))
        if (!all.has(name)) missing.push(`${q.file} (${q.where}): ${name} is not exported`);
    expect(missing).toEqual([]);
    expect(queries.length).toBeGreaterThan(20);
  }, 200_000);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
