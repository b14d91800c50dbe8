/**
 * The status row (issue 15) on the real dev server: the seller workflow hands its status summary to the
 * `statusRows` sink, the worker writes it to the seller store before the workflow task completes, so the
 * row shows a change as soon as the update that made it returns; ticks move it on while the memo waits
 * for its hourly refresh; the final state of an ended run stays, and a new run of the seller replaces
 * it. The API's adapter answers GET …/connection from it without asking Temporal.
 */
import { createTemporalSellerConnections } from '../../api/seller-connections';
import type { ConnectionStatusRow } from '../../store/seller-store';
import { pauseUpdate, resumeUpdate, type ConnectionStatus } from '../../workflows/definitions';
import {
  STATUS_MEMO_KEY,
  STATUS_ROW_MAX_AGE_MS,
  STATUS_ROW_WAKE_SLACK_MS,
  type StatusSummary,
} from '../../workflows/status-summary';
import { TestStack, type SellerHandle } from '../support/stack';
import { eventually, uniqueName } from '../support/temporal';

let stack: TestStack;
beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: 30,
    settings: {
      tokenRefreshMarginMs: 10_000,
      refreshJitterMs: 0,
      // One transfer every second: a tick (and a new row) every second while active.
      transferIntervalsMs: {
        ordersImport: 1_000,
        stockExport: null,
        pricesExport: null,
        returnsImport: null,
        shippingProfilesSync: null,
      },
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

async function row(sellerId: string): Promise<ConnectionStatusRow & { status: StatusSummary }> {
  const found = await stack.store.getConnectionStatus(sellerId);
  if (found === null) throw new Error(`no status row for ${sellerId}`);
  return { ...found, status: JSON.parse(found.summary) as StatusSummary };
}

async function memo(handle: SellerHandle): Promise<StatusSummary> {
  return (await handle.describe()).memo?.[STATUS_MEMO_KEY] as StatusSummary;
}

/** Later in the store's order: the row a newer write left. */
function newer(a: ConnectionStatusRow, b: ConnectionStatusRow): boolean {
  if (a.runStartedAt !== b.runStartedAt) return a.runStartedAt > b.runStartedAt;
  if (a.historyLength !== b.historyLength) return a.historyLength > b.historyLength;
  return a.seq > b.seq;
}

it('the row follows the seller through consent, ticks, pause, resume and disconnect; a new run replaces it', async () => {
  const sellerId = uniqueName('row');
  expect(await stack.store.getConnectionStatus(sellerId)).toBeNull();

  // Consent begun: the update's answer comes after the row was written.
  const { handle: first } = await stack.beginConsent(sellerId);
  const firstRunId = (await first.describe()).runId;
  const consent = await row(sellerId);
  expect(consent).toMatchObject({
    sellerId,
    runId: firstRunId,
    status: { sellerId, state: 'pending_consent' },
  });
  expect(consent.validUntil).toBeGreaterThan(Date.now());
  expect(consent.validUntil).toBeLessThanOrEqual(Date.now() + STATUS_ROW_MAX_AGE_MS);

  // Connected through OTTO's consent pages (the same run).
  const { handle, partner } = await stack.connectSeller(sellerId);
  expect(handle.workflowId).toBe(first.workflowId);
  const active = await eventually(
    () => row(sellerId),
    (r) => r.status.state === 'active',
    10_000,
  );
  expect(active).toMatchObject({ runId: firstRunId, status: { partnerId: partner.partnerId } });
  expect(newer(active, consent)).toBe(true);

  // Ticks every second: the row moves with each (run times), while the memo keeps its first run time
  // (only what it shows changes it at once; the times are refreshed hourly).
  const ticked = await eventually(
    async () => ({ row: await row(sellerId), memo: await memo(handle) }),
    ({ row: r, memo: m }) =>
      r.status.transfers.ordersImport?.running === false &&
      r.status.transfers.ordersImport.lastRunAt != null &&
      m.transfers.ordersImport?.lastRunAt != null &&
      r.status.transfers.ordersImport.lastRunAt > m.transfers.ordersImport.lastRunAt,
    20_000,
  );
  // Between ticks, the next due within a second: trusted until shortly after it (while a tick runs, the
  // workflow has no timer and the row holds the maximum age).
  expect(ticked.row.validUntil).toBeLessThanOrEqual(Date.now() + STATUS_ROW_WAKE_SLACK_MS + 5_000);

  // Pause and resume: each shows in the row as soon as the update returns.
  await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'status row test' }] });
  const paused = await row(sellerId);
  expect(paused.status.state).toBe('paused');
  expect(newer(paused, ticked.row)).toBe(true);
  await handle.executeUpdate(resumeUpdate);
  expect((await row(sellerId)).status.state).toBe('active');

  // The ticks' token is kept in the vault (the seller store) until the connection ends.
  const installationId = active.status.installationId!;
  expect(await stack.store.getInstallationToken(sellerId, installationId)).not.toBeNull();

  // Disconnected: the final state, there as soon as the update returns and after the run ended.
  await stack.disconnect(handle);
  expect((await row(sellerId)).status.state).toBe('disconnected');
  const final: ConnectionStatus = await handle.result();
  const ended = await row(sellerId);
  expect(ended).toMatchObject({ runId: firstRunId, status: { state: 'disconnected' } });
  expect(final.state).toBe('disconnected');
  // Nothing may use the installation any more: its token left the vault with the final row.
  expect(await stack.store.getInstallationToken(sellerId, installationId)).toBeNull();
  // With no timer left the row holds the maximum age (the API asks Temporal after that).
  expect(ended.validUntil).toBeGreaterThan(Date.now() + STATUS_ROW_MAX_AGE_MS / 2);

  // The seller connects again: a new run, whose row replaces the ended run's.
  const { handle: again } = await stack.beginConsent(sellerId);
  const secondRunId = (await again.describe()).runId;
  expect(secondRunId).not.toBe(firstRunId);
  const second = await row(sellerId);
  expect(second).toMatchObject({ runId: secondRunId, status: { state: 'pending_consent' } });
  expect(second.runStartedAt).toBeGreaterThan(ended.runStartedAt);
  await stack.disconnect(again);
  await again.result();
}, 120_000);

