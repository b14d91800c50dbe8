/**
 * ScopeEpoch (workflows/scope-epoch.ts), on the real dev server with a probe workflow in the seller loop's
 * shape (test/fixtures/workflows/scope-epoch-probe.ts):
 * - an epoch is renewed once enough work has settled in it, never while work runs in it;
 * - renewing cancels nothing that ran in it: the history holds no cancelled timer or activity;
 * - a cancellation of the workflow still reaches the work running in the current epoch, and ends a wait of
 *   the loop (which runs where no cancellation reaches it: ScopeEpoch `loop` and `wait`);
 * - so a seller workflow cancelled from the Temporal UI still ends as cancelled.
 * What it saves (the SDK's handlers let go) is measured by `npm run bench:run-growth -- --scopes=kept|epoch`.
 */
import { join } from 'node:path';
import { WithStartWorkflowOperation, type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type { ProbeState, scopeEpochProbe } from '../fixtures/workflows/scope-epoch-probe';
import { beginConsentUpdate, connectionStatusQuery, sellerWorkflowId } from '../../workflows/definitions';
import type { sellerConnection } from '../../workflows/seller-connection';
import { connectTestEnv, createTestWorker, eventually, newNonce, uniqueName } from '../support/temporal';

const PROBE = join(__dirname, '..', 'fixtures', 'workflows', 'scope-epoch-probe.ts');

let env: TestWorkflowEnvironment;
let worker: Worker;
let sellerWorker: Worker;
let running: Promise<void>;
const taskQueue = uniqueName('scope-epoch');
const sellerQueue = uniqueName('scope-epoch-seller');

beforeAll(async () => {
  env = await connectTestEnv();
  const { code } = await bundleWorkflowCode({
    workflowsPath: PROBE,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code },
    activities: { echo: (n: number) => Promise.resolve(n) },
  });
  sellerWorker = await createTestWorker(env, { taskQueue: sellerQueue });
  running = Promise.all([worker.run(), sellerWorker.run()]).then(() => undefined);
}, 120_000);

/** Cancels the workflow as the Temporal UI does; it must end as cancelled. */
async function cancelledByTheUi(handle: WorkflowHandle): Promise<void> {
  await handle.cancel();
  const failure = await handle.result().then(
    () => null,
    (err: unknown) => err,
  );
  expect(failure).toBeInstanceOf(WorkflowFailedError);
  expect((failure as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
}

afterAll(async () => {
  worker?.shutdown();
  sellerWorker?.shutdown();
  await running;
  await env?.teardown();
});

it('renews only settled epochs, cancels nothing by it, and lets a workflow cancellation through', async () => {
  // 6 rounds of 2 settled operations (a timer, an activity; the waits are not the epoch's), an epoch of 4.
  const handle = await env.client.workflow.start<typeof scopeEpochProbe>('scopeEpochProbe', {
    taskQueue,
    workflowId: uniqueName('probe'),
    args: [6, 4],
  });
  const state = await eventually(
    () => handle.query<ProbeState>('probeState'),
    (s) => s.renewedWhileRunning !== null,
    30_000,
  );
  expect(state.rounds).toBe(6);
  expect(state.renewed).toEqual([false, false, true, false, true, false]);
  // 4 operations settled by then, but the day-long timer runs in the epoch.
  expect(state.renewedWhileRunning).toBe(false);

  /** How many events of the history carry each of these attributes. */
  const count = async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const n = (has: (e: (typeof events)[number]) => unknown) => events.filter((e) => has(e) != null).length;
    return {
      timersFired: n((e) => e.timerFiredEventAttributes),
      activitiesCompleted: n((e) => e.activityTaskCompletedEventAttributes),
      timersCanceled: n((e) => e.timerCanceledEventAttributes),
      activityCancelRequests: n((e) => e.activityTaskCancelRequestedEventAttributes),
    };
  };
  expect(await count()).toEqual({
    timersFired: 6,
    activitiesCompleted: 6,
    timersCanceled: 0,
    activityCancelRequests: 0,
  });

  await cancelledByTheUi(handle);
  expect((await handle.query<ProbeState>('probeState')).longTimer).toBe('cancelled');
  expect((await count()).timersCanceled).toBe(1);
}, 60_000);

it('a seller workflow cancelled from the Temporal UI ends as cancelled', async () => {
  const sellerId = uniqueName('epoch-cancel');
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof sellerConnection>('sellerConnection', {
    workflowId: sellerWorkflowId(sellerId),
    taskQueue: sellerQueue,
    args: [{ sellerId, overrides: {} }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  await env.client.workflow.executeUpdateWithStart(beginConsentUpdate, {
    args: [{ sellerId, appVersion: 'v1', nonce: newNonce() }],
    startWorkflowOperation,
  });
  const handle = await startWorkflowOperation.workflowHandle();
  // Its loop waits for the consent (or the consent window's end) in the epoch's loop.
  expect((await handle.query(connectionStatusQuery)).state).toBe('pending_consent');
  await cancelledByTheUi(handle);
}, 60_000);
