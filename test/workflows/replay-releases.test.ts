/**
 * CI's guard for docs/versioning.md: the histories each release recorded (`npm run histories:record` at
 * the release, into test/fixtures/histories/<version>/) replay on the current workflow code, and a change
 * that breaks them fails here with a message that says what to do. A deliberately incompatible workflow
 * (test/fixtures/workflows/incompatible-seller-connection.ts) proves that such a change is caught.
 * Needs no Temporal server: replay runs in this process.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundleCode } from '../support/temporal';
import { noStatusRowSinks } from '../../worker/status-row-sink';

type History = temporal.api.history.v1.IHistory;

const PROJECT_ROOT = join(__dirname, '..', '..');
const HISTORIES = join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
const INCOMPATIBLE = join(PROJECT_ROOT, 'test', 'fixtures', 'workflows', 'incompatible-seller-connection.ts');
const RERUN = 'npx jest test/workflows/replay-releases --runInBand';

const semver = (v: string) => v.split(/[.-]/).map((part) => (/^\d+$/.test(part) ? Number(part) : part));
function compareVersions(a: string, b: string): number {
  const [pa, pb] = [semver(a), semver(b)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i], pb[i]];
    if (x === y) continue;
    if (x === undefined) return 1; // 1.0.0 after 1.0.0-rc.1
    if (y === undefined) return -1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** The release directories, oldest first. */
function releases(): string[] {
  return readdirSync(HISTORIES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d+\.\d+\.\d+/.test(d.name))
    .map((d) => d.name)
    .sort(compareVersions);
}

interface Recorded {
  /** Relative to the project root, as the failure message names it. */
  path: string;
  history: History;
}

function recordedBy(version: string): Recorded[] {
  const dir = join(HISTORIES, version);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const path = relative(PROJECT_ROOT, join(dir, file));
      try {
        return { path, history: historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8'))) };
      } catch (err) {
        throw new Error(
          `${path} is not a workflow history (JSON as the Temporal UI downloads it): ${String(err)}`,
          { cause: err },
        );
      }
    });
}

interface ReplayFailure {
  path: string;
  error: string;
}

async function replay(bundleCode: string, recorded: Recorded[]): Promise<ReplayFailure[]> {
  const failures: ReplayFailure[] = [];
  const histories = recorded.map(({ path, history }) => ({ workflowId: path, history }));
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { code: bundleCode }, sinks: noStatusRowSinks() },
    histories,
  )) {
    if (result.error) failures.push({ path: result.workflowId, error: result.error.message });
  }
  return failures;
}