it('GET …/connection reads the row: no Temporal call, what the memo says', async () => {
  const { sellerId, handle } = await stack.connectSeller();
  await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'compare' }] });
  const options = {
    client: stack.env.client,
    taskQueue: stack.taskQueue,
    uiUrl: 'http://localhost:8233',
    callTimeoutMs: 5_000,
  };
  const fromRow = createTemporalSellerConnections({ ...options, statusRows: stack.store });
  const fromMemo = createTemporalSellerConnections(options);

  const getHandle = jest.spyOn(stack.env.client.workflow, 'getHandle');
  try {
    const viaRow = await fromRow.status(sellerId);
    expect(getHandle).not.toHaveBeenCalled();
    const viaMemo = await fromMemo.status(sellerId);
    expect(getHandle).toHaveBeenCalledTimes(1);
    // The run times may differ: a tick that ends after the pause moves the row, the memo waits (hourly).
    const stable = ({ token: _token, transfers: _transfers, ...rest }: typeof viaRow) => rest;
    expect(stable(viaRow)).toEqual(stable(viaMemo));
    expect(viaRow).toMatchObject({ sellerId, state: 'paused' });
  } finally {
    getHandle.mockRestore();
  }
  await stack.disconnect(handle);
}, 60_000);

it('an ended connection leaves no token in the vault, and its run ends only after its cancelled tick', async () => {
  // The seller's first tick mints (keeping the token in the vault), then OTTO holds its orders request for
  // 3 s. The fault is this seller's partner's only: a tick of an earlier test's seller, cancelled by its
  // disconnect with its request already on the way, took a fault open to all (seen under load: the
  // check below then ran before this seller's first tick had minted).
  const sellerId = uniqueName('row-vault');
  const partner = await stack.createPartner();
  const held = await stack.admin<{ id: string }>('POST', '/faults', {
    pathPattern: '^/v4/orders',
    latencyMs: 3_000,
    times: 1,
    partnerId: partner.partnerId,
  });
  const { handle, nonce, authorizeUrl } = await stack.beginConsent(sellerId);
  await stack.installApp('v1', partner);
  await stack.deliverCallback(handle, nonce, await stack.consentAtOtto(authorizeUrl, partner));
  const status = await stack.waitForState(handle, 'active');
  const installationId = status.installationId!;
  // A fault that fired its last time leaves the list: the tick is in its orders request now.
  await eventually(
    () => stack.admin<{ id: string }[]>('GET', '/faults'),
    (faults) => !faults.some((f) => f.id === held.id),
    20_000,
  );
  expect(await stack.store.getInstallationToken(sellerId, installationId)).not.toBeNull();
  await stack.disconnect(handle);
  const final: ConnectionStatus = await handle.result();
  expect(final.state).toBe('disconnected');
  expect(await stack.store.getInstallationToken(sellerId, installationId)).toBeNull();
  // The tick, cancelled by the disconnect, settled before the run completed (decide.ts waits while busy):
  // so a token it kept late is deleted by the ended row its end writes.
  const events = (await handle.fetchHistory()).events ?? [];
  const ticks = events.filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTick',
  );
  const settled = new Set(
    events.flatMap((e) => {
      const closed =
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskCanceledEventAttributes ??
        e.activityTaskTimedOutEventAttributes;
      return closed?.scheduledEventId == null ? [] : [String(closed.scheduledEventId)];
    }),
  );
  expect(ticks.length).toBeGreaterThan(0);
  expect(ticks.filter((t) => !settled.has(String(t.eventId)))).toEqual([]);
  expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
}, 60_000);
