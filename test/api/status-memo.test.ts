/**
 * Status and lists without a worker round trip (issue 15), on the real dev server: the seller workflow
 * keeps its status summary in its memo, `GET /api/sellers/:id/connection` answers from it (proven with
 * the workers stopped: a query could not be answered then), `?view=full` still asks the workflow, a run
 * without a memo falls back to the query, and `GET /api/connections` pages through every seller once
 * with an opaque cursor over Temporal's page token. The adapter is scoped to this stack's task queue.
 */
import request from 'supertest';
import { createApp } from '../../api/create-app';
import {
  listResponseSchema,
  statusSummaryViewSchema,
  statusViewSchema,
  type connectionSummarySchema,
} from '../../api/http-schemas';
import { createTemporalSellerConnections } from '../../api/seller-connections';
import { STATUS_MEMO_KEY } from '../../workflows/status-summary';
import { sellerWorkflowId, WORKFLOW_TYPE } from '../../workflows/definitions';
import { TestStack } from '../support/stack';
import { stackApiConfig } from '../support/stack-api';
import { eventually, uniqueName } from '../support/temporal';
import { ADMIN_KEY, STATE_KEY, SUPPORT_KEY, errorOf } from './test-app';
import type { z } from 'zod';

type Row = z.infer<typeof connectionSummarySchema>;

let stack: TestStack;
/** callTimeoutMs 3 s: a query nobody answers is a quick 503. */
let api: ReturnType<typeof createApp>;
/** callTimeoutMs 30 s: a query waits for workers that are starting again. */
let patientApi: ReturnType<typeof createApp>;

beforeAll(async () => {
  stack = await TestStack.start();
  const config = stackApiConfig(stack, { admin: ADMIN_KEY, support: SUPPORT_KEY, stateKey: STATE_KEY });
  const app = (callTimeoutMs: number) =>
    createApp({
      config,
      connections: createTemporalSellerConnections({
        client: stack.env.client,
        taskQueue: stack.taskQueue,
        uiUrl: config.TEMPORAL_UI_URL,
        callTimeoutMs,
        scopeToTaskQueue: true,
      }),
      sealer: stack.sealer,
    });
  api = app(3_000);
  patientApi = app(30_000);
});

afterAll(async () => {
  await stack?.close();
});

const support = { Authorization: `Bearer ${SUPPORT_KEY}` };

const get = (path: string, app = api) => request(app).get(path).set(support);

async function page(query: Record<string, string | number>) {
  const res = await get('/api/connections').query(query);
  if (res.status !== 200) throw new Error(`GET /api/connections → ${res.status}: ${res.text}`);
  return listResponseSchema.parse(res.body);
}

/** Every page of a list: the page sizes and the rows, in order. */
async function walk(query: Record<string, string | number>): Promise<{ sizes: number[]; rows: Row[] }> {
  const sizes: number[] = [];
  const rows: Row[] = [];
  let cursor: string | null = null;
  do {
    const p = await page(cursor === null ? query : { ...query, cursor });
    sizes.push(p.items.length);
    rows.push(...p.items);
    cursor = p.nextCursor;
    if (sizes.length > 20) throw new Error('the list does not end');
  } while (cursor !== null);
  return { sizes, rows };
}

