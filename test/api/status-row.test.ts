/**
 * GET /api/sellers/:id/connection from the status row (issue 15): the Temporal adapter answers from the
 * seller store's row while it is valid, with no Temporal call at all, and asks Temporal's describe (the
 * memo path, test/api/status-memo.test.ts) when the row is missing, past its validUntil, unreadable,
 * another seller's, or the store fails. A fake Temporal client counts the calls; the rows are in a real
 * SQLite store. (test/workflows/status-row.test.ts has the workflow writing them on the dev server.)
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import request from 'supertest';
import { createApp } from '../../api/create-app';
import { statusSummaryViewSchema } from '../../api/http-schemas';
import { createTemporalSellerConnections } from '../../api/seller-connections';
import type { ConnectionStatusRow, SellerStore } from '../../store/seller-store';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { sellerWorkflowId } from '../../workflows/definitions';
import { settingsWithDefaults } from '../../workflows/guards';
import { initialConnection } from '../../workflows/seller-state';
import { STATUS_MEMO_KEY, toStatusSummary, type StatusSummary } from '../../workflows/status-summary';
import { SUPPORT_KEY, testConfig } from './test-app';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const UI = 'http://temporal-ui.test';

function summaryOf(sellerId: string, state?: StatusSummary['state']): StatusSummary {
  const summary = toStatusSummary(initialConnection(sellerId), settingsWithDefaults());
  return state === undefined ? summary : { ...summary, state };
}

/** A Temporal client that knows the sellers in `memos` (describe answers their memo) and counts calls. */
function fakeTemporal(memos: Map<string, StatusSummary>) {
  const calls: string[] = [];
  const client = {
    options: { namespace: 'default' },
    connection: { withDeadline: <T>(_deadline: number, work: () => Promise<T>) => work() },
    workflow: {
      getHandle: (workflowId: string) => ({
        describe: () => {
          calls.push(`describe ${workflowId}`);
          const sellerId = workflowId.replace(/^otto-seller:/, '');
          const memo = memos.get(sellerId);
          if (memo === undefined)
            return Promise.reject(new WorkflowNotFoundError('not found', workflowId, undefined));
          return Promise.resolve({
            workflowId,
            runId: 'run-from-describe',
            memo: { [STATUS_MEMO_KEY]: memo },
          });
        },
        query: () => {
          calls.push(`query ${workflowId}`);
          return Promise.reject(new Error('no query expected here'));
        },
      }),
    },
  } as unknown as Client;
  return { client, calls };
}

let store: SellerStore;
beforeEach(() => {
  store = openSqliteSellerStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

function put(sellerId: string, change: Partial<Omit<ConnectionStatusRow, 'updatedAt'>> = {}) {
  return store.putConnectionStatus({
    sellerId,
    runId: 'run-from-row',
    runStartedAt: NOW - 60_000,
    historyLength: 12,
    seq: 2,
    summary: JSON.stringify(summaryOf(sellerId, 'active')),
    validUntil: NOW + 60_000,
    ...change,
  });
}

/** `statusRows` null: an adapter without a store. */
function adapter(memos: Map<string, StatusSummary>, statusRows: SellerStore | null = store) {
  const temporal = fakeTemporal(memos);
  const connections = createTemporalSellerConnections({
    client: temporal.client,
    taskQueue: 'sellers',
    uiUrl: UI,
    callTimeoutMs: 1_000,
    now: () => NOW,
    ...(statusRows ? { statusRows } : {}),
  });
  return { connections, calls: temporal.calls };
}

it('a valid row answers without any Temporal call, with the link to the run that wrote it', async () => {
  const { connections, calls } = adapter(new Map([['s1', summaryOf('s1', 'paused')]]));
  await put('s1');
  const view = await connections.status('s1');
  expect(calls).toEqual([]);
  expect(view).toEqual({
    ...summaryOf('s1', 'active'),
    temporal: {
      workflowId: sellerWorkflowId('s1'),
      runId: 'run-from-row',
      uiUrl: `${UI}/namespaces/default/workflows/${encodeURIComponent(sellerWorkflowId('s1'))}/run-from-row/history`,
    },
  });
  expect(statusSummaryViewSchema.safeParse(view).success).toBe(true);
});

it('asks Temporal (describe, the memo) when the row is missing, expired, unreadable or not this seller’s', async () => {
  const sellers = ['missing', 'expired', 'just-expired', 'not-json', 'bad-shape', 'other-seller'];
  const memos = new Map(sellers.map((id) => [id, summaryOf(id, 'paused')]));
  const { connections, calls } = adapter(memos);
  await put('expired', { validUntil: NOW - 1 });
  await put('just-expired', { validUntil: NOW });
  await put('not-json', { summary: '{"sellerId":' });
  await put('bad-shape', { summary: JSON.stringify({ sellerId: 'bad-shape', state: 'no-such-state' }) });
  await put('other-seller', { summary: JSON.stringify(summaryOf('someone-else', 'active')) });
  for (const sellerId of sellers) {
    calls.length = 0;
    const view = await connections.status(sellerId);
    expect([sellerId, calls]).toEqual([sellerId, [`describe ${sellerWorkflowId(sellerId)}`]]);
    expect(view).toMatchObject({ sellerId, state: 'paused', temporal: { runId: 'run-from-describe' } });
  }
});

it('asks Temporal when the store fails or there is none, and a seller without row or run is not connected', async () => {
  const memos = new Map([['s1', summaryOf('s1', 'paused')]]);
  await put('s1');
  const failing = {
    ...store,
    getConnectionStatus: () => Promise.reject(new Error('database is locked')),
  } as SellerStore;
  for (const statusRows of [failing, null]) {
    const { connections, calls } = adapter(memos, statusRows);
    expect(await connections.status('s1')).toMatchObject({ state: 'paused' });
    expect(calls).toEqual([`describe ${sellerWorkflowId('s1')}`]);
  }
  const { connections } = adapter(memos);
  await expect(connections.status('never')).rejects.toMatchObject({ kind: 'not_connected' });
});

it('GET …/connection serves the row through the app; ?view=full still asks the workflow', async () => {
  const { connections, calls } = adapter(new Map([['s1', summaryOf('s1', 'paused')]]));
  await put('s1');
  const app = createApp({ config: testConfig(), connections, store, log: { error: () => undefined } });
  const auth = { Authorization: `Bearer ${SUPPORT_KEY}` };
  const res = await request(app).get('/api/sellers/s1/connection').set(auth);
  expect(res.status).toBe(200);
  expect(statusSummaryViewSchema.parse(res.body)).toMatchObject({
    sellerId: 's1',
    state: 'active',
    temporal: { runId: 'run-from-row' },
  });
  expect(calls).toEqual([]);
  const full = await request(app).get('/api/sellers/s1/connection?view=full').set(auth);
  expect(calls).toEqual([`query ${sellerWorkflowId('s1')}`]);
  // The fake's query fails: an error answer, but the point is that it was asked.
  expect(full.status).toBeGreaterThanOrEqual(500);
});
