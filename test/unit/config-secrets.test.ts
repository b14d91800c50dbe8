/** common/config.ts's weak-secret rules: obvious patterns are caught, random keys never are. */
import { randomBytes } from 'node:crypto';
import { keyBytesWeakness, textSecretWeakness } from '../../common/config';
import { productionApiKeyWeakness } from '../../api/api-keys';

describe('weak secrets', () => {
  it.each([
    ['a'.repeat(40), 'is one repeated character'],
    ['xyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxy', 'repeats a short pattern'],
    ['s3cr3t-k3y!'.repeat(4), 'repeats a short pattern'],
    ['aabbccddeeffaabbccddeeffaabbccddee0', 'uses fewer than 8 distinct characters'],
    ['abcdefghijklmnopqrstuvwxyz012345', 'is mostly a run of neighbouring characters (like abcd or 1234)'],
    ['98765432109876543210zyxwvutsrqpo', 'is mostly a run of neighbouring characters (like abcd or 1234)'],
  ])('%s %s', (text, reason) => {
    expect(textSecretWeakness(text)).toBe(reason);
  });

  it('never flags random keys as openssl or node make them (hex, base64, base64url)', () => {
    for (let i = 0; i < 2_000; i++) {
      for (const key of [
        randomBytes(16).toString('hex'),
        randomBytes(24).toString('hex'),
        randomBytes(24).toString('base64'),
        randomBytes(32).toString('base64url'),
      ]) {
        expect([key, textSecretWeakness(key)]).toEqual([key, undefined]);
        expect([key, productionApiKeyWeakness(key)]).toEqual([key, undefined]);
      }
      expect(keyBytesWeakness(randomBytes(32))).toBeUndefined();
    }
  });

  it('refuses published keys, short keys, and zero or repeated seal bytes', () => {
    expect(productionApiKeyWeakness('dev-admin-key')).toMatch(/published dev key/);
    expect(productionApiKeyWeakness('dev-support-key-but-longer-than-32-chars')).toMatch(/published dev key/);
    expect(productionApiKeyWeakness('9f86d081884c7d659a2feaa0c55ad01')).toMatch(/at least 32 characters/);
    expect(keyBytesWeakness(Buffer.alloc(32))).toBe('is all zero bytes');
    expect(keyBytesWeakness(Buffer.alloc(32, 0xff))).toBe('is one repeated byte');
    expect(keyBytesWeakness(Buffer.from('0102030401020304'.repeat(4), 'hex'))).toBe(
      'has fewer than 8 distinct bytes',
    );
  });
});
