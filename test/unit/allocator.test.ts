import {
  allocatorInUse,
  DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB,
  findJemalloc,
  JEMALLOC_PATHS,
  limitBufferPool,
  mainThreadSemiSpaceMb,
  WORKER_MAIN_THREAD_NODE_OPTION,
  withJemalloc,
  withWorkerNodeOptions,
} from '../../worker/allocator';
import { allocatorRefusal } from '../../bench/support/allocator';

const only = (path: string) => (p: string) => p === path;
const none = () => false;

describe('the worker allocator', () => {
  it('finds the first Debian jemalloc that exists', () => {
    expect(findJemalloc({}, only(JEMALLOC_PATHS[1]!))).toBe(JEMALLOC_PATHS[1]);
    expect(findJemalloc({}, none)).toBeUndefined();
  });

  it('takes JEMALLOC_PATH over the search, and an empty one as "the system malloc"', () => {
    expect(findJemalloc({ JEMALLOC_PATH: '/opt/je.so' }, none)).toBe('/opt/je.so');
    expect(findJemalloc({ JEMALLOC_PATH: '' }, only(JEMALLOC_PATHS[0]!))).toBeUndefined();
  });

  it('adds jemalloc to LD_PRELOAD once, keeping what was preloaded', () => {
    const lib = JEMALLOC_PATHS[0]!;
    expect(withJemalloc({ PATH: '/bin' }, only(lib))).toEqual({ PATH: '/bin', LD_PRELOAD: lib });
    expect(withJemalloc({ LD_PRELOAD: '/x/other.so' }, only(lib)).LD_PRELOAD).toBe(`${lib}:/x/other.so`);
    const already = { LD_PRELOAD: `/x/other.so ${lib}` };
    expect(withJemalloc(already, only(lib))).toBe(already);
  });

  it('leaves the environment alone without a jemalloc', () => {
    const env = { PATH: '/bin' };
    expect(withJemalloc(env, none)).toBe(env);
    expect(
      withJemalloc({ JEMALLOC_PATH: '', PATH: '/bin' }, only(JEMALLOC_PATHS[0]!)).LD_PRELOAD,
    ).toBeUndefined();
  });

  it('lets a benchmark measure the system malloc only when asked to, naming the way out otherwise', () => {
    expect(allocatorRefusal({}, 'jemalloc')).toBeNull();
    expect(allocatorRefusal({ JEMALLOC_PATH: '' }, 'system')).toBeNull();
    expect(allocatorRefusal({}, 'system')).toMatch(/apt-get install libjemalloc2.*JEMALLOC_PATH= \(empty\)/);
    expect(allocatorRefusal({ JEMALLOC_PATH: '/opt/je.so' }, 'system')).toMatch(
      /JEMALLOC_PATH=\/opt\/je\.so did not load/,
    );
  });

  it('tells from the mapped libraries which allocator runs', () => {
    const mapped = (lib: string) => () => `7f00-7f01 r-xp 00000000 08:01 42 ${lib}\n`;
    expect(allocatorInUse(mapped('/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'))).toBe('jemalloc');
    expect(allocatorInUse(mapped('/usr/lib/x86_64-linux-gnu/libc.so.6'))).toBe('system');
    expect(
      allocatorInUse(() => {
        throw new Error('ENOENT');
      }),
    ).toBe('unknown');
  });

  it("reads the main thread's semi-space cap from NODE_OPTIONS and the command line, the command line last", () => {
    expect(mainThreadSemiSpaceMb([], '')).toBeNull();
    expect(mainThreadSemiSpaceMb(['--import', 'tsx'], '--max-old-space-size=4096')).toBeNull();
    expect(mainThreadSemiSpaceMb([], '--max-semi-space-size=16')).toBe(16);
    expect(mainThreadSemiSpaceMb(['--max_semi_space_size=8'], '--max-semi-space-size=16')).toBe(8);
    expect(mainThreadSemiSpaceMb([WORKER_MAIN_THREAD_NODE_OPTION], '')).toBe(
      DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB,
    );
  });

  it('gives a worker child the cap in NODE_OPTIONS once, keeping its other options', () => {
    expect(withWorkerNodeOptions({ PATH: '/bin' })).toEqual({
      PATH: '/bin',
      NODE_OPTIONS: WORKER_MAIN_THREAD_NODE_OPTION,
    });
    expect(withWorkerNodeOptions({ NODE_OPTIONS: '--enable-source-maps' }).NODE_OPTIONS).toBe(
      `${WORKER_MAIN_THREAD_NODE_OPTION} --enable-source-maps`,
    );
    const own = { NODE_OPTIONS: '--max-semi-space-size=32' };
    expect(withWorkerNodeOptions(own)).toBe(own);
  });

  it('cuts small Buffers to their own size once the pool is off, so a kept one pins no 64 KB slab', () => {
    const before = Buffer.poolSize;
    try {
      // Node 24's pool: a 300-byte Buffer is a view into a shared slab, which lives as long as it does.
      Buffer.poolSize = 64 * 1024;
      expect(Buffer.allocUnsafe(300).buffer.byteLength).toBe(64 * 1024);
      limitBufferPool();
      expect(Buffer.allocUnsafe(300).buffer.byteLength).toBe(300);
    } finally {
      Buffer.poolSize = before;
    }
  });
});
