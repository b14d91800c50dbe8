/**
 * Settings resolved by the worker (issue 14 item 3), end to end on the dev server: the workflow input
 * carries only a seller's overrides; each run start resolves the rest from the worker's configuration.
 *
 * (a) A deploy (the stack's workers restarted with a new TRANSFER_INTERVALS equivalent) reaches a
 *     running seller at its NEXT RUN: this seller continues as new every few seconds (a small
 *     maxHistoryEvents and a busy stock export in its overrides), so its next run shows the new
 *     ordersImport interval and next due time.
 * (b) A seller without such overrides keeps its run, and its old interval, after the restart; the
 *     admin's `POST /api/settings/apply` then changes its interval and next due time in the same run.
 */
import request from 'supertest';
import { createApp } from '../../api/create-app';
import { applySettingsResponseSchema } from '../../api/http-schemas';
import { createTemporalSellerConnections } from '../../api/seller-connections';
import {
  applySettingsUpdate,
  runTransferNowUpdate,
  type ConnectionStatus,
} from '../../workflows/definitions';
import { TestStack } from '../support/stack';
import { stackApiConfig } from '../support/stack-api';
import { eventually, uniqueName } from '../support/temporal';

jest.setTimeout(180_000);

const HOUR = 3_600_000;
const ADMIN_KEY = 'settings-test-admin-key-01';
/** The worker's configuration before the deploy: every kind hourly (prices and profiles off: quiet). */
const BEFORE = {
  transferIntervalsMs: {
    ordersImport: HOUR,
    stockExport: HOUR,
    pricesExport: null,
    returnsImport: HOUR,
    shippingProfilesSync: null,
  },
};
/** …and after it: orders every 2 s (TRANSFER_INTERVALS=ordersImport=2s). */
const AFTER = { transferIntervalsMs: { ...BEFORE.transferIntervalsMs, ordersImport: 2_000 } };

const ordersImport = (s: ConnectionStatus) => s.transfers.ordersImport;
const dueIn = (s: ConnectionStatus) => Date.parse(ordersImport(s)?.nextDueAt ?? '') - Date.now();

let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({ settings: { refreshJitterMs: 0 }, workerSettings: BEFORE });
});

afterAll(async () => {
  await stack?.close();
});

