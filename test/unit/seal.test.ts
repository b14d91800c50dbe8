import { createCipheriv, randomBytes } from 'node:crypto';
import {
  createSealer,
  generateSealKey,
  parseSealKeys,
  SEAL_PURPOSES,
  sealAad,
  SealError,
  type SealContext,
  type SealPurpose,
} from '../../common/seal';
import { sealedSchema } from '../../common/workflow-schemas';

const oldKey = generateSealKey('k1');
const newKey = generateSealKey('k2');
const codeOfA: SealContext = { purpose: 'authorization-code', sellerId: 'seller-A' };

/** What the SealError says, and why (the reason a caller can branch on). */
function sealErrorOf(fn: () => unknown): SealError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SealError) return err;
    throw err;
  }
  throw new Error('expected a SealError');
}

/** A value exactly as the previous version sealed it: `v1.<kid>.<iv>.<ct+tag>`, AAD = key id only. */
function sealV1(keyText: string, plaintext: string): string {
  const [{ kid, key }] = parseSealKeys(keyText) as [{ kid: string; key: Buffer }];
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(kid));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1.${kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

describe('sealing secrets', () => {
  it('round-trips for the same purpose and seller, as v2, and never contains the plaintext', () => {
    const sealer = createSealer(parseSealKeys(oldKey));
    const sealed = sealer.seal('super-secret-code-123', codeOfA);
    expect(sealed).toMatch(/^v2\.k1\./);
    expect(sealed).not.toContain('super-secret');
    // Purpose and seller come from the caller: neither is written into the sealed string.
    expect(sealed).not.toContain('seller-A');
    expect(sealed).not.toContain('authorization');
    expect(sealer.unseal(sealed, { ...codeOfA })).toBe('super-secret-code-123');
    expect(sealer.seal('x', codeOfA)).not.toBe(sealer.seal('x', codeOfA));
  });

  it('rotates: the first key seals, older keys still unseal', () => {
    const before = createSealer(parseSealKeys(oldKey)).seal('token', codeOfA);
    const rotated = createSealer(parseSealKeys(`${newKey},${oldKey}`));
    expect(rotated.unseal(before, codeOfA)).toBe('token');
    expect(rotated.seal('token', codeOfA)).toMatch(/^v2\.k2\./);
  });

  it('workflow inputs accept what the sealer makes; the v1 shape only so old histories replay', () => {
    const sealer = createSealer(parseSealKeys(oldKey));
    const sealed = sealer.seal('token', codeOfA);
    expect(sealedSchema.safeParse(sealed).success).toBe(true);
    // Recorded histories carry v1 values that the handlers parse again on replay; unsealing refuses them.
    const v1 = sealV1(oldKey, 'token');
    expect(sealedSchema.safeParse(v1).success).toBe(true);
    expect(() => sealer.unseal(v1, codeOfA)).toThrow(/older version/);
    expect(sealedSchema.safeParse(sealed.replace(/^v2\./, 'v3.')).success).toBe(false);
    expect(sealedSchema.safeParse('plaintext-code').success).toBe(false);
  });
});

describe('a sealed value is bound to its seller and purpose', () => {
  const sealer = createSealer(parseSealKeys(oldKey));

  it("seller A's sealed code does not unseal for seller B (nor for a seller id that merely looks alike)", () => {
    const sealed = sealer.seal('code-of-A', codeOfA);
    for (const sellerId of ['seller-B', 'seller-a', 'seller-A ', 'seller-A.', 'seller', 'seller-AA']) {
      const error = sealErrorOf(() => sealer.unseal(sealed, { purpose: 'authorization-code', sellerId }));
      expect(error.reason).toBe('authentication');
      expect(error.message).toContain('sealed for another seller or purpose');
      expect(error.message).not.toContain('code-of-A');
    }
  });

  it('a value sealed for one purpose unseals for no other purpose', () => {
    for (const sealedAs of SEAL_PURPOSES) {
      const sealed = sealer.seal('secret', { purpose: sealedAs, sellerId: 'seller-A' });
      for (const readAs of SEAL_PURPOSES) {
        const context = { purpose: readAs, sellerId: 'seller-A' };
        if (readAs === sealedAs) expect(sealer.unseal(sealed, context)).toBe('secret');
        else expect(sealErrorOf(() => sealer.unseal(sealed, context)).reason).toBe('authentication');
      }
    }
  });

  it('swapped fields do not authenticate: a seller id that spells a purpose stays a seller id', () => {
    const sealed = sealer.seal('secret', { purpose: 'authorization-code', sellerId: 'pkce-verifier' });
    const swapped = { purpose: 'pkce-verifier', sellerId: 'authorization-code' } as const;
    expect(sealErrorOf(() => sealer.unseal(sealed, swapped)).reason).toBe('authentication');
  });

  it('the additional data is length-prefixed: contexts that concatenate alike still differ', () => {
    const contexts: [string, SealContext][] = [
      ['k1', { purpose: 'user-token', sellerId: 'a.b' }],
      ['k1', { purpose: 'user-token', sellerId: 'a' }],
      ['k1.a', { purpose: 'user-token', sellerId: 'b' }],
      ['k1', { purpose: 'user-token', sellerId: 'user-token' }],
      ['k1', { purpose: 'installation-token', sellerId: 'user-token' }],
      ['k', { purpose: 'user-token', sellerId: '1user-token' }],
    ];
    const encoded = contexts.map(([kid, context]) => sealAad(kid, context).toString('hex'));
    expect(new Set(encoded).size).toBe(contexts.length);
    // 4-byte big-endian lengths before each field.
    const aad = sealAad('k1', { purpose: 'user-token', sellerId: 'a' });
    expect(aad.readUInt32BE(0)).toBe('otto-connect/seal/v2'.length);
  });

  it('refuses a v1 value (it binds no seller or purpose) with a clear error, even with the right key', () => {
    const v1 = sealV1(oldKey, 'old-code');
    const error = sealErrorOf(() => sealer.unseal(v1, codeOfA));
    expect(error.reason).toBe('outdated');
    expect(error.message).toMatch(/older version.*start a new consent/);
    // Relabelling a v2 value as v1 (or anything else) gets nowhere either.
    const v2 = sealer.seal('code', codeOfA);
    expect(sealErrorOf(() => sealer.unseal(v2.replace(/^v2\./, 'v1.'), codeOfA)).reason).toBe('outdated');
    expect(sealErrorOf(() => sealer.unseal(v2.replace(/^v2\./, 'v3.'), codeOfA)).reason).toBe('malformed');
  });

  it('refuses tampering, another key, unknown keys and garbage', () => {
    const sealed = sealer.seal('token', codeOfA);
    const [version, kid, iv, body] = sealed.split('.') as [string, string, string, string];
    const flip = (text: string) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[0]! ^= 1;
      return bytes.toString('base64url');
    };
    for (const tampered of [
      [version, kid, flip(iv), body].join('.'),
      [version, kid, iv, flip(body)].join('.'),
      sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA'),
    ]) {
      expect(sealErrorOf(() => sealer.unseal(tampered, codeOfA)).reason).toBe('authentication');
    }
    // The same key id with other key material (a key replaced rather than rotated).
    const otherK1 = createSealer(parseSealKeys(generateSealKey('k1')));
    expect(sealErrorOf(() => otherK1.unseal(sealed, codeOfA)).reason).toBe('authentication');
    // Another key id in the ring does not authenticate a value sealed with k1.
    const ring = createSealer(parseSealKeys(`${newKey},${oldKey}`));
    expect(sealErrorOf(() => ring.unseal(['v2', 'k2', iv, body].join('.'), codeOfA)).reason).toBe(
      'authentication',
    );
    expect(() => createSealer(parseSealKeys(newKey)).unseal(sealed, codeOfA)).toThrow(/unknown key id "k1"/);
    expect(() => sealer.unseal('plain', codeOfA)).toThrow(/not a sealed value/);
    expect(sealErrorOf(() => sealer.unseal(`v2.k1.${iv}.AAAA`, codeOfA)).reason).toBe('malformed');
  });

  it('refuses to seal or unseal without a valid context', () => {
    const sealed = sealer.seal('token', codeOfA);
    const bad: SealContext[] = [
      { purpose: 'authorization-code', sellerId: '' },
      { purpose: 'client-secret' as SealPurpose, sellerId: 'seller-A' },
      { purpose: 'authorization-code' } as SealContext,
      undefined as unknown as SealContext,
    ];
    for (const context of bad) {
      expect(sealErrorOf(() => sealer.seal('token', context)).reason).toBe('context');
      expect(sealErrorOf(() => sealer.unseal(sealed, context)).reason).toBe('context');
    }
  });
});

describe('the key ring', () => {
  it('validates the key ring without echoing key material', () => {
    expect(() => parseSealKeys('')).toThrow(/no key/);
    expect(() => parseSealKeys('k1:c2hvcnQ=')).toThrow(/must be 32 bytes/);
    expect(() => parseSealKeys('nokid')).toThrow(/kid:base64key/);
    expect(() => parseSealKeys(`${oldKey},${oldKey}`)).toThrow(/duplicate/);
    try {
      parseSealKeys('k1:c2hvcnQ=');
    } catch (err) {
      expect(String(err)).not.toContain('c2hvcnQ');
    }
  });
});
