/**
 * The seller workflow's consent slice on a real Temporal dev server: update-with-start, the status query,
 * visibility through search attributes, nonce handling, consent timeout and disconnect.
 */
import {
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  consentCallbackUpdate,
  beginConsentUpdate,
  connectionStatusQuery,
  disconnectUpdate,
  sellerWorkflowId,
  type BeginConsentInput,
  type WorkflowSettingsInput,
} from '../../workflows/definitions';
import type { sellerConnection } from '../../workflows/seller-connection';
import { runningQuery } from '../../workflows/visibility-queries';
import {
  connectTestEnv,
  createTestWorker,
  eventually,
  newNonce,
  testSealer,
  uniqueName,
} from '../support/temporal';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueName('consent');

beforeAll(async () => {
  env = await connectTestEnv();
  worker = await createTestWorker(env, { taskQueue });
  running = worker.run();
  console.log(
    `[workflow test] server ${process.env.TEMPORAL_TEST_SERVER_VERSION ?? '(external)'}, task queue ${taskQueue}`,
  );
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

function consentInput(sellerId: string, appVersion: 'v1' | 'v2' = 'v1'): BeginConsentInput {
  return {
    sellerId,
    appVersion,
    nonce: newNonce(),
    sealedPkceVerifier: testSealer.seal(newNonce() + newNonce(), { purpose: 'pkce-verifier', sellerId }),
  };
}

async function beginConsent(
  sellerId: string,
  input: BeginConsentInput,
  settings: WorkflowSettingsInput = {},
) {
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof sellerConnection>('sellerConnection', {
    workflowId: sellerWorkflowId(sellerId),
    taskQueue,
    args: [{ sellerId, overrides: settings }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  const result = await env.client.workflow.executeUpdateWithStart(beginConsentUpdate, {
    args: [input],
    startWorkflowOperation,
  });
  const handle: WorkflowHandle<typeof sellerConnection> = await startWorkflowOperation.workflowHandle();
  return { result, handle };
}

describe('sellerConnection: consent', () => {
  it('starts with update-with-start, answers the status query and is visible by state', async () => {
    const sellerId = uniqueName('s');
    const input = consentInput(sellerId);
    const { result, handle } = await beginConsent(sellerId, input);

    expect(result.state).toBe('pending_consent');
    expect(result.nonce).toBe(input.nonce);
    expect(Date.parse(result.consentDeadline)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect(handle.workflowId).toBe(`otto-seller:${sellerId}`);

    const status = await handle.query(connectionStatusQuery);
    expect(status).toMatchObject({
      sellerId,
      state: 'pending_consent',
      appVersion: null,
      pendingConsent: { appVersion: 'v1' },
      temporal: { workflowId: handle.workflowId },
    });
    expect(status.events.map((e) => e.type)).toEqual(['consent_requested']);
    expect(JSON.stringify(status)).not.toContain(input.sealedPkceVerifier);

    const listed = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const wf of env.client.workflow.list({
          query: runningQuery('pending_consent', { taskQueue, sellerId }),
        })) {
          ids.push(wf.workflowId);
        }
        return ids;
      },
      (ids) => ids.length === 1,
    );
    expect(listed).toEqual([handle.workflowId]);

    await handle.executeUpdate(disconnectUpdate, { args: [{ reason: 'test cleanup' }] });
  });

  it('a re-issued consent replaces the nonce: the old callback changes nothing, error= sets a clear lastError', async () => {
    const sellerId = uniqueName('s');
    const first = consentInput(sellerId);
    const { handle } = await beginConsent(sellerId, first);
    const second = consentInput(sellerId, 'v2');
    const { result } = await beginConsent(sellerId, second);
    expect(result).toMatchObject({ state: 'pending_consent', appVersion: 'v2', nonce: second.nonce });

    await expect(
      handle.executeUpdate(consentCallbackUpdate, { args: [{ nonce: first.nonce, error: 'access_denied' }] }),
    ).rejects.toMatchObject({ cause: { type: 'CallbackStale' } });
    let status = await handle.query(connectionStatusQuery);
    expect(status.lastError).toBeNull();

    await handle.executeUpdate(consentCallbackUpdate, {
      args: [
        {
          nonce: second.nonce,
          error: 'access_denied',
          errorDescription: 'user lacks Dienstleister Freigaben',
        },
      ],
    });
    status = await handle.query(connectionStatusQuery);
    expect(status.state).toBe('pending_consent');
    expect(status.lastError).toContain('"Dienstleister Freigaben" permission');
    expect(status.lastError).toContain('user lacks Dienstleister Freigaben');
    expect(status.events.map((e) => e.type)).toEqual([
      'consent_requested',
      'consent_reissued',
      'consent_denied',
    ]);

    await handle.executeUpdate(disconnectUpdate, { args: [{}] });
  });

  it('rejects invalid beginConsent input in the validator, leaving no trace in the workflow', async () => {
    const sellerId = uniqueName('s');
    const { handle } = await beginConsent(sellerId, consentInput(sellerId));
    const bad = { ...consentInput(sellerId), sealedPkceVerifier: 'plaintext-verifier' };
    await expect(handle.executeUpdate(beginConsentUpdate, { args: [bad] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
    const otherSeller = consentInput('someone-else');
    await expect(handle.executeUpdate(beginConsentUpdate, { args: [otherSeller] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
    const status = await handle.query(connectionStatusQuery);
    expect(status.events.map((e) => e.type)).toEqual(['consent_requested']);
    await handle.executeUpdate(disconnectUpdate, { args: [{}] });
  });

  it('expires a consent nobody confirms and completes as consent_expired', async () => {
    const sellerId = uniqueName('s');
    const { handle } = await beginConsent(sellerId, consentInput(sellerId), { consentTimeoutMs: 1_500 });
    const final = await handle.result();
    expect(final.state).toBe('consent_expired');
    expect(final.pendingConsent).toBeNull();
    expect(final.events.map((e) => e.type)).toEqual(['consent_requested', 'consent_expired']);
  });

  it('disconnect ends a pending connection; a second disconnect is refused', async () => {
    const sellerId = uniqueName('s');
    const { handle } = await beginConsent(sellerId, consentInput(sellerId));
    const answer = await handle.executeUpdate(disconnectUpdate, {
      args: [{ reason: 'seller left the shop' }],
    });
    expect(answer.state).toBe('disconnected');
    // Refused whether it reaches the finishing run (its validator) or the completed one (Temporal).
    await expect(handle.executeUpdate(disconnectUpdate, { args: [{ reason: 'again' }] })).rejects.toThrow();
    const final = await handle.result();
    expect(final.state).toBe('disconnected');
    expect(final.events.at(-1)).toMatchObject({ type: 'disconnected', detail: 'seller left the shop' });
    expect(final.events.filter((e) => e.type === 'disconnected')).toHaveLength(1);
    const described = await handle.describe();
    expect(described.status.name).toBe('COMPLETED');
  });
});