/** What CI prints when a release's histories no longer replay: which ones, and what to do about it. */
function notReplaySafe(version: string, failures: ReplayFailure[]): string {
  // The SDK wraps core's verdict ("[TMPRL1100] Nondeterminism error: …") in boilerplate: show the verdict.
  const oneLine = (text: string) => {
    const flat = text.replace(/\s+/g, ' ').trim();
    const verdict = /\[TMPRL\d+\][^"]*/.exec(flat)?.[0] ?? flat;
    return verdict.length > 300 ? `${verdict.slice(0, 300)} …` : verdict;
  };
  return [
    `Workflow change is not replay-safe for histories recorded by release ${version} (tag v${version}):`,
    ...failures.map((f) => `  - ${f.path}: ${oneLine(f.error)}`),
    '',
    `Sellers whose runs started on release ${version} would fail every workflow task after this deploy`,
    '(TMPRL1100 nondeterminism) and stall: no token refresh, no transfer, no status.',
    "What to do: wrap the change in patched('<id>') (docs/versioning.md): declare the id in",
    'workflows/patches.ts, read it with the other run-start flags, keep the old commands for runs where it is',
    `off, and cover both values in the decide() unit tests. Then re-run: ${RERUN}`,
    `Never re-record release ${version}'s histories to make this pass. Delete test/fixtures/histories/${version}/`,
    `only when no run of release ${version} can exist any more (docs/versioning.md, "Retiring a release's histories").`,
  ].join('\n');
}

/** What the histories of a release contain, to check they cover what docs/versioning.md promises. */
function contents(recorded: Recorded[]) {
  const activities = new Set<string>();
  const updates = new Set<string>();
  const finalStates = new Set<string>();
  let continuedAsNew = 0;
  let mostMintsInOneRun = 0;
  let mostConsentsInOneRun = 0;
  for (const { history } of recorded) {
    let mints = 0;
    let consents = 0;
    for (const event of history.events ?? []) {
      const activity = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (activity) activities.add(activity);
      if (activity === 'mintInstallationToken') mints++;
      const update = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
      if (update) updates.add(update);
      if (update === 'beginConsent') consents++;
      if (event.workflowExecutionContinuedAsNewEventAttributes) continuedAsNew++;
      const result = event.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
      if (result) {
        const state = (JSON.parse(Buffer.from(result).toString('utf8')) as { state?: unknown }).state;
        if (typeof state === 'string') finalStates.add(state);
      }
    }
    mostMintsInOneRun = Math.max(mostMintsInOneRun, mints);
    mostConsentsInOneRun = Math.max(mostConsentsInOneRun, consents);
  }
  return { activities, updates, finalStates, continuedAsNew, mostMintsInOneRun, mostConsentsInOneRun };
}

const RELEASES = releases();

beforeAll(() => {
  // Replay failures are the point of the second test: keep the worker's own logging to errors.
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch {
    // Another test file in this jest worker installed it already.
  }
});

describe('histories recorded by earlier releases', () => {
  it('live in one directory per release, at least one release', () => {
    const stray = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    expect({ stray, releases: RELEASES.length > 0 }).toEqual({ stray: [], releases: true });
    for (const version of RELEASES)
      expect([version, recordedBy(version).length > 0]).toEqual([version, true]);
  });

  for (const version of RELEASES) {
    it(`replay on the current workflow code: release ${version}`, async () => {
      const failures = await replay(workflowBundleCode(), recordedBy(version));
      if (failures.length > 0) throw new Error(notReplaySafe(version, failures));
    }, 120_000);
  }

  it('of the newest release cover refreshes, every transfer kind, an upgrade, a pause, a revocation and a continue-as-new', () => {
    const newest = RELEASES.at(-1);
    if (!newest) throw new Error('no recorded release: run npm run histories:record (docs/versioning.md)');
    const seen = contents(recordedBy(newest));
    expect(seen.mostMintsInOneRun).toBeGreaterThanOrEqual(3);
    for (const kind of [
      'ordersImport',
      'stockExport',
      'pricesExport',
      'returnsImport',
      'shippingProfilesSync',
    ])
      expect(seen.activities).toContain(kind);
    expect(seen.mostConsentsInOneRun).toBeGreaterThanOrEqual(2);
    for (const update of [
      'beginConsent',
      'consentCallback',
      'pause',
      'resume',
      'runTransferNow',
      'disconnect',
    ])
      expect(seen.updates).toContain(update);
    expect([...seen.finalStates].sort()).toEqual(
      expect.arrayContaining(['consent_expired', 'disconnected', 'revoked']),
    );
    expect(seen.continuedAsNew).toBeGreaterThanOrEqual(1);
  });

  it('a change that is not replay-safe is caught, and the message says what to do', async () => {
    const newest = RELEASES.at(-1);
    if (!newest) throw new Error('no recorded release: run npm run histories:record (docs/versioning.md)');
    const { code } = await bundleWorkflowCode({
      workflowsPath: INCOMPATIBLE,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    });
    const recorded = recordedBy(newest);
    const failures = await replay(code, recorded);
    // The extra timer comes before anything a recorded run did: no history replays.
    expect(failures.map((f) => f.path)).toEqual(recorded.map((r) => r.path));
    const message = notReplaySafe(newest, failures);
    expect(message).toContain(`not replay-safe for histories recorded by release ${newest}`);
    expect(message).toContain("wrap the change in patched('<id>') (docs/versioning.md)");
    for (const { path } of recorded) expect(message).toContain(path);
    expect(message).toContain(RERUN);
    // The failure is the replay's verdict on the commands, not a crash of the bundle.
    expect(failures[0]!.error).toMatch(/nondetermin|TMPRL1100/i);
  }, 180_000);
});
