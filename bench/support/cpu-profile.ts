/**
 * Optional in-process CPU profile of a measuring window: with BENCH_CPU_PROFILE=<dir> set, the steady and
 * floor windows each write `<dir>/<label>-<time>.cpuprofile` (open it in Chrome DevTools, or summarise it
 * with `npx tsx scripts/cpu-profile-summary.ts <file>`). Off by default: the sampler costs a little CPU.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

export interface CpuProfiler {
  stop(): Promise<string | undefined>;
}

export async function startCpuProfile(label: string): Promise<CpuProfiler> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return { stop: () => Promise.resolve(undefined) };
  // Workflows run in a worker thread this profile does not see: with `node --cpu-prof` each thread writes
  // its own profile, and these monotonic microseconds (the profiles' clock) delimit the window in them.
  console.log(`[cpu-profile] ${label} window starts at ${process.hrtime.bigint() / 1000n} us`);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      console.log(`[cpu-profile] ${label} window ends at ${process.hrtime.bigint() / 1000n} us`);
      session.disconnect();
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${label}-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      return file;
    },
  };
}
