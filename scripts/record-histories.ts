/**
 * `npm run histories:record`: records the full histories of realistic seller-workflow runs of the code as
 * it is now into `test/fixtures/histories/<package.json version>/`, one JSON file per run (the format the
 * Temporal UI downloads). CI replays every release's histories against the current code forever, until
 * a documented retirement (docs/versioning.md, test/workflows/replay-releases.test.ts). Run it at each
 * release, before tagging `v<version>`.
 *
 * Each scenario runs the real connector on a test stack (test/support/stack.ts: the OTTO emulator, our
 * workers on unique task queues) with per-seller overrides that make it last seconds: 4-second tokens,
 * second-long transfer intervals, a short revocation window, a tiny history bound. Temporal: the server
 * at TEMPORAL_TEST_ADDRESS, or a dev server started here the way the jest global setup starts one.
 *
 * Before anything is written, every recorded history is checked: the run ended as the scenario meant it
 * to, no workflow task failed, no plaintext secret is in it, and it replays on the current code.
 *
 * Options: --out <dir> (another directory), --only <scenario,…> (record some; keeps the other files),
 * --list (print the scenarios). A stuck scenario prints its workflow's last events and pending activities
 * (RECORD_DEBUG=1: every event; TEST_WORKER_LOG_LEVEL=WARN: the workers' log).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import {
  pauseUpdate,
  resumeUpdate,
  runTransferNowUpdate,
  TRANSFER_KINDS,
  type AppVersion,
  type ConnectionStatus,
  type SettingsOverrides,
} from '../workflows/definitions';
import { TestStack, type SellerHandle, type StackOptions } from '../test/support/stack';
import { historyText, type History } from '../test/support/history';
import { eventually, uniqueName } from '../test/support/temporal';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { ensureTemporalCli, PROJECT_ROOT } from './ensure-temporal';
import { startDevServer, type DevServer } from './temporal-dev-server';
import { noStatusRowSinks } from '../worker/status-row-sink';
import { sellerWorkflowBundleOptions } from '../worker/workflow-bundle';

export const HISTORIES_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
const TOKEN_TTL_S = 4;

/** Short everything: a token every few seconds, every transfer kind every 1.5–2 s. */
const FAST: SettingsOverrides = {
  tokenRefreshMarginMs: 1_500,
  refreshJitterMs: 0,
  refreshRetryMaxIntervalMs: 500,
  minTokenValidityMs: 1_000,
  transferIntervalsMs: {
    ordersImport: 1_500,
    stockExport: 1_500,
    pricesExport: 2_000,
    returnsImport: 2_000,
    shippingProfilesSync: 2_000,
  },
  dailyTransferHour: null,
  stockFullResyncMs: 4_000,
  transferRetryWindowMs: 10_000,
  transferRetryMaxIntervalMs: 500,
  drainTimeoutMs: 1_000,
  webhookRetryMaxIntervalMs: 500,
};

interface ScenarioContext {
  stack: TestStack;
}

interface Scenario {
  name: string;
  /** One line for the version directory's README. */
  what: string;
  stack: Omit<StackOptions, 'webhook'>;
  /** A deployment with WEBHOOK_URL set: the workflow delivers webhooks (activities) too. */
  webhooks?: boolean;
  /** Drives one seller and returns its workflow id once the workflow has ended. */
  run(ctx: ScenarioContext): Promise<string>;
  /** What the final run must have ended in. */
  finalState: ConnectionStatus['state'];
  /** At least this many runs (continue-as-new). */
  minRuns?: number;
}

// ---- driving a seller -------------------------------------------------------------------------------

/** Every handle follows the chain of runs (a continue-as-new does not lose it). */
function latest(stack: TestStack, workflowId: string): SellerHandle {
  return stack.env.client.workflow.getHandle(workflowId);
}

