/**
 * The list's running part on a scripted visibility (deterministic): for a moment after a continue-as-new,
 * Temporal's visibility may show a seller's old run as still running next to its new run (seen on the
 * dev server; once it made a CI run list a seller twice). A list page shows each seller once, at its new
 * run, whether the two rows come on one of Temporal's pages or on two.
 */
import type { Client } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { msNumberToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { createTemporalSellerConnections, type ConnectionSummary } from '../../api/seller-connections';
import { sellerWorkflowId } from '../../workflows/definitions';

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
type Raw = temporal.api.workflow.v1.IWorkflowExecutionInfo;

function raw(sellerId: string, runId: string, startSeconds: number): Raw {
  return {
    execution: { workflowId: sellerWorkflowId(sellerId), runId },
    type: { name: 'sellerConnection' },
    taskQueue: 'q',
    status: RUNNING,
    historyLength: msNumberToTs(10_000).seconds, // a Long of 10
    startTime: msNumberToTs(startSeconds * 1000),
  };
}

/** Visibility as it may look for that moment: newest start first, as Temporal orders running runs. */
const rows = [raw('a', 'a-new', 500), raw('b', 'b-only', 300), raw('a', 'a-old', 100)];

function scriptedClient(perPage: number, pageRows = rows, knownRows = rows): Client {
  const converter = loadDataConverter();
  const info = (r: Raw) => executionInfoFromRaw(r as never, converter, r, 'default');
  return {
    options: { namespace: 'default', loadedDataConverter: converter },
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflowService: {
      // The list's pages: `pageSize` rows from the offset the page token holds, at most `perPage` (Temporal
      // may answer with fewer rows than asked for; the list then reads on).
      // No seller has ended: the ended part is empty.
      listWorkflowExecutions: async (req: {
        query: string;
        pageSize: number;
        nextPageToken?: Uint8Array | null;
      }) => {
        const listed = req.query.includes(`ExecutionStatus = 'Running'`) ? pageRows : [];
        const offset = req.nextPageToken?.length ? req.nextPageToken[0]! : 0;
        const end = offset + Math.min(req.pageSize, perPage);
        return await Promise.resolve({
          executions: listed.slice(offset, end),
          nextPageToken: end < listed.length ? Uint8Array.of(end) : new Uint8Array(),
        });
      },
    },
    workflow: {
      // The check of a page's sellers (`WorkflowId IN (…)`): every run of those workflows it names.
      list: ({ query }: { query: string }) =>
        (async function* () {
          for (const r of knownRows) if (query.includes(`'${r.execution!.workflowId!}'`)) yield await info(r);
        })(),
    },
  } as unknown as Client;
}

const connections = (perPage: number, pageRows = rows, knownRows = rows) =>
  createTemporalSellerConnections({
    client: scriptedClient(perPage, pageRows, knownRows),
    taskQueue: 'q',
    uiUrl: 'http://localhost:8233',
    callTimeoutMs: 5_000,
    cursorKey: 'k'.repeat(32),
  });

async function page(perPage: number, state?: 'active'): Promise<ConnectionSummary[]> {
  const { items, nextCursor } = await connections(perPage).list({
    pageSize: 10,
    ...(state ? { state } : {}),
  });
  expect(nextCursor).toBeNull();
  return items;
}

const runIds = (list: ConnectionSummary[]) => list.map((c) => c.temporal.runId).sort();

it('both rows on one of Temporal’s pages: the seller once, at its new run', async () => {
  expect(runIds(await page(10))).toEqual(['a-new', 'b-only']);
  expect(runIds(await page(10, 'active'))).toEqual(['a-new', 'b-only']);
});

it('the rows on two of Temporal’s pages within one list page: the seller once, at its new run', async () => {
  // Pages of two and one: [a-new, b-only], [a-old]; and of one: [a-new], [b-only], [a-old].
  expect(runIds(await page(2))).toEqual(['a-new', 'b-only']);
  expect(runIds(await page(1, 'active'))).toEqual(['a-new', 'b-only']);
});

it('a seller whose run continues as new while the page is read is still listed (at the run the page holds)', async () => {
  // The page saw only the old run; any later look at visibility would see only the new one (the old
  // one closed as continued-as-new). Checking the page against such a look would drop the seller.
  const port = connections(10, [raw('a', 'a-old', 100), raw('b', 'b-only', 300)], [raw('a', 'a-new', 500)]);
  const { items } = await port.list({ pageSize: 10, state: 'active' });
  expect(runIds(items)).toEqual(['a-old', 'b-only']);
});
