/**
 * Recorded seller histories for the replay benchmarks (replay-cpu, promise-census): a directory of the
 * JSON files `npm run histories:record` writes, by default the latest release's under
 * test/fixtures/histories/<version>/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';

/** test/fixtures/histories/<the highest version>. */
export function latestReleaseDir(): string {
  const root = join(__dirname, '..', '..', 'test', 'fixtures', 'histories');
  const versions = readdirSync(root)
    .filter((d) => /^\d/.test(d))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return join(root, versions[versions.length - 1]!);
}

/** Every `*.json` history in `dir` (named by its file), and their events in all. */
export function loadHistories(dir: string) {
  const histories = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8'))),
    }));
  if (histories.length === 0) throw new Error(`no *.json histories in ${dir}`);
  const events = histories.reduce((sum, h) => sum + (h.history.events?.length ?? 0), 0);
  return { histories, events };
}
