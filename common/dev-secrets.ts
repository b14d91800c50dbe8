/**
 * Dev convenience: when SEAL_KEYS is not set outside production, one key ring is generated once into
 * .data/seal-keys (mode 0600) and shared by the worker and the API on this machine.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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

/** SEAL_KEYS from the environment, or (outside production) the generated dev ring. */
export function sealKeysFromEnv(env: Record<string, string | undefined>): string {
  if (env.SEAL_KEYS) return env.SEAL_KEYS;
  if (env.NODE_ENV === 'production')
    throw new Error('SEAL_KEYS: required in production (kid:base64(32 bytes)[,…])');
  return devSealKeys(env.DATA_DIR ?? DEFAULT_DATA_DIR);
}