/** Orders and returns at OTTO, and stock and prices in the shop, so every transfer has something to move. */
async function seed(stack: TestStack, sellerId: string, partnerId: string): Promise<void> {
  await stack.admin('POST', `/partners/${partnerId}/orders`, { count: 5 });
  await stack.admin('POST', `/partners/${partnerId}/returns`, { count: 3 });
  const skus = Array.from({ length: 12 }, (_, i) => `SKU-${i}`);
  await stack.registerProducts(partnerId, skus);
  await stack.store.setStock(
    sellerId,
    skus.map((sku, i) => ({ sku, quantity: i })),
  );
  await stack.store.setPrices(
    sellerId,
    skus.map((sku, i) => ({ sku, amount: 10 + i, currency: 'EUR' })),
  );
}

/** A fresh partner with data, then consent → OPC installation → OTTO login → callback → `active`. */
async function connect(stack: TestStack, appVersion: AppVersion) {
  const sellerId = uniqueName('seller');
  const partner = await stack.createPartner();
  await seed(stack, sellerId, partner.partnerId);
  const { handle: started, nonce, authorizeUrl } = await stack.beginConsent(sellerId, appVersion);
  await stack.installApp(appVersion, partner);
  const params = await stack.consentAtOtto(authorizeUrl, partner);
  const handle = latest(stack, started.workflowId);
  await stack.deliverCallback(handle, nonce, params);
  const status = await stack.waitForState(handle, 'active');
  return { sellerId, partner, handle, status };
}

/** Another consent for an app the partner has installed: "Allow access" → OTTO login → callback. */
async function consentAgain(
  stack: TestStack,
  handle: SellerHandle,
  sellerId: string,
  appVersion: AppVersion,
  user: { username: string; password: string },
): Promise<void> {
  const { nonce, authorizeUrl } = await stack.beginConsent(sellerId, appVersion);
  const params = await stack.consentAtOtto(authorizeUrl, user);
  await stack.deliverCallback(handle, nonce, params);
}

const ranOk = (s: ConnectionStatus, kind: (typeof TRANSFER_KINDS)[number]) =>
  s.transfers[kind]?.lastResult === 'ok';

async function finish(stack: TestStack, handle: SellerHandle): Promise<string> {
  await stack.disconnect(handle);
  await handle.result();
  return handle.workflowId;
}

// ---- the scenarios ----------------------------------------------------------------------------------

