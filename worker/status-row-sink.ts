/**
 * The worker's end of the seller workflow's `statusRows` sink (workflows/status-summary.ts): each summary
 * a workflow hands over is written to its seller's `connection_status` row with the run it came from, so
 * the API answers `GET /api/sellers/:id/connection` from the store (api/seller-connections.ts).
 *
 * The SDK awaits sink functions after an activation and before its completion goes to the server, and
 * with `callDuringReplay: false` calls them only for activations that are not replaying history: every
 * change reaches the store at least once, before the update that caused it is answered. The store keeps
 * the newest by (run start, history length, update number), so a repeated or late write changes nothing.
 * A write is awaited at most `timeoutMs`: a slow store must not hold up workflow tasks (the write goes on
 * in the background). A failed one is logged and counted; the row then ages out (its validUntil) or the
 * next change replaces it, and until then the API may show the previous summary.
 *
 * A summary of an ended connection (`ended`) also deletes the seller's installation tokens from the
 * vault: nothing may use them any more, and a sealed token of a disconnected seller stays valid at OTTO
 * for up to 30 minutes. Best effort like the row: a failure is logged, and the vault's own pruning of
 * expired tokens deletes them an hour after they expire. A token a cancelled tick keeps after this goes
 * too: an ended run finishes only once its running tick settled (workflows/decide.ts), and that tick's end
 * writes the ended row again.
 */
import type { Logger } from '@temporalio/common';
import type { InjectedSinks } from '@temporalio/worker';
import type { ConnectionStatusRow, SellerStore } from '../store/seller-store';
import type { StatusSinks } from '../workflows/status-summary';

/** ok: written; stale: the store holds a newer row; failed: the store refused; timeout: still pending. */
export type StatusRowWriteResult = 'ok' | 'stale' | 'failed' | 'timeout';

export const STATUS_ROW_WRITE_RESULTS: readonly StatusRowWriteResult[] = ['ok', 'stale', 'failed', 'timeout'];

/** How long a workflow task waits for its status row write. */
export const STATUS_ROW_WRITE_TIMEOUT_MS = 2_000;

export interface StatusRowSinkOptions {
  store: Pick<SellerStore, 'putConnectionStatus' | 'deleteInstallationTokens'>;
  /** Where failures go (the SDK runtime's logger: the worker's pino logger in production). */
  logger: () => Logger;
  /** Told each write's result (the `otto_connect_status_row_writes_total` counter). */
  onResult?: (result: StatusRowWriteResult) => void;
  timeoutMs?: number;
}

export function statusRowSinks(options: StatusRowSinkOptions): InjectedSinks<StatusSinks> {
  const timeoutMs = options.timeoutMs ?? STATUS_ROW_WRITE_TIMEOUT_MS;
  return {
    statusRows: {
      publish: {
        callDuringReplay: false,
        fn: async (info, update) => {
          const row: Omit<ConnectionStatusRow, 'updatedAt'> = {
            sellerId: update.sellerId,
            runId: info.runId,
            runStartedAt: info.runStartTime.getTime(),
            historyLength: info.historyLength,
            seq: update.seq,
            summary: update.summary,
            validUntil: update.validUntil,
          };
          // Ids and the error's message only: the summary is the seller's business, not the log's.
          const where = { sellerId: row.sellerId, workflowId: info.workflowId, runId: info.runId };
          const write = options.store.putConnectionStatus(row).then(
            (written): StatusRowWriteResult => (written ? 'ok' : 'stale'),
            (err: unknown): StatusRowWriteResult => {
              options.logger().warn('status row not written; the API asks Temporal once the row is due', {
                ...where,
                error: err instanceof Error ? err.message : String(err),
              });
              return 'failed';
            },
          );
          const forget =
            update.ended === true
              ? options.store.deleteInstallationTokens(row.sellerId).then(
                  () => undefined,
                  (err: unknown) => {
                    options
                      .logger()
                      .warn('the ended seller’s tokens were not deleted; they expire in the vault', {
                        ...where,
                        error: err instanceof Error ? err.message : String(err),
                      });
                  },
                )
              : undefined;
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<StatusRowWriteResult>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), timeoutMs);
          });
          const result = await Promise.race([
            forget === undefined ? write : Promise.all([write, forget]).then(([r]) => r),
            timeout,
          ]);
          clearTimeout(timer);
          if (result === 'timeout')
            options.logger().warn(`status row write still pending after ${timeoutMs} ms; not waiting`, where);
          options.onResult?.(result);
        },
      },
    },
  };
}

/**
 * The sink for workers that keep no status rows (tests of the workflow alone, replays, the memory
 * benchmark): registered, so the SDK does not log every call as unregistered, and doing nothing.
 */
export function noStatusRowSinks(): InjectedSinks<StatusSinks> {
  return { statusRows: { publish: { callDuringReplay: false, fn: () => undefined } } };
}
