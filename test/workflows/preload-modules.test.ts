/**
 * The workflow modules are preloaded (worker/workflow-bundle.ts): evaluated once per reusable V8 context
 * and shared by every seller in it, instead of once per cached seller. On the real dev server, with the
 * workflows in this thread (`debugMode`) so their activators can be read:
 * - no module of ours is in a seller's own module cache (it would be without the preload: the cached
 *   seller's heap went 118 → 67 KB with it, bench/workflow-memory.ts --no-preload);
 * - sellers sharing the modules share no state: each keeps its own, through a disconnect of the other.
 */
import { randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ReusableVMWorkflowCreator } from '@temporalio/worker/lib/workflow/reusable-vm';
import {
  beginConsentUpdate,
  connectionStatusQuery,
  disconnectUpdate,
  sellerWorkflowId,
} from '../../workflows/definitions';
import type { sellerConnection } from '../../workflows/seller-connection';
import { connectTestEnv, createTestWorker, eventually, uniqueName } from '../support/temporal';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueName('preload');

beforeAll(async () => {
  env = await connectTestEnv();
  // The production executor (reusable V8 context), in this thread so the test can read its activators.
  worker = await createTestWorker(env, { taskQueue, debugMode: true, reuseV8Context: true });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

async function begin(sellerId: string, appVersion: 'v1' | 'v2') {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof sellerConnection>('sellerConnection', {
    workflowId: sellerWorkflowId(sellerId),
    taskQueue,
    args: [{ sellerId, overrides: {} }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  const result = await env.client.workflow.executeUpdateWithStart(beginConsentUpdate, {
    args: [{ sellerId, appVersion, nonce: randomBytes(18).toString('base64url') }],
    startWorkflowOperation,
  });
  const handle: WorkflowHandle<typeof sellerConnection> = await startWorkflowOperation.workflowHandle();
  return { sellerId, result, handle };
}

/** The module ids a cached run evaluated for itself (its activator's own module cache). */
function ownModules(runId: string): string[] {
  const wf = ReusableVMWorkflowCreator.workflowByRunId.get(runId) as unknown as
    { activator?: { moduleCache?: Map<string, unknown> } } | undefined;
  if (wf?.activator?.moduleCache === undefined) throw new Error(`run ${runId} is not cached in this thread`);
  return [...wf.activator.moduleCache.keys()];
}

describe('preloaded workflow modules', () => {
  it('are evaluated once per context, not again for each cached seller', async () => {
    const a = await begin(uniqueName('pa'), 'v1');
    const b = await begin(uniqueName('pb'), 'v2');
    for (const { handle } of [a, b]) {
      const { runId } = await handle.describe();
      const own = ownModules(runId);
      expect(own.filter((id) => /\/(workflows|common)\//.test(id))).toEqual([]);
      expect(own.filter((id) => id.includes('@temporalio/workflow/lib/index'))).toEqual([]);
    }
  });

  it('share no state between sellers: each keeps its own through the other one’s disconnect', async () => {
    const a = await begin(uniqueName('qa'), 'v1');
    const b = await begin(uniqueName('qb'), 'v2');
    expect([a.result.state, b.result.state]).toEqual(['pending_consent', 'pending_consent']);
    await a.handle.executeUpdate(disconnectUpdate, { args: [{ reason: 'test' }] });
    const [sa, sb] = await eventually(
      () => Promise.all([a.handle.query(connectionStatusQuery), b.handle.query(connectionStatusQuery)]),
      ([first]) => first.state !== 'pending_consent',
    );
    expect(sa).toMatchObject({ sellerId: a.sellerId, state: 'disconnected' });
    expect(sb).toMatchObject({
      sellerId: b.sellerId,
      state: 'pending_consent',
      pendingConsent: { appVersion: 'v2' },
    });
    expect(sb.events.map((e) => e.type)).toEqual(['consent_requested']);
  });
});