export const SCENARIOS: Scenario[] = [
  {
    name: 'active-all-transfers',
    what: 'consent → `active` (app v2, webhooks on) with several token refreshes; every transfer kind runs; disconnect',
    stack: { tokenTtlSeconds: TOKEN_TTL_S, settings: FAST },
    webhooks: true,
    finalState: 'disconnected',
    async run({ stack }) {
      const { handle } = await connect(stack, 'v2');
      await stack.waitFor(
        handle,
        // The authorization's token, then three refreshes.
        (s) => TRANSFER_KINDS.every((kind) => ranOk(s, kind)) && s.token.refreshCount >= 4,
        60_000,
      );
      return await finish(stack, handle);
    },
  },
  {
    name: 'upgrade-v1-v2',
    what: '`active` on v1 (shipping profiles skipped), re-consent to v2 while v1 refreshes, v2 token refreshed, shipping profiles sync; disconnect',
    stack: { tokenTtlSeconds: TOKEN_TTL_S, settings: FAST },
    finalState: 'disconnected',
    async run({ stack }) {
      const { handle, sellerId, partner } = await connect(stack, 'v1');
      const before = await stack.waitFor(
        handle,
        (s) => ranOk(s, 'ordersImport') && s.transfers.shippingProfilesSync?.lastResult === 'skipped',
        30_000,
      );
      const { nonce, authorizeUrl } = await stack.beginConsent(sellerId, 'v2');
      // v1 keeps refreshing (and transferring) while the seller is at OTTO.
      await stack.waitFor(handle, (s) => s.token.refreshCount > before.token.refreshCount, 30_000);
      await stack.installApp('v2', partner);
      await stack.deliverCallback(handle, nonce, await stack.consentAtOtto(authorizeUrl, partner));
      const v2 = await stack.waitFor(handle, (s) => s.appVersion === 'v2', 30_000);
      await stack.waitFor(
        handle,
        (s) => ranOk(s, 'shippingProfilesSync') && s.token.refreshCount > v2.token.refreshCount,
        30_000,
      );
      return await finish(stack, handle);
    },
  },
  {
    name: 'pause-resume',
    what: '`active`, pause (transfers stop, tokens go on), resume, run a transfer now; disconnect',
    stack: { tokenTtlSeconds: TOKEN_TTL_S, settings: FAST },
    finalState: 'disconnected',
    async run({ stack }) {
      const { handle, sellerId, partner } = await connect(stack, 'v1');
      await stack.waitFor(handle, (s) => ranOk(s, 'ordersImport') && ranOk(s, 'returnsImport'), 30_000);
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'support: shop migration' }] });
      const imported = (await stack.store.listOrders(sellerId)).length;
      await stack.admin('POST', `/partners/${partner.partnerId}/orders`, { count: 2 });
      // Longer than every interval: nothing may run while paused.
      await new Promise((r) => setTimeout(r, 3_000));
      await handle.executeUpdate(resumeUpdate);
      await eventually(
        () => stack.store.listOrders(sellerId),
        (orders) => orders.length >= imported + 2,
        30_000,
      );
      const returnsBefore = (await stack.status(handle)).transfers.returnsImport?.lastRunAt ?? '';
      await handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'returnsImport' }] });
      await stack.waitFor(
        handle,
        (s) => (s.transfers.returnsImport?.lastRunAt ?? '') > returnsBefore,
        15_000,
      );
      return await finish(stack, handle);
    },
  },
  {
    name: 'revocation',
    what: '`active` (webhooks on), the seller removes the app at OTTO, refused mints over the confirmation window → `revoked`',
    stack: {
      tokenTtlSeconds: TOKEN_TTL_S,
      settings: { ...FAST, revocationConfirmWindowMs: 1_500, revocationMinRefusals: 3 },
    },
    webhooks: true,
    finalState: 'revoked',
    async run({ stack }) {
      const { handle, partner } = await connect(stack, 'v1');
      await stack.waitFor(handle, (s) => ranOk(s, 'ordersImport') && s.token.refreshCount >= 1, 30_000);
      await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
      await withTimeout(handle.result(), 60_000, 'the workflow did not end after the revocation');
      return handle.workflowId;
    },
  },
  {
    name: 'continue-as-new',
    what: 'a history bound of 50 events with transfers running: continues as new twice (drain included); disconnect; every run kept',
    stack: { tokenTtlSeconds: TOKEN_TTL_S, settings: { ...FAST, maxHistoryEvents: 50 } },
    finalState: 'disconnected',
    minRuns: 3,
    async run({ stack }) {
      const { handle, status } = await connect(stack, 'v1');
      const runs = new Set([status.temporal.runId]);
      await eventually(
        async () => runs.add((await stack.status(handle)).temporal.runId).size,
        (n) => n >= 3,
        60_000,
      );
      return await finish(stack, handle);
    },
  },
  {
    name: 'consent-denied-then-disconnect',
    what: 'the seller cancels at OTTO (`error=access_denied`), consents again, `active`; disconnect',
    stack: { tokenTtlSeconds: TOKEN_TTL_S, settings: FAST },
    finalState: 'disconnected',
    async run({ stack }) {
      const sellerId = uniqueName('seller');
      const partner = await stack.createPartner();
      const { handle: started, nonce, authorizeUrl } = await stack.beginConsent(sellerId, 'v1');
      const handle = latest(stack, started.workflowId);
      await stack.installApp('v1', partner);
      const denied = await stack.consentAtOtto(authorizeUrl, partner, 'deny');
      await stack.deliverCallback(handle, nonce, denied);
      await stack.waitFor(handle, (s) => s.state === 'pending_consent' && s.lastError !== null);
      await consentAgain(stack, handle, sellerId, 'v1', partner);
      await stack.waitFor(handle, (s) => s.state === 'active' && ranOk(s, 'ordersImport'), 30_000);
      return await finish(stack, handle);
    },
  },
  {
    name: 'degraded-recovered',
    what: 'OTTO answers 503 to every orders call → `degraded`; it recovers → `active`; disconnect',
    stack: { tokenTtlSeconds: TOKEN_TTL_S, settings: { ...FAST, transferRetryWindowMs: 2_000 } },
    finalState: 'disconnected',
    async run({ stack }) {
      const { handle } = await connect(stack, 'v1');
      await stack.waitFor(handle, (s) => ranOk(s, 'ordersImport'), 30_000);
      await stack.admin('POST', '/faults', { method: 'GET', pathPattern: '^/v4/orders', status: 503 });
      await stack.waitForState(handle, 'degraded', 30_000);
      await stack.admin('DELETE', '/faults');
      await stack.waitFor(
        handle,
        (s) => s.state === 'active' && s.events.some((e) => e.type === 'recovered'),
        30_000,
      );
      return await finish(stack, handle);
    },
  },
  {
    name: 'consent-expired',
    what: '"Allow access", the seller never comes back: the consent window (3 s) ends → `consent_expired`',
    stack: { tokenTtlSeconds: TOKEN_TTL_S, settings: { ...FAST, consentTimeoutMs: 3_000 } },
    finalState: 'consent_expired',
    async run({ stack }) {
      const { handle } = await stack.beginConsent(uniqueName('seller'), 'v1');
      await withTimeout(latest(stack, handle.workflowId).result(), 30_000, 'the consent did not expire');
      return handle.workflowId;
    },
  },
];

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- reading and checking histories ------------------------------------------------------------------

