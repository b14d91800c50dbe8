import { allocatorInUse, findJemalloc, JEMALLOC_PATHS, withJemalloc } from '../../worker/allocator';

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
});
