/**
 * Dev convenience, like the seal keys in common/dev-secrets.ts: without STATE_SIGNING_KEY and only with
 * `OTTO_CONNECT_ENV=dev`, one HMAC key is generated once into .data/state-signing-key (mode 0600), so
 * states issued before an API restart still verify after it. loadApiConfig decides when to call this.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../common/dev-secrets';

export function devStateSigningKey(dataDir = DEFAULT_DATA_DIR): string {
  const file = join(dataDir, 'state-signing-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}
