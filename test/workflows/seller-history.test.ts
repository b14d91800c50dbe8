/**
 * History hygiene on the real dev server: no plaintext secret in any run's history (continue-as-new
 * included), histories stay under the bound, carried state survives continue-as-new unchanged, and the
 * recorded histories replay deterministically (test/workflows/replay-releases.test.ts).
 */
import { applySettingsUpdate, sellerWorkflowId } from '../../workflows/definitions';
import type { sellerConnection } from '../../workflows/seller-connection';
import { TestStack } from '../support/stack';
import { allRuns, historyText } from '../support/history';
import { eventually, uniqueName } from '../support/temporal';

const MAX_HISTORY = 60;
let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: 4,
    settings: {
      tokenRefreshMarginMs: 2_000,
      refreshJitterMs: 200,
      maxHistoryEvents: MAX_HISTORY,
      revocationConfirmWindowMs: 200,
      // No transfer due after the first tick: the probe mints every second, filling the history.
      revocationProbeIntervalMs: 1_000,
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

describe('seller workflow history', () => {
  it('holds no plaintext code, verifier, token or client secret across continue-as-new, and stays bounded', async () => {
    const { handle, sellerId } = await stack.connectSeller();
    const workflowId = sellerWorkflowId(sellerId);
    await eventually(
      async () => (await allRuns(stack.env.client, workflowId)).length,
      (n) => n >= 3,
      60_000,
    );
    await stack.disconnect(handle);
    await handle.result();

    const runs = await allRuns(stack.env.client, workflowId);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const secrets = [...stack.captured.secrets];
    // Codes, verifiers, installation tokens, developer tokens and client secrets were all seen.
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    for (const [i, { history }] of runs.entries()) {
      const text = historyText(history);
      // We are reading the payloads: the first run holds sealed values (the callback's code), every run
      // the installation token's handle in the workers' vault (activities/token-vault.ts), no token.
      if (i === 0) expect(text).toContain('v2.t1.');
      expect(text).toMatch(/"sealed":"vault:[A-Za-z0-9_-]{16}"/);
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      // The bound, plus the handful of events of the workflow task that decided to continue.
      expect(history.events?.length ?? 0).toBeLessThanOrEqual(MAX_HISTORY + 15);
    }
  }, 120_000);

  it('carries the whole state across continue-as-new unchanged', async () => {
    const { handle: started } = await stack.beginConsent(uniqueName('seller'));
    // Follow the chain of runs, not the first run.
    const handle = stack.env.client.workflow.getHandle<typeof sellerConnection>(started.workflowId);
    // Each applySettings update changes nothing the status shows: the state after every one is predictable.
    let previous = await stack.status(handle);
    for (let i = 1; i <= 40; i++) {
      await handle.executeUpdate(applySettingsUpdate, { args: [{}] });
      const current = await stack.status(handle);
      if (current.temporal.runId !== previous.temporal.runId) {
        const { temporal: _now, ...restNow } = current;
        const { temporal: _before, ...restBefore } = previous;
        expect(restNow).toEqual(restBefore);
        await stack.disconnect(handle);
        return;
      }
      previous = current;
    }
    throw new Error('no continue-as-new happened within 40 updates');
  }, 120_000);
});
