/**
 * Dev convenience: when SEAL_KEYS is not set and the process is explicitly in dev (`OTTO_CONNECT_ENV=dev`),
 * one key ring is generated once into .data/seal-keys (mode 0600) and shared by the worker and the API on
 * this machine. Without the dev flag nothing is generated: the config schema then names SEAL_KEYS.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isDevEnv } from './config';
import { generateSealKey } from './seal';

export const DEFAULT_DATA_DIR = resolve(__dirname, '..', '.data');

export function devSealKeys(dataDir = DEFAULT_DATA_DIR): string {
  const file = join(dataDir, 'seal-keys');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const keys = generateSealKey('dev1');
  writeFileSync(file, `${keys}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return keys;
}

/** SEAL_KEYS from the environment, or (only with OTTO_CONNECT_ENV=dev) the generated dev ring. */
export function sealKeysFromEnv(env: Record<string, string | undefined>): string | undefined {
  if (env.SEAL_KEYS !== undefined || !isDevEnv(env)) return env.SEAL_KEYS;
  return devSealKeys(env.DATA_DIR ?? DEFAULT_DATA_DIR);
}
