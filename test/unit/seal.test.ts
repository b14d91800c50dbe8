import { createSealer, generateSealKey, parseSealKeys, SealError } from '../../common/seal';

describe('sealing secrets', () => {
  const oldKey = generateSealKey('k1');
  const newKey = generateSealKey('k2');

  it('round-trips and never contains the plaintext', () => {
    const sealer = createSealer(parseSealKeys(oldKey));
    const sealed = sealer.seal('super-secret-code-123');
    expect(sealed).toMatch(/^v1\.k1\./);
    expect(sealed).not.toContain('super-secret');
    expect(sealer.unseal(sealed)).toBe('super-secret-code-123');
    expect(sealer.seal('x')).not.toBe(sealer.seal('x'));
  });

  it('rotates: the first key seals, older keys still unseal', () => {
    const before = createSealer(parseSealKeys(oldKey)).seal('token');
    const rotated = createSealer(parseSealKeys(`${newKey},${oldKey}`));
    expect(rotated.unseal(before)).toBe('token');
    expect(rotated.seal('token')).toMatch(/^v1\.k2\./);
  });

  it('refuses tampering, unknown keys and garbage', () => {
    const sealer = createSealer(parseSealKeys(oldKey));
    const sealed = sealer.seal('token');
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => sealer.unseal(tampered)).toThrow(SealError);
    expect(() => createSealer(parseSealKeys(newKey)).unseal(sealed)).toThrow(/unknown key id "k1"/);
    expect(() => sealer.unseal('plain')).toThrow(/not a sealed value/);
  });

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
