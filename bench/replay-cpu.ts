/**
 * The workflow code's CPU, without the box's noise: replays recorded seller histories (no server, no
 * network, no timers) with the production bundle and measures this process's CPU per replayed history
 * event, over alternating rounds. With `--frames=N` every round also replays a bundle whose workflow
 * context captures N stack frames instead of WORKFLOW_STACK_FRAMES (workflows/stack-frames.ts), and the
 * two are printed side by side (docs/scaling.md §4, "Stack traces of pending promises").
 *
 *   npm run histories:record -- --out /tmp/histories      # histories of the code as it is now
 *   npm run bench:replay-cpu -- --histories=/tmp/histories [--rounds=10] [--reps=10] [--frames=10]
 *
 * Without `--histories` it replays the latest release's (test/fixtures/histories/<version>/), which run
 * the code paths of that release's patches. Each round replays every history `--reps` times in one replay
 * worker (the worker's start-up is in the figure, spread over reps × events).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import {
  preloadedBundleOptions,
  sellerWorkflowBundleOptions,
  type SellerWorkflowBundleOptions,
} from '../worker/workflow-bundle';
import { WORKFLOW_STACK_FRAMES } from '../workflows/stack-frames';
import { latestReleaseDir, loadHistories } from './support/recorded-histories';
import { cliFlag, log, percentile, printTable, round, writeResult } from './support/report';

async function bundle(options: SellerWorkflowBundleOptions): Promise<string> {
  const { code } = await bundleWorkflowCode({ ...options, logger: new DefaultLogger('ERROR') });
  return code;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dir = cliFlag('histories') ?? latestReleaseDir();
  const rounds = Number(cliFlag('rounds') ?? 10);
  const reps = Number(cliFlag('reps') ?? 10);
  const frames = cliFlag('frames') === undefined ? null : Number(cliFlag('frames'));
  const { histories, events } = loadHistories(dir);
  log(`${histories.length} histories (${events} events) from ${dir}; ${rounds} rounds × ${reps} replays`);

  const variants: { name: string; code: string }[] = [];
  variants.push({
    name: `${WORKFLOW_STACK_FRAMES} frames (production)`,
    code: await bundle(sellerWorkflowBundleOptions()),
  });
  if (frames !== null) {
    // The same workflow behind an entry point that sets another limit (a temporary file beside it).
    const tmp = mkdtempSync(join(__dirname, '..', 'workflows', '.replay-cpu-'));
    try {
      const entry = join(tmp, 'index.ts');
      writeFileSync(
        entry,
        `Error.stackTraceLimit = ${frames};\nexport { sellerConnection } from '../seller-connection';\n`,
      );
      variants.push({ name: `${frames} frames`, code: await bundle(preloadedBundleOptions(entry)) });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  const many = Array.from({ length: reps }, () => histories).flat();
  const perEvent = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    // Alternating order, so a drift of the box's speed weighs on both alike.
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const before = process.cpuUsage();
      const replays = Worker.runReplayHistories(
        {
          workflowBundle: { code: v.code },
          // The status-row sink is the worker's (worker/status-row-sink.ts); replay calls no sink.
          sinks: { statusRows: { publish: { fn: () => undefined } } },
        },
        many,
      );
      for await (const result of replays) if (result.error) throw result.error;
      const used = process.cpuUsage(before);
      perEvent.get(v.name)!.push((used.user + used.system) / 1000 / (reps * events));
    }
    log(`round ${r + 1} of ${rounds}`);
  }

  const rows = variants.map((v) => {
    const xs = perEvent.get(v.name)!;
    return [v.name, round(percentile(xs, 50), 4), round(Math.min(...xs), 4), round(Math.max(...xs), 4)];
  });
  printTable(
    'replay CPU per history event (ms, this process, all threads)',
    ['bundle', 'median', 'min', 'max'],
    rows,
  );
  const file = writeResult('replay-cpu', {
    histories: dir,
    events,
    rounds,
    reps,
    msPerEvent: Object.fromEntries(perEvent),
  });
  log(`wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
