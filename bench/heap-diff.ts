/**
 * What our workflow threads hold per seller beyond the bare workflow's: the difference of two sets of
 * workflow-thread heap snapshots (BENCH_THREAD_HEAP_SNAPSHOT, bench/support/thread-heaps.ts), each per
 * seller, by constructor and by string shape.
 *
 *   npx tsx bench/heap-diff.ts <prefix>-steady:<sellers> <prefix>-floor:<sellers>
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { constructorTotals, stringShapes } from './support/report';
import { sumTotals } from './support/thread-heaps';

type Totals = Map<string, { size: number; count: number }>;

function parseSide(arg: string | undefined): { files: string[]; sellers: number } {
  const m = /^(.+):(\d+)$/.exec(arg ?? '');
  if (!m) {
    console.error(
      'usage: npx tsx bench/heap-diff.ts <snapshot prefix>:<sellers> <snapshot prefix>:<sellers>',
    );
    process.exit(2);
  }
  const prefix = m[1]!;
  const dir = dirname(prefix);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${basename(prefix)}-thread`) && f.endsWith('.heapsnapshot'))
    .map((f) => join(dir, f));
  if (files.length === 0) {
    console.error(`no ${prefix}-thread*.heapsnapshot`);
    process.exit(2);
  }
  return { files, sellers: Number(m[2]) };
}

function diff(ours: Totals, oursSellers: number, floor: Totals, floorSellers: number, top: number): void {
  const keys = new Set([...ours.keys(), ...floor.keys()]);
  const rows = [...keys]
    .map((k) => {
      const a = ours.get(k) ?? { size: 0, count: 0 };
      const b = floor.get(k) ?? { size: 0, count: 0 };
      return {
        k,
        kb: a.size / 1024 / oursSellers - b.size / 1024 / floorSellers,
        count: a.count / oursSellers - b.count / floorSellers,
      };
    })
    .sort((x, y) => y.kb - x.kb);
  const total = rows.reduce((s, r) => s + r.kb, 0);
  console.log(`  total ${total.toFixed(1)} KB per seller more than the floor's`);
  for (const r of rows.slice(0, top))
    console.log(`  ${r.kb.toFixed(2).padStart(8)} ${r.count.toFixed(1).padStart(8)}  ${r.k}`);
}

const ours = parseSide(process.argv[2]);
const floor = parseSide(process.argv[3]);
console.log('by constructor (KB, count per seller; ours minus the floor):');
diff(
  sumTotals(ours.files.map(constructorTotals)),
  ours.sellers,
  sumTotals(floor.files.map(constructorTotals)),
  floor.sellers,
  30,
);
console.log('strings by shape:');
diff(
  sumTotals(ours.files.map(stringShapes)),
  ours.sellers,
  sumTotals(floor.files.map(stringShapes)),
  floor.sellers,
  20,
);
