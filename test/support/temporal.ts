/** Helpers for tests on the shared real dev server (started by global-setup.ts). */
import { createSettingsActivities } from '../../activities/settings-activities';
import { DEFAULT_TOKEN_TASK_QUEUE } from '../../workflows/definitions';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createSealer, generateSealKey, parseSealKeys } from '../../common/seal';
import { noStatusRowSinks } from '../../worker/status-row-sink';

let cachedBundle: string | undefined;

export function workflowBundleCode(): string {
  const path = process.env.TEMPORAL_TEST_WORKFLOW_BUNDLE;
  if (!path) throw new Error('TEMPORAL_TEST_WORKFLOW_BUNDLE is not set: run through jest (global-setup.ts)');
  cachedBundle ??= readFileSync(path, 'utf8');
  return cachedBundle;
}

export function testAddress(): string {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  if (!address) throw new Error('TEMPORAL_TEST_ADDRESS is not set: run through jest (global-setup.ts)');
  return address;
}

let runtimeInstalled = false;

/** Worker logs at ERROR in tests: expected activity retries (faults are injected on purpose) stay quiet. */
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger((process.env.TEST_WORKER_LOG_LEVEL as 'WARN' | undefined) ?? 'ERROR'),
    });
  } catch {
    // Another test file in this jest worker installed it already.
  }
}

export async function connectTestEnv(address = testAddress()): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return await TestWorkflowEnvironment.createFromExistingServer({ address });
}

/** Unique per test, so test files can share one server. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTestWorker(
  env: TestWorkflowEnvironment,
  options: Omit<WorkerOptions, 'connection' | 'workflowBundle' | 'workflowsPath'>,
): Promise<Worker> {
  return await Worker.create({
    connection: env.nativeConnection,
    workflowBundle: { code: workflowBundleCode() },
    // A test that checks the status rows passes the real sink (worker/status-row-sink.ts).
    sinks: noStatusRowSinks(),
    ...options,
    // Every seller run resolves its settings first (a local activity on the workflow worker).
    activities: {
      ...createSettingsActivities({ defaults: {}, tokenTaskQueues: [DEFAULT_TOKEN_TASK_QUEUE] }),
      ...options.activities,
    },
  });
}

export const testSealer = createSealer(parseSealKeys(generateSealKey('test')));

export function newNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** Polls an eventually consistent read (visibility) until it holds, failing after `timeoutMs`. */
export async function eventually<T>(
  read: () => Promise<T>,
  holds: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!holds(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}
