/** The signed OAuth state: round trip, and each way a state is refused. */
import { createStateSigner } from '../../api/oauth-state';

const KEY = 'k'.repeat(40);
const input = { sellerId: 's-1', appVersion: 'v1' as const, nonce: 'n'.repeat(32) };

describe('oauth state', () => {
  it('verifies what it signed, until it expires', () => {
    let now = 1_000;
    const signer = createStateSigner(KEY, { ttlMs: 60_000, now: () => now });
    const state = signer.sign(input);
    expect(state).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(signer.verify(state)).toEqual({ ok: true, state: { ...input, expiresAt: 61_000 } });
    now = 60_999;
    expect(signer.verify(state).ok).toBe(true);
    now = 61_000;
    expect(signer.verify(state)).toEqual({ ok: false, reason: 'expired', expiredAt: 61_000 });
  });

  it('refuses another key, a changed payload and a truncated signature as forged', () => {
    const signer = createStateSigner(KEY);
    const state = signer.sign(input);
    expect(createStateSigner('x'.repeat(40)).verify(state)).toEqual({ ok: false, reason: 'forged' });
    const [body, mac] = state.split('.') as [string, string];
    const changed = Buffer.from(Buffer.from(body, 'base64url').toString().replace('s-1', 's-2')).toString(
      'base64url',
    );
    expect(signer.verify(`${changed}.${mac}`)).toEqual({ ok: false, reason: 'forged' });
    expect(signer.verify(`${body}.${mac.slice(0, -1)}`)).toEqual({ ok: false, reason: 'forged' });
  });

  it.each(['', 'a', 'a.b.c', 'a..', '.b', 'ä.b', `${'a'.repeat(2000)}.b`])(
    'refuses %p as malformed',
    (state) => {
      expect(createStateSigner(KEY).verify(state)).toEqual({ ok: false, reason: 'malformed' });
    },
  );
});