/** Every run of the chain the workflow id's latest run belongs to, first to last (no visibility lag). */
export async function chainOfRuns(client: Client, workflowId: string): Promise<History[]> {
  const newest = await client.workflow.getHandle(workflowId).fetchHistory();
  let runId = newest.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId ?? undefined;
  if (!runId) throw new Error(`${workflowId}: no first run id in its history`);
  const runs: History[] = [];
  for (;;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(history);
    const next: string | null | undefined =
      history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next) return runs;
    runId = next;
  }
}

function problemsOf(scenario: Scenario, runs: History[], secrets: string[]): string[] {
  const problems: string[] = [];
  if (runs.length < (scenario.minRuns ?? 1))
    problems.push(`${runs.length} run(s), expected at least ${scenario.minRuns}`);
  runs.forEach((history, i) => {
    const events = history.events ?? [];
    const last = events.at(-1);
    const isLast = i === runs.length - 1;
    if (
      isLast
        ? !last?.workflowExecutionCompletedEventAttributes
        : !last?.workflowExecutionContinuedAsNewEventAttributes
    )
      problems.push(`run ${i + 1} did not ${isLast ? 'complete' : 'continue as new'}`);
    if (events.some((e) => e.workflowTaskFailedEventAttributes))
      problems.push(`run ${i + 1} has a failed workflow task (a bug, not a history to keep)`);
    const text = historyText(history);
    for (const secret of secrets)
      if (text.includes(secret)) problems.push(`run ${i + 1} holds a plaintext secret`);
  });
  const result = runs.at(-1)?.events?.at(-1)?.workflowExecutionCompletedEventAttributes?.result
    ?.payloads?.[0];
  const final = result?.data
    ? (JSON.parse(Buffer.from(result.data).toString('utf8')) as { state?: string })
    : {};
  if (final.state !== scenario.finalState)
    problems.push(`ended as ${String(final.state)}, expected ${scenario.finalState}`);
  return problems;
}

