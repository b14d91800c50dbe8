/**
 * Temporary directories for one test file: `tempDirs('api-config-')` returns a maker; every directory it
 * made is removed after the file's tests (they would otherwise pile up in /tmp run after run). Call it at
 * the top level of the test file (it registers an afterAll).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
