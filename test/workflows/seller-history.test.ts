/**
 * History hygiene on the real dev server: no plaintext secret in any run's history (continue-as-new
 * included), histories stay under the bound, carried state survives continue-as-new unchanged, and the
 * recorded histories replay deterministically.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { authorizationCallbackSignal, sellerWorkflowId } from '../../workflows/definitions';
import type { sellerConnection } from '../../workflows/seller-connection';
import { TestStack } from '../support/stack';
import { allRuns, historyText } from '../support/history';
import { eventually, uniqueName, workflowBundleCode } from '../support/temporal';

const FIXTURES = join(__dirname, '..', 'fixtures', 'histories');
const MAX_HISTORY = 60;
let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: 4,
    settings: {
      tokenRefreshMarginMs: 2_000,
      refreshJitterMs: 200,
      maxHistoryEvents: MAX_HISTORY,
      revocationConfirmDelayMs: 200,
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
    for (const { history } of runs) {
      const text = historyText(history);
      expect(text).toContain('v2.t1.'); // sealed values are there: we are reading the payloads
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
      // The bound, plus the handful of events of the workflow task that decided to continue.
      expect(history.events?.length ?? 0).toBeLessThanOrEqual(MAX_HISTORY + 15);
    }

    if (process.env.RECORD_HISTORIES === '1') {
      // The CLI's JSON is the canonical history format (what the Temporal UI downloads too).
      mkdirSync(FIXTURES, { recursive: true });
      const cli = process.env.TEMPORAL_TEST_CLI ?? 'temporal';
      const address = process.env.TEMPORAL_TEST_ADDRESS ?? '127.0.0.1:7233';
      runs.forEach(({ runId }, i) => {
        const json = execFileSync(
          cli,
          ['workflow', 'show', '--address', address, '-w', workflowId, '-r', runId, '-o', 'json'],
          {
            encoding: 'utf8',
          },
        );
        writeFileSync(join(FIXTURES, `lifecycle-run${i + 1}.json`), json);
      });
    }
  }, 120_000);

  it('carries the whole state across continue-as-new unchanged', async () => {
    const { handle: started } = await stack.beginConsent(uniqueName('seller'));
    // Follow the chain of runs, not the first run.
    const handle = stack.env.client.workflow.getHandle<typeof sellerConnection>(started.workflowId);
    // Each stale callback only adds one `callback_refused` event: the state after every signal is predictable.
    let previous = await stack.status(handle);
    for (let i = 1; i <= 40; i++) {
      await handle.signal(authorizationCallbackSignal, { nonce: `stale-${i}`, error: 'access_denied' });
      const current = await stack.waitFor(
        handle,
        (s) => s.events.filter((e) => e.type === 'callback_refused').length === i,
      );
      if (current.temporal.runId !== previous.temporal.runId) {
        const { temporal: _now, events: eventsNow, ...restNow } = current;
        const { temporal: _before, events: eventsBefore, ...restBefore } = previous;
        expect(restNow).toEqual(restBefore);
        expect(eventsNow.slice(0, -1)).toEqual(eventsBefore);
        expect(eventsNow.at(-1)?.type).toBe('callback_refused');
        await stack.disconnect(handle);
        return;
      }
      previous = current;
    }
    throw new Error('no continue-as-new happened within 40 signals');
  }, 120_000);

  it('replays every recorded history with the current workflow code', async () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const histories = files.map((file) => ({
      workflowId: file,
      history: historyFromJSON(JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'))),
    }));
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { code: workflowBundleCode() } },
      histories,
    )) {
      results.push(result);
    }
    expect(results.map((r) => [r.workflowId, r.error?.message])).toEqual(files.map((f) => [f, undefined]));
  });
});
