/**
 * Sealing secrets (authorization codes, PKCE verifiers, tokens) so they can travel through workflow
 * history without being readable there: AES-256-GCM, the key id inside the sealed string, a key ring so
 * keys can rotate (the first key seals, every key unseals). Format: `v1.<kid>.<iv>.<ciphertext+tag>`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SealKey {
  kid: string;
  key: Buffer;
}

export class SealError extends Error {
  override name = 'SealError';
}

/** Parses `kid:base64(32 bytes)[,kid:…]`; the first key seals. Error messages never echo key material. */
export function parseSealKeys(text: string): SealKey[] {
  const keys = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, index) => {
      const colon = part.indexOf(':');
      if (colon <= 0) throw new SealError(`SEAL_KEYS entry ${index + 1} must look like kid:base64key`);
      const kid = part.slice(0, colon);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid))
        throw new SealError(`SEAL_KEYS entry ${index + 1}: key id must be 1–32 of [A-Za-z0-9_-]`);
      const key = Buffer.from(part.slice(colon + 1), 'base64');
      if (key.length !== 32)
        throw new SealError(`SEAL_KEYS key "${kid}" must be 32 bytes (base64), got ${key.length}`);
      return { kid, key };
    });
  if (keys.length === 0) throw new SealError('SEAL_KEYS holds no key');
  if (new Set(keys.map((k) => k.kid)).size !== keys.length)
    throw new SealError('SEAL_KEYS has duplicate key ids');
  return keys;
}

export function generateSealKey(kid: string): string {
  return `${kid}:${randomBytes(32).toString('base64')}`;
}

export interface Sealer {
  seal(plaintext: string): string;
  unseal(sealed: string): string;
}

export function createSealer(keys: readonly SealKey[]): Sealer {
  const [current] = keys;
  if (!current) throw new SealError('no seal key configured');
  const byKid = new Map(keys.map((k) => [k.kid, k.key]));
  return {
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(current.kid));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `v1.${current.kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    unseal(sealed) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== 'v1') throw new SealError('not a sealed value');
      const [, kid, ivText, bodyText] = parts as [string, string, string, string];
      const key = byKid.get(kid);
      if (!key) throw new SealError(`sealed with unknown key id "${kid}"`);
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SealError('sealed value is truncated');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(kid));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SealError('sealed value failed authentication (tampered, or sealed with another key)');
      }
    },
  };
}