it('a worker restart reaches running sellers at their next run; POST /api/settings/apply reaches them now', async () => {
  // (a)'s seller continues as new every few seconds; (b)'s keeps one run for the whole test.
  const busy = await stack.connectSeller(uniqueName('settings-busy'), 'v1', {
    overrides: { refreshJitterMs: 0, maxHistoryEvents: 50, transferIntervalsMs: { stockExport: 500 } },
  });
  const quiet = await stack.connectSeller(uniqueName('settings-quiet'));

  for (const { handle } of [busy, quiet]) {
    const before = await stack.waitFor(handle, (s) => ordersImport(s)?.lastResult === 'ok');
    expect(ordersImport(before)?.intervalMs).toBe(HOUR);
    expect(dueIn(before)).toBeGreaterThan(HOUR - 5 * 60_000);
  }
  // The busy seller really continues as new (its overrides are carried across runs).
  const busyRun = (await stack.status(busy.handle)).temporal.runId;
  const busyMoved = await stack.waitFor(busy.handle, (s) => s.temporal.runId !== busyRun);
  expect(ordersImport(busyMoved)?.intervalMs).toBe(HOUR);
  expect(busyMoved.transfers.stockExport?.intervalMs).toBe(500);
  const quietRun = (await stack.status(quiet.handle)).temporal.runId;

  // The deploy: new worker configuration.
  await stack.restartWorkers({ workerSettings: AFTER });

  // (a) The busy seller's next run resolves the new settings: orders every 2 s, due now-ish.
  const restartedRun = (await stack.status(busy.handle)).temporal.runId;
  const busyAfter = await stack.waitFor(
    busy.handle,
    (s) => ordersImport(s)?.intervalMs === 2_000 && s.temporal.runId !== restartedRun,
    60_000,
  );
  expect(dueIn(busyAfter)).toBeLessThanOrEqual(3_000);
  // Its own overrides still win over the worker's configuration.
  expect(busyAfter.transfers.stockExport?.intervalMs).toBe(500);
  expect(busyAfter.state).toBe('active');

  // (b) The quiet seller has not started a new run: the restart alone has not reached it (the busy
  // seller above proves the restarted workers have been running tasks meanwhile).
  const quietBefore = await stack.status(quiet.handle);
  expect(quietBefore.temporal.runId).toBe(quietRun);
  expect(ordersImport(quietBefore)?.intervalMs).toBe(HOUR);
  expect(dueIn(quietBefore)).toBeGreaterThan(HOUR - 10 * 60_000);
  const lastRunAt = ordersImport(quietBefore)?.lastRunAt;

  // The admin applies the workers' settings now, through the real API and Temporal adapter.
  const config = stackApiConfig(stack, {
    admin: ADMIN_KEY,
    stateKey: 'settings-test-state-key-0123456789abc',
  });
  const app = createApp({
    config,
    connections: createTemporalSellerConnections({
      client: stack.env.client,
      taskQueue: stack.taskQueue,
      uiUrl: config.TEMPORAL_UI_URL,
      callTimeoutMs: 10_000,
      // The shared dev server runs other tests' sellers: apply to this stack's only.
      scopeToTaskQueue: true,
    }),
    sealer: stack.sealer,
  });
  // Both sellers run. The busy one continues as new every few seconds, and for a moment around that
  // visibility may list neither of its runs as running (visibility-queries.ts): applied again until both
  // are matched (applying is idempotent; a run started meanwhile has the settings anyway).
  const outcome = await eventually(
    async () => {
      const res = await request(app).post('/api/settings/apply').set('Authorization', `Bearer ${ADMIN_KEY}`);
      if (res.status !== 200) throw new Error(`POST /api/settings/apply → ${res.status}: ${res.text}`);
      return applySettingsResponseSchema.parse(res.body);
    },
    (o) => o.matched === 2,
    10_000,
  );
  expect(outcome.matched).toBe(2);
  expect(outcome.failed.map((f) => f.sellerId)).not.toContain(quiet.sellerId);
  expect(outcome.applied).toBeGreaterThanOrEqual(1);

  const quietAfter = await stack.waitFor(quiet.handle, (s) => ordersImport(s)?.intervalMs === 2_000, 15_000);
  expect(quietAfter.temporal.runId).toBe(quietRun);
  expect(dueIn(quietAfter)).toBeLessThanOrEqual(3_000);
  // …and orders are imported on the new interval, in the same run.
  const ran = await stack.waitFor(
    quiet.handle,
    (s) => ordersImport(s)?.lastRunAt !== lastRunAt && ordersImport(s)?.lastResult === 'ok',
    15_000,
  );
  expect(ran.temporal.runId).toBe(quietRun);

  // The update's own answer: the effective intervals and the seller's token queue (the stack's one).
  const applied = await quiet.handle.executeUpdate(applySettingsUpdate, { args: [{}] });
  expect(applied.transferIntervalsMs.ordersImport).toBe(2_000);
  expect(applied.tokenTaskQueue).toBe(stack.tokenTaskQueue);
});

it('"run now" for a kind switched off is refused, not accepted into a due time that never comes', async () => {
  const { handle } = await stack.connectSeller(uniqueName('settings-off'));
  const before = await stack.status(handle);
  expect(before.transfers.pricesExport?.intervalMs).toBeNull();
  const refused = await handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'pricesExport' }] }).then(
    () => undefined,
    (err: unknown) => err as { cause?: { message?: string } },
  );
  expect(refused?.cause?.message).toMatch(/pricesExport is switched off/);
  const after = await stack.status(handle);
  expect(after.transfers.pricesExport?.nextDueAt).toBeNull();
  // A kind that is on still runs at once.
  await handle.executeUpdate(runTransferNowUpdate, { args: [{ kind: 'returnsImport' }] });
  await stack.disconnect(handle);
});