async function replayProblems(bundleCode: string, files: Array<{ file: string; json: string }>) {
  const problems: string[] = [];
  const histories = files.map(({ file, json }) => ({
    workflowId: file,
    history: historyFromJSON(JSON.parse(json)),
  }));
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { code: bundleCode }, sinks: noStatusRowSinks() },
    histories,
  )) {
    if (result.error) problems.push(`${result.workflowId} does not replay: ${result.error.message}`);
  }
  return problems;
}

/** When a scenario gets stuck: what its workflows wait for (pending activities and the last events). */
async function diagnose(stack: TestStack): Promise<void> {
  try {
    const client = stack.env.client;
    for await (const wf of client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}'` })) {
      const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
      const { raw } = await handle.describe();
      const events = (await handle.fetchHistory()).events ?? [];
      console.error(`[record]   ${wf.workflowId} (${wf.status.name}), last events:`);
      for (const e of events.slice(process.env.RECORD_DEBUG ? 0 : -8)) {
        const attrs = Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? '?';
        const scheduled = e.activityTaskScheduledEventAttributes;
        const detail = scheduled ? ` ${scheduled.activityType?.name} on ${scheduled.taskQueue?.name}` : '';
        console.error(`[record]     #${String(e.eventId)} ${attrs.replace(/EventAttributes$/, '')}${detail}`);
      }
      for (const a of raw.pendingActivities ?? [])
        console.error(
          `[record]   pending ${a.activityType?.name ?? '?'}: attempt ${a.attempt ?? '?'}, ` +
            `${a.lastFailure?.message ?? 'no failure yet'}`,
        );
    }
  } catch (err) {
    console.error(`[record]   (no diagnosis: ${String(err)})`);
  }
}

// ---- main --------------------------------------------------------------------------------------------

