/**
 * The workflow threads' young generation (worker/allocator.ts): the cap applies to V8 isolates
 * created after it, as the SDK's workflow threads are. A thread that churns short-lived garbage grows
 * its new space to the cap (2 × the semi-space), not to Node 24's default of 128 MB on a box this size.
 */
import { Worker } from 'node:worker_threads';
import { DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB, limitWorkflowThreadSemiSpace } from '../../worker/allocator';

const CHURN = `
  const v8 = require('node:v8');
  const { parentPort } = require('node:worker_threads');
  let keep = [];
  for (let i = 0; i < 3e6; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 2e5) keep = []; }
  const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  parentPort.postMessage(ns.space_size);
`;

function newSpaceOfAChurningThread(): Promise<number> {
  return new Promise((resolve, reject) => {
    const thread = new Worker(CHURN, { eval: true });
    thread.once('message', (bytes: number) => {
      resolve(bytes);
      void thread.terminate();
    });
    thread.once('error', reject);
  });
}

describe('workflow thread heap', () => {
  it('caps the new space of threads started after limitWorkflowThreadSemiSpace', async () => {
    limitWorkflowThreadSemiSpace(DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB);
    const bytes = await newSpaceOfAChurningThread();
    // Up to 2 semi-spaces plus V8's rounding (a page or so; 32.25 MB seen), never the 128 MB Node 24
    // picks on a box with a few GB.
    const MB = 1024 * 1024;
    expect(bytes).toBeLessThanOrEqual(2 * DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB * MB + MB);
    expect(bytes).toBeGreaterThan(0);
  }, 60_000);
});
