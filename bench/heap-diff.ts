/**
 * What our workflow threads hold per seller beyond the bare workflow's: the difference of two sets of
 * workflow-thread heap snapshots (BENCH_THREAD_HEAP_SNAPSHOT, bench/support/thread-heaps.ts), each per
 * seller, by constructor and by string shape.
 *
 *   npx tsx bench/heap-diff.ts <prefix>-steady:<sellers> <prefix>-floor:<sellers>
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { constructorTotals, type HeapTotals, stringShapes } from './support/report';
import { sumTotals } from './support/thread-heaps';

/** One side of the comparison: a run's thread snapshots and the sellers they held. */
interface Side {
  files: string[];
  sellers: number;
}

function parseSide(arg: string | undefined): Side {
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

/** Ours minus the floor's, per seller, of one way of totalling the snapshots. */
function compare(
  title: string,
  ours: Side,
  floor: Side,
  totalsOf: (file: string) => HeapTotals,
  top: number,
): void {
  const a = sumTotals(ours.files.map(totalsOf));
  const b = sumTotals(floor.files.map(totalsOf));
  const none = { size: 0, count: 0 };
  const rows = [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => {
      const x = a.get(k) ?? none;
      const y = b.get(k) ?? none;
      return {
        k,
        kb: x.size / 1024 / ours.sellers - y.size / 1024 / floor.sellers,
        count: x.count / ours.sellers - y.count / floor.sellers,
      };
    })
    .sort((x, y) => y.kb - x.kb);
  const total = rows.reduce((s, r) => s + r.kb, 0);
  console.log(title);
  console.log(`  total ${total.toFixed(1)} KB per seller more than the floor's`);
  for (const r of rows.slice(0, top))
    console.log(`  ${r.kb.toFixed(2).padStart(8)} ${r.count.toFixed(1).padStart(8)}  ${r.k}`);
}

const ours = parseSide(process.argv[2]);
const floor = parseSide(process.argv[3]);
compare('by constructor (KB, count per seller; ours minus the floor):', ours, floor, constructorTotals, 30);
compare('strings by shape:', ours, floor, stringShapes, 20);