interface Args {
  out: string | undefined;
  only: string[] | undefined;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { out: undefined, only: undefined, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out') args.out = argv[++i];
    else if (arg === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--list') args.list = true;
    else throw new Error(`unknown argument ${arg} (known: --out <dir>, --only <scenario,…>, --list)`);
  }
  return args;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

function packageVersion(name: string): string {
  const path = join(PROJECT_ROOT, 'node_modules', ...name.split('/'), 'package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(32)} ${s.what}`);
    return;
  }
  const version = (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const outDir = resolve(args.out ?? join(HISTORIES_DIR, version));
  if (!args.out && git(['tag', '--list', `v${version}`]) === `v${version}`) {
    throw new Error(
      `v${version} is tagged: its histories are what sellers on that release have, and are never re-recorded. ` +
        'Bump the version in package.json first (docs/versioning.md, "Recorded histories and the release process").',
    );
  }
  const unknown = (args.only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (see --list)`);
  const scenarios = args.only ? SCENARIOS.filter((s) => args.only!.includes(s.name)) : SCENARIOS;
  if (git(['status', '--porcelain', '--', 'workflows']) !== '')
    console.warn('[record] workflows/ has uncommitted changes: a release records committed code');

  // Like the jest global setup: tests' processes run in dev, one Temporal server, the bundle built once.
  process.env.OTTO_CONNECT_ENV = 'dev';
  let server: DevServer | undefined;
  let cliVersion = 'external server';
  if (process.env.TEMPORAL_TEST_ADDRESS) {
    console.log(`[record] using the Temporal server at ${process.env.TEMPORAL_TEST_ADDRESS}`);
  } else {
    const cli = ensureTemporalCli({ log: (line) => console.log(`[record] ${line}`) });
    cliVersion = cli.version;
    server = await startDevServer({ cliPath: cli.path });
    process.env.TEMPORAL_TEST_ADDRESS = server.address;
    console.log(`[record] Temporal dev server ${cli.version} at ${server.address}`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'otto-record-'));
  try {
    const { code } = await bundleWorkflowCode({
      ...sellerWorkflowBundleOptions(),
      logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
    });
    const bundlePath = join(tmp, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);
    process.env.TEMPORAL_TEST_WORKFLOW_BUNDLE = bundlePath;

    const files: Array<{ file: string; json: string; scenario: Scenario; run: number; events: number }> = [];
    const problems: string[] = [];
    for (const scenario of scenarios) {
      const began = Date.now();
      console.log(`[record] ${scenario.name}: ${scenario.what}`);
      const receiver = scenario.webhooks ? await WebhookReceiver.start() : undefined;
      const stack = await TestStack.start({
        ...scenario.stack,
        ...(receiver ? { webhook: { url: receiver.url, secret: receiver.secret } } : {}),
      });
      try {
        const workflowId = await scenario.run({ stack });
        const runs = await chainOfRuns(stack.env.client, workflowId);
        problems.push(
          ...problemsOf(scenario, runs, [...stack.captured.secrets]).map((p) => `${scenario.name}: ${p}`),
        );
        runs.forEach((history, i) => {
          const file = runs.length === 1 ? `${scenario.name}.json` : `${scenario.name}-run${i + 1}.json`;
          const json = `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`;
          files.push({ file, json, scenario, run: i + 1, events: history.events?.length ?? 0 });
        });
        console.log(
          `[record]   ${runs.length} run(s), ${runs.map((r) => r.events?.length ?? 0).join(' + ')} events, ` +
            `${((Date.now() - began) / 1000).toFixed(1)} s`,
        );
      } catch (err) {
        await diagnose(stack);
        throw new Error(
          `scenario ${scenario.name} failed: ${err instanceof Error ? err.message : String(err)}`,
          {
            cause: err,
          },
        );
      } finally {
        await stack.close();
        await receiver?.close();
      }
    }
    problems.push(...(await replayProblems(code, files)));
    if (problems.length > 0) {
      throw new Error(
        `nothing written; the recorded histories are not fit to keep:\n  - ${problems.join('\n  - ')}`,
      );
    }

    mkdirSync(outDir, { recursive: true });
    if (!args.only) {
      for (const old of readdirSync(outDir)) if (old.endsWith('.json')) rmSync(join(outDir, old));
    }
    for (const { file, json } of files) writeFileSync(join(outDir, file), json);
    const all = readdirSync(outDir)
      .filter((f) => f.endsWith('.json'))
      .sort();
    writeFileSync(join(outDir, 'README.md'), readme(version, files, all, cliVersion));
    console.log(`[record] wrote ${files.length} histories to ${relative(PROJECT_ROOT, outDir)}/`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await server?.stop();
  }
}

function readme(
  version: string,
  files: Array<{ file: string; scenario: Scenario; run: number; events: number }>,
  all: string[],
  cliVersion: string,
): string {
  const commit = git(['rev-parse', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--', 'workflows']) !== '';
  const rows = all.map((file) => {
    const recorded = files.find((f) => f.file === file);
    if (!recorded) return `| \`${file}\` | | (recorded earlier) |`;
    return `| \`${file}\` | ${recorded.events} | ${recorded.scenario.what}${recorded.run > 1 ? ` (run ${recorded.run})` : ''} |`;
  });
  return [
    `# Histories recorded by release ${version}`,
    '',
    `Recorded by \`npm run histories:record\` on ${new Date().toISOString().slice(0, 10)} from commit`,
    `\`${commit}\`${dirty ? ' with uncommitted changes under workflows/' : ''}, Temporal TypeScript SDK`,
    `${packageVersion('@temporalio/worker')}, ${cliVersion.split('\n')[0]}, against the OTTO emulator with`,
    `${TOKEN_TTL_S}-second tokens and second-long transfer intervals (scripts/record-histories.ts).`,
    '',
    'CI replays every file here against the current workflow code',
    '(test/workflows/replay-releases.test.ts) until this release is retired as docs/versioning.md',
    `describes. Once \`v${version}\` is tagged these files never change: they are what sellers running`,
    'this release have in their histories.',
    '',
    '| file | events | what the run does |',
    '| ---- | ------ | ----------------- |',
    ...rows,
    '',
  ].join('\n');
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`[record] ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
