/**
 * The workflow modules are preloaded (worker/workflow-bundle.ts): evaluated once per reusable V8 context
 * and shared by every seller in it, instead of once per cached seller. On the real dev server, with the
 * workflows in this thread (`debugMode`) so their activators can be read:
 * - no module of ours is in a seller's own module cache (it would be without the preload: the cached
 *   seller's heap went 118 → 67 KB with it, bench/workflow-memory.ts --no-preload);
 * - sellers sharing the modules share no state: each keeps its own, through a disconnect of the other;
 * - the entry point's stack limit holds in the context: the Temporal UI's stack trace view shows each
 *   pending promise with at most WORKFLOW_STACK_FRAMES frames, still down to the line of ours that waits.
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
import { WORKFLOW_STACK_FRAMES } from '../../workflows/stack-frames';
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

async function begin(sellerId: string, appVersion: 'v1' | 'v2', queue = taskQueue) {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof sellerConnection>('sellerConnection', {
    workflowId: sellerWorkflowId(sellerId),
    taskQueue: queue,
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

  it('capture at most WORKFLOW_STACK_FRAMES frames per pending promise, each stack still naming the line of ours that waits', async () => {
    // As production runs them, in a workflow thread (with the workflows in this thread, under jest, the
    // SDK's stack tracking recorded nothing).
    const threadQueue = uniqueName('preload-thread');
    const threaded = await createTestWorker(env, { taskQueue: threadQueue, reuseV8Context: true });
    const trace = await threaded.runUntil(async () => {
      const { handle } = await begin(uniqueName('st'), 'v1', threadQueue);
      // The query behind the Temporal UI's "Stack Trace" tab.
      return await handle.query<string>('__stack_trace');
    });
    const stacks = trace.split(/\n\s*\n/).filter((s) => s.trim() !== '');
    expect(stacks.length).toBeGreaterThan(0);
    for (const stack of stacks) {
      const frames = stack.split('\n').filter((line) => /^\s*at /.test(line));
      expect(frames.length).toBeLessThanOrEqual(WORKFLOW_STACK_FRAMES);
      // Each still names the line of ours that waits (too few frames would leave only the SDK's).
      expect(stack).toMatch(/workflows\/[\w-]+\.ts:\d+/);
    }
  });
});
