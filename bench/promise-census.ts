/**
 * Which workflow code creates the promises: the SDK captures and source-maps a stack trace for every
 * promise a workflow creates (its promise hook, docs/scaling.md §4 "Stack traces of pending promises"), so
 * each promise costs the workflow threads CPU, and a pending one memory. This replays recorded seller
 * histories (replay workers run the workflows in this thread) with a promise hook of its own that counts
 * the workflow context's promises by the code that created them: the first frame of ours, source-mapped
 * through the bundle the way the SDK maps them.
 *
 *   npm run histories:record -- --out /tmp/histories      # histories of the code as it is now
 *   npm run bench:promise-census -- --histories=/tmp/histories [--top=25]
 *
 * Without `--histories` it replays the latest release's (test/fixtures/histories/<version>/).
 */
import { promiseHooks } from 'node:v8';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { sellerWorkflowBundleOptions } from '../worker/workflow-bundle';
import { latestReleaseDir, loadHistories } from './support/recorded-histories';
import { cliFlag, log, printTable, round, writeResult } from './support/report';

/** Frames of the SDK's own workflow library: skipped to find the code of ours that made the promise. */
const SDK_FRAME = /node_modules\/@temporalio\/|webpack\/|<anonymous>|node:internal/;

/** The first frame of ours in a source-mapped stack (`    at name (source:line:col)`), else the first. */
function originOf(stack: string): string {
  const frames = stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/^at /, ''));
  const ours = frames.find((f) => !SDK_FRAME.test(f));
  return (ours ?? frames[0] ?? '(no frame)').replace(/\(?[^ (]*\/(workflows\/[^)]*)\)?/, '($1)');
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = cliFlag('histories') ?? latestReleaseDir();
  const top = Number(cliFlag('top') ?? 25);
  const { histories, events } = loadHistories(dir);
  const { code } = await bundleWorkflowCode({
    ...sellerWorkflowBundleOptions(),
    logger: new DefaultLogger('ERROR'),
  });

  const byOrigin = new Map<string, number>();
  let total = 0;
  let counting = false;
  const holder: { stack?: string } = {};
  // The workflow context has a Promise of its own: only its promises are counted. The stack is this
  // realm's Error, which the SDK's prepareStackTrace (installed for the replay's bundle) source-maps.
  function onPromise(promise: Promise<unknown>): void {
    if (!counting || promise.constructor === Promise) return;
    counting = false; // The capture below must not count itself.
    try {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 20;
      Error.captureStackTrace(holder, onPromise);
      Error.stackTraceLimit = limit;
      const origin = originOf(holder.stack ?? '');
      byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + 1);
      total++;
    } finally {
      counting = true;
    }
  }
  const stop = promiseHooks.onInit(onPromise);
  try {
    counting = true;
    const replays = Worker.runReplayHistories(
      { workflowBundle: { code }, sinks: { statusRows: { publish: { fn: () => undefined } } } },
      histories,
    );
    for await (const result of replays) if (result.error) throw result.error;
  } finally {
    counting = false;
    stop();
  }

  const rows = [...byOrigin.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([origin, n]) => [origin, n, round(n / events, 3)]);
  log(`${histories.length} histories, ${events} events from ${dir}: ${total} workflow promises`);
  printTable(
    `workflow promises by origin (top ${top}; ${round(total / events, 2)} per history event)`,
    ['created at', 'promises', 'per event'],
    rows,
  );
  const file = writeResult('promise-census', {
    histories: dir,
    events,
    promises: total,
    promisesPerEvent: total / events,
    byOrigin: Object.fromEntries(byOrigin),
  });
  log(`wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
