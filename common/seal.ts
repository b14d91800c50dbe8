/**
 * Sealing secrets (authorization codes, PKCE verifiers, tokens) so they can travel through workflow
 * history without being readable there: AES-256-GCM, the key id inside the sealed string, a key ring so
 * keys can rotate (the first key seals, every key unseals). Format: `v2.<kid>.<iv>.<ciphertext+tag>`.
 *
 * Every sealed value is bound to what it is and whose it is: the caller names a {@link SealContext}
 * (purpose and seller id) when sealing and again when unsealing, and the GCM additional data (AAD)
 * authenticates format version, key id, purpose and seller id. Purpose and seller are not written into
 * the sealed string: they come from the caller, so a value sealed for seller A (or as a PKCE verifier)
 * fails authentication when unsealed for seller B (or as an authorization code). Moving a sealed value
 * between sellers' workflows, or between fields, therefore gets nothing out.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SealKey {
  kid: string;
  key: Buffer;
}

/**
 * What a sealed value is. A closed list: a new kind of secret gets its own purpose here, never reuses
 * another's, so a value cannot be replayed into a field that means something else.
 */
export const SEAL_PURPOSES = [
  /** OTTO's single-use authorization code (callback → workflow → completeAuthorization). */
  'authorization-code',
  /** The PKCE code verifier made when consent starts (API → workflow → completeAuthorization). */
  'pkce-verifier',
  /** A private app's invitation link from OPC (API → workflow → API). */
  'invitation-url',
  /** The seller's user token, in completeAuthorization's heartbeat checkpoint only. */
  'user-token',
  /** An installation access token (minted by the token activities, used by the data client). */
  'installation-token',
] as const;
export type SealPurpose = (typeof SEAL_PURPOSES)[number];

/** Binds a sealed value to its purpose and its seller; the same context must be named to unseal it. */
export interface SealContext {
  purpose: SealPurpose;
  /** The shop system's seller id (docs/design.md §2); compared exactly, byte for byte. */
  sellerId: string;
}

/**
 * Why sealing or unsealing failed. `config`: a bad key ring; `context`: the caller named no valid
 * context (a programming error); `malformed`: not a sealed value; `outdated`: sealed by an older format
 * that binds no purpose or seller; `unknown-key`: the key id is not in the ring; `authentication`:
 * tampered, sealed with another key, or sealed for another seller or purpose (GCM cannot tell which).
 */
export type SealErrorReason =
  'config' | 'context' | 'malformed' | 'outdated' | 'unknown-key' | 'authentication';

/** Messages never contain key material, plaintext or the sealed value itself. */
export class SealError extends Error {
  override name = 'SealError';
  constructor(
    message: string,
    readonly reason: SealErrorReason = 'config',
  ) {
    super(message);
  }
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
  /** Seals `plaintext` for exactly this purpose and seller. */
  seal(plaintext: string, context: SealContext): string;
  /**
   * Unseals a value sealed for the same purpose and seller; throws {@link SealError} for anything else
   * (another seller, another purpose, tampered, unknown key, v1).
   */
  unseal(sealed: string, context: SealContext): string;
}

const VERSION = 'v2';
/** Domain separation: this application's sealed values, this format. Part of the AAD, never of the string. */
const AAD_LABEL = 'otto-connect/seal/v2';
const PURPOSES: ReadonlySet<string> = new Set(SEAL_PURPOSES);

function checkContext(context: SealContext): void {
  // Checked at run time too: a JavaScript caller, or a cast, must not seal with an empty binding.
  if (context === null || typeof context !== 'object')
    throw new SealError('a seal context (purpose and seller id) is required', 'context');
  if (!PURPOSES.has(context.purpose))
    throw new SealError(`unknown seal purpose "${String(context.purpose).slice(0, 40)}"`, 'context');
  if (typeof context.sellerId !== 'string' || context.sellerId.length === 0)
    throw new SealError('a seal context needs a seller id', 'context');
}

/**
 * The additional authenticated data: label, key id, purpose and seller id, each as a 4-byte big-endian
 * byte length followed by its UTF-8 bytes. Length-prefixed, so no two different contexts encode alike
 * (seller "a.b" with purpose "c" never collides with seller "a" and purpose "b.c").
 */
export function sealAad(kid: string, context: SealContext): Buffer {
  const fields = [AAD_LABEL, kid, context.purpose, context.sellerId].map((f) => Buffer.from(f, 'utf8'));
  return Buffer.concat(
    fields.flatMap((field) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(field.length);
      return [length, field];
    }),
  );
}

export function createSealer(keys: readonly SealKey[]): Sealer {
  const [current] = keys;
  if (!current) throw new SealError('no seal key configured');
  const byKid = new Map(keys.map((k) => [k.kid, k.key]));
  return {
    seal(plaintext, context) {
      checkContext(context);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(sealAad(current.kid, context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${current.kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    unseal(sealed, context) {
      checkContext(context);
      const parts = typeof sealed === 'string' ? sealed.split('.') : [];
      // v1 (AAD = key id only) is refused, not accepted for a transition: it binds no seller or purpose,
      // so accepting it would keep exactly the hole v2 closes. Nothing long-lived needs it: codes live
      // 60 s, PKCE verifiers and invitation links one consent (the seller starts a new one), user tokens
      // one authorization attempt, and installation tokens 30 minutes; the data client turns a refused
      // installation token into TokenRejected, so a running workflow simply mints a fresh (v2) one.
      // (SEALED_PATTERN in common/workflow-input-rules.ts still lets the v1 *shape* through, only so
      // recorded histories replay.)
      if (parts.length === 4 && parts[0] === 'v1') {
        throw new SealError(
          `the sealed ${context.purpose} was sealed by an older version (v1, bound to no seller or purpose) and is no longer accepted; start a new consent`,
          'outdated',
        );
      }
      if (parts.length !== 4 || parts[0] !== VERSION) throw new SealError('not a sealed value', 'malformed');
      const [, kid, ivText, bodyText] = parts as [string, string, string, string];
      const key = byKid.get(kid);
      if (!key) throw new SealError(`sealed with unknown key id "${kid.slice(0, 32)}"`, 'unknown-key');
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES)
        throw new SealError('sealed value is truncated', 'malformed');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(sealAad(kid, context));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SealError(
          `the sealed ${context.purpose} failed authentication: it was sealed for another seller or purpose, tampered with, or sealed with another key`,
          'authentication',
        );
      }
    },
  };
}