it('the list pages through every seller once: running first, then ended, with an opaque cursor', async () => {
  // Seven sellers: five waiting for consent (running), two disconnected (ended); one of those twice,
  // so it has two closed `disconnected` runs and must still be listed once (at its newest run).
  const sellerIds = Array.from({ length: 7 }, (_, i) => uniqueName(`page${i + 1}`));
  const handles = [];
  for (const sellerId of sellerIds) handles.push((await stack.beginConsent(sellerId)).handle);
  for (const handle of handles.slice(5)) {
    await stack.disconnect(handle);
    await handle.result();
  }
  const twice = sellerIds[6]!;
  const again = (await stack.beginConsent(twice)).handle;
  await stack.disconnect(again);
  await again.result();
  const running = sellerIds.slice(0, 5).sort();
  const ended = sellerIds.slice(5).sort();
  const newest = (await stack.env.client.workflow.getHandle(sellerWorkflowId(twice)).describe()).runId;

  // Visibility is eventually consistent: wait until one big page shows the final picture (`twice` at its
  // second run: until visibility has that run, its first one is the newest it knows).
  await eventually(
    () => page({ pageSize: 1000 }),
    (p) =>
      p.items.length === 7 &&
      p.items.find((r) => r.sellerId === twice)?.temporal.runId === newest &&
      p.items.filter((r) => r.running && r.status?.state === 'pending_consent').length === 5 &&
      p.items.filter((r) => !r.running && r.state === 'disconnected').length === 2,
    30_000,
  );

  const { sizes, rows } = await walk({ pageSize: 3 });
  expect(sizes).toEqual([3, 3, 1]);
  // No duplicates, no gaps; running sellers first (the second page crosses into the ended ones).
  expect(rows.map((r) => r.sellerId).sort()).toEqual([...sellerIds].sort());
  expect(
    rows
      .slice(0, 5)
      .map((r) => r.sellerId)
      .sort(),
  ).toEqual(running);
  expect(
    rows
      .slice(5)
      .map((r) => r.sellerId)
      .sort(),
  ).toEqual(ended);
  // Rows carry the search attributes and the run's status memo (no worker asked).
  for (const row of rows.slice(0, 5)) {
    expect(row).toMatchObject({ state: 'pending_consent', running: true, executionStatus: 'RUNNING' });
    expect(row.status).toMatchObject({ sellerId: row.sellerId, state: 'pending_consent' });
    expect(row.status?.pendingConsent?.appVersion).toBe('v1');
  }
  for (const row of rows.slice(5)) {
    expect(row).toMatchObject({ state: 'disconnected', running: false, executionStatus: 'COMPLETED' });
    expect(row.status).toMatchObject({ sellerId: row.sellerId, state: 'disconnected' });
  }
  expect(rows.find((r) => r.sellerId === twice)?.temporal.runId).toBe(newest);

  // A state filter pages on its own: `limit` is pageSize's alias.
  const waiting = await walk({ state: 'pending_consent', limit: 2 });
  expect(waiting.sizes).toEqual([2, 2, 1]);
  expect(waiting.rows.map((r) => r.sellerId).sort()).toEqual(running);
  const disconnected = await walk({ state: 'disconnected', pageSize: 1 });
  expect(disconnected.rows.map((r) => r.sellerId).sort()).toEqual(ended);
  expect(disconnected.sizes.filter((n) => n > 0)).toEqual([1, 1]);

  // Nothing a secret in the rows.
  const text = JSON.stringify(rows);
  for (const secret of stack.captured.secrets) if (secret.length >= 8) expect(text).not.toContain(secret);
}, 120_000);

