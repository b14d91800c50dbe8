/**
 * memory: worker memory per cached seller workflow, measured by bench/workflow-memory.ts on its own
 * Temporal dev server with one worker in this process (the reusable V8 context in the main thread, so
 * its heap is readable): heap per workflow between a warm-up and N cached workflows. Runs after our fleet
 * is gone, so nothing else grows this process's heap meanwhile.
 */
import type { BenchContext } from './support/context';
import { goalRow } from './support/goals';
import { log, printTable, writeResult } from './support/report';
import { measureWorkflowMemory } from './workflow-memory';

export async function runMemory(ctx: BenchContext): Promise<void> {
  // Our fleet (if any) stops first: its workers and cache would share the heap being measured.
  await ctx.closeFleet();
  const sellers = ctx.params.memorySellers;
  log(`memory: ${sellers} cached seller workflows on their own server …`);
  const r = await measureWorkflowMemory({ sellers, log: (line) => log(`memory: ${line}`) });
  printTable(
    `memory: ${r.sellers} cached seller workflows`,
    ['metric', 'value'],
    [
      ['heap per cached workflow (KB)', r.heapPerWorkflowKB],
      ['RSS per cached workflow (KB)', r.rssPerWorkflowKB],
      ['workflow bundle (KiB)', r.bundleKB],
      ['bundle packages and files', r.bundleModules.length],
    ],
  );
  const rows = [
    goalRow('memory', 'memoryPerWorkflowKB', r.perWorkflowKB, {
      result: `${r.perWorkflowKB} KB heap (RSS ${r.rssPerWorkflowKB} KB; ${r.sellers} cached)`,
      digits: 1,
    }),
  ];
  ctx.record('memory', rows);
  const result = {
    sellers: r.sellers,
    perWorkflowKB: r.perWorkflowKB,
    heapPerWorkflowKB: r.heapPerWorkflowKB,
    rssPerWorkflowKB: r.rssPerWorkflowKB,
    bundleKB: r.bundleKB,
    bundleModules: r.bundleModules,
    goals: rows,
  };
  ctx.summary.memory = result;
  log(`wrote ${writeResult('memory', { params: ctx.params, ...result })}`);
}
