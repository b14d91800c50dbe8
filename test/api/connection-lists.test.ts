/**
 * Lists and counts show each seller once (issue 14 item 2), on the real dev server: a seller whose
 * workflow continued as new twice, and one that was revoked at OTTO and reconnected. The adapter is
 * scoped to this stack's task queue so other suites' sellers on the shared server do not count.
 */
import { createMetrics, trackConnections } from '../../api/metrics';
import {
  createTemporalSellerConnections,
  type ConnectionSummary,
  type SellerConnections,
} from '../../api/seller-connections';
import { sellerWorkflowId, type ConnectionState } from '../../workflows/definitions';
import { TestStack } from '../support/stack';
import { eventually } from '../support/temporal';

let stack: TestStack;
let connections: SellerConnections;

beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: 6,
    settings: {
      tokenRefreshMarginMs: 3_000,
      refreshJitterMs: 300,
      refreshRetryMaxIntervalMs: 500,
      revocationConfirmDelayMs: 200,
      // A small history bound: the workflows continue as new every few refreshes.
      maxHistoryEvents: 50,
    },
  });
  connections = createTemporalSellerConnections({
    client: stack.env.client,
    taskQueue: stack.taskQueue,
    uiUrl: 'http://localhost:8233',
    settings: stack.settings,
    callTimeoutMs: 10_000,
    scopeToTaskQueue: true,
  });
});

afterAll(async () => {
  await stack?.close();
});

const ids = (list: ConnectionSummary[]) => list.map((c) => c.sellerId).sort();

it('a seller that continued as new twice and one revoked and reconnected are listed and counted once', async () => {
  const longLived = await stack.connectSeller();
  const reconnected = await stack.connectSeller();

  // Revoked at OTTO: the workflow ends in `revoked`, and is listed as such while it is the latest run.
  await stack.admin('POST', `/partners/${reconnected.partner.partnerId}/revoke`, {});
  expect((await reconnected.handle.result()).state).toBe('revoked');
  const revokedOnly = await eventually(
    () => connections.list({ state: 'revoked', limit: 100 }),
    (list) => list.length === 1,
    30_000,
  );
  expect(revokedOnly[0]).toMatchObject({ sellerId: reconnected.sellerId, state: 'revoked', running: false });

  // Reconnects: a new run of the same workflow id, next to the closed `revoked` one.
  const again = await stack.connectSeller(reconnected.sellerId);
  expect(again.status.state).toBe('active');

  // The other seller continues as new twice (each run closes with ExecutionStatus 'ContinuedAsNew').
  const handle = stack.env.client.workflow.getHandle(sellerWorkflowId(longLived.sellerId));
  const runs = new Set<string>([(await handle.describe()).runId]);
  await eventually(
    async () => runs.add((await handle.describe()).runId).size,
    (n) => n >= 3,
    90_000,
  );

  const listed = await eventually(
    () => connections.list({ limit: 100 }),
    (list) => list.length === 2 && list.every((c) => c.running && c.state === 'active'),
    30_000,
  );
  // Each seller once, with its live run (never a continued-as-new or the revoked run).
  expect(ids(listed)).toEqual([longLived.sellerId, reconnected.sellerId].sort());
  expect(listed.map((c) => c.executionStatus)).toEqual(['RUNNING', 'RUNNING']);
  expect(await connections.list({ state: 'revoked', limit: 100 })).toEqual([]);
  expect(ids(await connections.list({ state: 'active', limit: 100 }))).toEqual(ids(listed));

  const expected: Record<ConnectionState, number> = {
    new: 0,
    pending_consent: 0,
    authorizing: 0,
    active: 2,
    degraded: 0,
    paused: 0,
    revoked: 0,
    disconnected: 0,
    consent_expired: 0,
  };
  expect(await connections.countByState()).toEqual(expected);

  // The gauge shows the same counts.
  const metrics = createMetrics();
  trackConnections(metrics, () => connections.countByState(), { cacheMs: 0 });
  const text = await metrics.registry.metrics();
  expect(text).toContain('otto_connect_connections{state="active"} 2');
  expect(text).toContain('otto_connect_connections{state="revoked"} 0');

  // Disconnected: the latest closed run is listed once, in `disconnected`, and no longer as revoked.
  await stack.disconnect(stack.env.client.workflow.getHandle(sellerWorkflowId(reconnected.sellerId)));
  const ended = await eventually(
    () => connections.list({ limit: 100 }),
    (list) => list.some((c) => c.sellerId === reconnected.sellerId && c.state === 'disconnected'),
    30_000,
  );
  expect(ids(ended)).toEqual(ids(listed));
  expect(await connections.list({ state: 'revoked', limit: 100 })).toEqual([]);
  expect(await connections.countByState()).toEqual({ ...expected, active: 1, disconnected: 1 });
}, 240_000);