it('a cursor this API did not issue, or issued for another state, is a 400 that says so', async () => {
  for (let i = 0; i < 2; i++) await stack.beginConsent(uniqueName('cursor'));
  const first = await eventually(
    () => page({ state: 'pending_consent', pageSize: 1 }),
    (p) => p.nextCursor !== null,
  );
  const issued = first.nextCursor!;
  const [body, mac] = issued.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  const rewritten = (change: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify({ ...payload, ...change })).toString('base64url')}.${mac}`;
  const bad = [
    'not-a-cursor',
    '%%%',
    `${body}.${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`,
    body,
    // Temporal's token swapped for one it never issued (Temporal itself would only answer "retry").
    rewritten({ t: Buffer.from('{"garbage":').toString('base64') }),
    rewritten({ p: 'ended' }),
  ];
  for (const cursor of bad) {
    const res = await get('/api/connections').query({ state: 'pending_consent', cursor });
    expect([cursor, res.status]).toEqual([cursor, 400]);
    expect(errorOf(res)).toMatchObject({
      code: 'invalid_cursor',
      message: expect.stringMatching(/^query\.cursor: /) as string,
      details: [{ path: 'query.cursor', message: expect.any(String) as string }],
    });
  }
  const otherState = await get('/api/connections').query({ state: 'active', cursor: first.nextCursor! });
  expect(otherState.status).toBe(400);
  expect(errorOf(otherState)).toMatchObject({
    code: 'invalid_cursor',
    message: expect.stringContaining('another state filter') as string,
  });
});

it('GET …/connection answers from the memo: with no worker running it still answers at once; view=full needs one', async () => {
  const { sellerId, partner } = await stack.connectSeller();
  const { handle: endedHandle } = await stack.beginConsent(uniqueName('ended'));
  await stack.disconnect(endedHandle);
  await endedHandle.result();
  const endedId = endedHandle.workflowId.replace(/^otto-seller:/, '');

  // While workers run: the summary is the full view without events and webhooks (fields that do not
  // move on their own: token timing and transfers may change between two calls).
  const stable = (v: Record<string, unknown>) => {
    const { token: _token, transfers: _transfers, events: _events, webhooks: _webhooks, ...rest } = v;
    return rest;
  };
  const summary = statusSummaryViewSchema.parse((await get(`/api/sellers/${sellerId}/connection`)).body);
  const full = statusViewSchema.parse((await get(`/api/sellers/${sellerId}/connection?view=full`)).body);
  expect(full.events.length).toBeGreaterThan(0);
  expect(summary).not.toHaveProperty('events');
  expect(summary).not.toHaveProperty('webhooks');
  expect(stable(summary)).toEqual(stable(full));
  expect(summary).toMatchObject({ state: 'active', appVersion: 'v1', partnerId: partner.partnerId });

  await stack.stopWorkers();
  let restarted = false;
  try {
    // Nobody polls the task queue now: a query could not be answered. The memo can.
    const started = Date.now();
    const res = await get(`/api/sellers/${sellerId}/connection`);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(stable(statusSummaryViewSchema.parse(res.body))).toEqual(stable(summary));
    expect(elapsed).toBeLessThan(1_000);
    // An ended run's summary too (its latest run; the query would replay it on a worker).
    const endedRes = await get(`/api/sellers/${endedId}/connection`);
    expect(endedRes.status).toBe(200);
    expect(statusSummaryViewSchema.parse(endedRes.body)).toMatchObject({
      sellerId: endedId,
      state: 'disconnected',
      temporal: { runId: (await endedHandle.describe()).runId },
    });
    // The full view is the workflow's query: without a worker it is a 503 after the call timeout, which
    // says no answer came in time (Temporal itself is reachable).
    const fullRes = await get(`/api/sellers/${sellerId}/connection?view=full`);
    expect(fullRes.status).toBe(503);
    expect(errorOf(fullRes)).toEqual({
      code: 'temporal_timeout',
      message:
        'The workflow service (Temporal) or the seller’s worker did not answer in time; please try again shortly.',
    });

    // A run without a memo (as one started before release 0.2.0): started while no worker runs, so it
    // has written nothing yet. The API falls back to the query, which waits for the workers below.
    const oldStyle = uniqueName('no-memo');
    const handle = await stack.env.client.workflow.start(WORKFLOW_TYPE, {
      workflowId: sellerWorkflowId(oldStyle),
      taskQueue: stack.taskQueue,
      args: [{ sellerId: oldStyle, overrides: stack.settings }],
    });
    expect((await handle.describe()).memo?.[STATUS_MEMO_KEY]).toBeUndefined();
    const answered = get(`/api/sellers/${oldStyle}/connection`, patientApi).then((r) => r);
    await new Promise((r) => setTimeout(r, 500));
    await stack.restartWorkers();
    restarted = true;
    const fallback = await answered;
    expect(fallback.status).toBe(200);
    expect(statusSummaryViewSchema.parse(fallback.body)).toMatchObject({ sellerId: oldStyle, state: 'new' });
    expect(fallback.body).not.toHaveProperty('events');
    // Once the worker ran it, the run has its memo.
    await eventually(
      async () => (await handle.describe()).memo?.[STATUS_MEMO_KEY],
      (memo) => (memo as { state?: string } | undefined)?.state === 'new',
    );
  } finally {
    if (!restarted) await stack.restartWorkers();
  }
}, 120_000);
