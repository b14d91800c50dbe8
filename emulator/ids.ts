import { createHash, randomBytes, randomUUID } from 'node:crypto';

/** Opaque, unguessable secrets (tokens, codes, login sessions): 256 bits, URL-safe. */
export function secretId(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function uuid(): string {
  return randomUUID();
}

/** Short human-readable ids (partner ids, order numbers) where OTTO's look similar. */
export function shortId(length: number, alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length] ?? 'X';
  return out;
}

/** RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
