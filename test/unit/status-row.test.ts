/**
 * The status row's pieces without a server (issue 15): until when a row is trusted and when an unchanged
 * summary is written again (workflows/status-summary.ts), and the worker's sink (worker/status-row-sink.ts):
 * the row it writes from the run's info, its results for the metric, failures logged without the
 * summary, and a slow store not waited for beyond the bound.
 */
import type { WorkflowInfo } from '@temporalio/workflow';
import type { Logger } from '@temporalio/common';
import type { ConnectionStatusRow } from '../../store/seller-store';
import { statusRowSinks, type StatusRowWriteResult } from '../../worker/status-row-sink';
import {
  STATUS_ROW_MAX_AGE_MS,
  STATUS_ROW_WAKE_SLACK_MS,
  statusRowNeedsRenewal,
  statusRowValidUntil,
} from '../../workflows/status-summary';

const NOW = Date.parse('2026-12-01T10:00:00Z');

describe('validUntil', () => {
  it('is the next wake-up plus the slack, never more than the maximum age ahead', () => {
    expect(statusRowValidUntil(NOW, null)).toBe(NOW + STATUS_ROW_MAX_AGE_MS);
    expect(statusRowValidUntil(NOW, NOW + 5_000)).toBe(NOW + 5_000 + STATUS_ROW_WAKE_SLACK_MS);
    expect(statusRowValidUntil(NOW, NOW + 2 * STATUS_ROW_MAX_AGE_MS)).toBe(NOW + STATUS_ROW_MAX_AGE_MS);
    // A deadline already past (the loop acts on it next): still the slack from now.
    expect(statusRowValidUntil(NOW, NOW - 10_000)).toBe(NOW + STATUS_ROW_WAKE_SLACK_MS);
  });

  it('an unchanged summary is written again only to move a validUntil that has less than half left', () => {
    const half = STATUS_ROW_MAX_AGE_MS / 2;
    // Plenty left: not again, however far the new one would reach.
    expect(statusRowNeedsRenewal(NOW, NOW + half + 1, NOW + STATUS_ROW_MAX_AGE_MS)).toBe(false);
    // Less than half left, and the new one is later: again.
    expect(statusRowNeedsRenewal(NOW, NOW + half - 1, NOW + STATUS_ROW_MAX_AGE_MS)).toBe(true);
    // The woken-up timer case: the old row ran to its wake-up, the next one is later.
    expect(statusRowNeedsRenewal(NOW, NOW + 60_000, NOW + 1_000 + STATUS_ROW_WAKE_SLACK_MS)).toBe(true);
    // Never to shorten it.
    expect(statusRowNeedsRenewal(NOW, NOW + 60_000, NOW + 30_000)).toBe(false);
  });
});

describe('the worker’s status row sink', () => {
  const info = {
    workflowId: 'otto-seller:s1',
    runId: 'run-1',
    runStartTime: new Date(NOW - 60_000),
    historyLength: 42,
  } as unknown as WorkflowInfo;
  const update = { sellerId: 's1', summary: '{"sellerId":"s1"}', validUntil: NOW + 60_000, seq: 7 };

  function setup(
    put: (row: Omit<ConnectionStatusRow, 'updatedAt'>) => Promise<boolean>,
    timeoutMs = 200,
    deleteTokens: (sellerId: string) => Promise<number> = () => Promise.reject(new Error('not expected')),
  ) {
    const results: StatusRowWriteResult[] = [];
    const warnings: Array<{ message: string; meta: unknown }> = [];
    const logger = {
      warn: (message: string, meta?: unknown) => warnings.push({ message, meta }),
    } as unknown as Logger;
    const sinks = statusRowSinks({
      store: { putConnectionStatus: put, deleteInstallationTokens: deleteTokens },
      logger: () => logger,
      onResult: (r) => results.push(r),
      timeoutMs,
    });
    expect(sinks.statusRows.publish.callDuringReplay).toBe(false);
    const publish = (ended = false) =>
      sinks.statusRows.publish.fn(info, ended ? { ...update, ended: true } : update);
    return { publish, results, warnings };
  }

  it('writes the run’s row and counts ok or stale', async () => {
    const written: Array<Omit<ConnectionStatusRow, 'updatedAt'>> = [];
    let fresh = true;
    const { publish, results, warnings } = setup((row) => {
      written.push(row);
      return Promise.resolve(fresh);
    });
    await publish();
    fresh = false;
    await publish();
    expect(written[0]).toEqual({
      sellerId: 's1',
      runId: 'run-1',
      runStartedAt: NOW - 60_000,
      historyLength: 42,
      seq: 7,
      summary: '{"sellerId":"s1"}',
      validUntil: NOW + 60_000,
    });
    expect(results).toEqual(['ok', 'stale']);
    expect(warnings).toEqual([]);
  });

  it('a failing store is logged with ids and the error, never the summary, and never throws', async () => {
    const { publish, results, warnings } = setup(() =>
      Promise.reject(new Error('SQLITE_BUSY: database is locked')),
    );
    await expect(publish()).resolves.toBeUndefined();
    expect(results).toEqual(['failed']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.meta).toEqual({
      sellerId: 's1',
      workflowId: 'otto-seller:s1',
      runId: 'run-1',
      error: 'SQLITE_BUSY: database is locked',
    });
    expect(JSON.stringify(warnings)).not.toContain(update.summary);
  });

  it('an ended connection’s row also deletes the seller’s tokens; a failure there is logged, the row still counts', async () => {
    const deleted: string[] = [];
    let refuse = false;
    const { publish, results, warnings } = setup(
      () => Promise.resolve(true),
      200,
      (sellerId) => {
        deleted.push(sellerId);
        return refuse ? Promise.reject(new Error('connection terminated')) : Promise.resolve(1);
      },
    );
    await publish();
    expect(deleted).toEqual([]);
    await publish(true);
    expect(deleted).toEqual(['s1']);
    refuse = true;
    await expect(publish(true)).resolves.toBeUndefined();
    expect(results).toEqual(['ok', 'ok', 'ok']);
    expect(warnings).toEqual([
      {
        message: expect.stringContaining('tokens were not deleted'),
        meta: {
          sellerId: 's1',
          workflowId: 'otto-seller:s1',
          runId: 'run-1',
          error: 'connection terminated',
        },
      },
    ]);
  });

  it('a slow store is not waited for beyond the bound', async () => {
    let finish: (written: boolean) => void = () => undefined;
    const { publish, results, warnings } = setup(
      () => new Promise<boolean>((resolve) => (finish = resolve)),
      50,
    );
    const started = Date.now();
    await publish();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(results).toEqual(['timeout']);
    expect(warnings.map((w) => w.message)).toEqual([expect.stringContaining('still pending')]);
    finish(true);
  });
});
