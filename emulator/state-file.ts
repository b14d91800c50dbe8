import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { emptyPersistentState, type PersistentState } from './state';

const FORMAT = 'otto-emulator-state/1';

/** Reads a state file; undefined when it does not exist yet. A corrupt file is an error, not a silent reset. */
export function loadStateFile(file: string): PersistentState | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`emulator: state file ${file} is not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  const doc = parsed as { format?: unknown; state?: Partial<PersistentState> };
  if (doc.format !== FORMAT || typeof doc.state !== 'object' || doc.state === null) {
    throw new Error(`emulator: state file ${file} is not an ${FORMAT} document; delete it to start fresh`);
  }
  // Fields added in later versions fall back to their empty value.
  return { ...emptyPersistentState(), ...doc.state };
}

/** Write to a temp file and rename, so a crash mid-write never leaves half a JSON document behind. */
export function saveStateFile(file: string, state: PersistentState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ format: FORMAT, savedAt: new Date().toISOString(), state }, null, 2));
  renameSync(tmp, file);
}
