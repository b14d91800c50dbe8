/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof` or BENCH_CPU_PROFILE, bench/support/cpu-profile.ts):
 * self time by function and by file, optionally only the samples between two monotonic microsecond
 * marks (the `[cpu-profile] … window starts/ends at … us` lines the bench prints).
 *
 *   npx tsx scripts/cpu-profile-summary.ts <file.cpuprofile> [fromUs toUs] [--top=N]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const top = Number(/--top=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 40);
const [file, fromArg, toArg] = args;
if (!file) throw new Error('usage: cpu-profile-summary <file.cpuprofile> [fromUs toUs] [--top=N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const from = fromArg === undefined ? -Infinity : Number(fromArg);
const to = toArg === undefined ? Infinity : Number(toArg);

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
let t = profile.startTime;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  if (t < from || t > to) continue;
  // A sample's weight: the time to the next sample (the last one: the previous delta).
  const w = (profile.timeDeltas[i + 1] ?? dt) / 1000;
  const id = profile.samples[i]!;
  self.set(id, (self.get(id) ?? 0) + w);
  total += w;
}

const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'nm:')
    .replace(/^\/work\/[^/]+\//, '');
const fnKey = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'}  ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileKey = (n: ProfileNode) => {
  const u = short(n.callFrame.url);
  if (u === '') return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  const m = /^nm:((?:@[^/]+\/)?[^/]+)/.exec(u);
  return m ? `nm:${m[1]}` : u;
};
/** The nearest frame of our own code (not node_modules, not node:) above a sample: who caused it. */
const ownerKey = (id: number) => {
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const u = short(byId.get(cur)!.callFrame.url);
    if (u !== '' && !u.startsWith('nm:') && !u.startsWith('node:')) return fnKey(byId.get(cur)!);
  }
  return '(no own frame)';
};

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const fns = new Map<string, number>();
const files = new Map<string, number>();
const owners = new Map<string, number>();
for (const [id, ms] of self) {
  const n = byId.get(id)!;
  add(fns, fnKey(n), ms);
  add(files, fileKey(n), ms);
  add(owners, ownerKey(id), ms);
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n== ${title} (total ${total.toFixed(0)} ms) ==`);
  for (const [k, ms] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${ms.toFixed(1).padStart(9)} ms ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
};
print('self time by file/module', files);
print('self time by function', fns);
print('self time by nearest own frame (inclusive of library code it called)', owners);
