/** The browser-binding consent cookie: round trip, expiry, every way a value is refused, and its header. */
import { createConsentCookies, MAX_CONSENT_TICKET_LENGTH } from '../../api/consent-cookie';
import { createStateSigner } from '../../api/oauth-state';

const KEY = 'k'.repeat(40);
const binding = {
  sellerId: 's-1',
  appVersion: 'v1' as const,
  nonce: 'n'.repeat(32),
  codeChallenge: 'c'.repeat(43),
  consentUrl: 'https://portal.otto.test/apps/a1/install',
};
const https = { ttlMs: 60_000, publicBaseUrl: 'https://connect.shop.test' };

describe('consent cookie', () => {
  it('verifies what it issued, until it expires', () => {
    let now = 1_000;
    const cookies = createConsentCookies(KEY, { ...https, now: () => now });
    const { value, expiresAt } = cookies.issue(binding);
    expect(expiresAt).toBe(61_000);
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(cookies.verify(value)).toEqual({ ok: true, binding: { ...binding, expiresAt: 61_000 } });
    now = 60_999;
    expect(cookies.verify(value).ok).toBe(true);
    now = 61_000;
    expect(cookies.verify(value)).toEqual({ ok: false, reason: 'expired' });
  });

  it('carries no PKCE challenge when none was given', () => {
    const cookies = createConsentCookies(KEY, https);
    const { codeChallenge: _none, ...withoutPkce } = binding;
    const check = cookies.verify(cookies.issue(withoutPkce).value);
    expect(check).toEqual({ ok: true, binding: { ...withoutPkce, expiresAt: expect.any(Number) as number } });
  });

  it('refuses another key, a changed payload, and a signed OAuth state (and a state refuses a cookie)', () => {
    const cookies = createConsentCookies(KEY, https);
    const { value } = cookies.issue(binding);
    expect(createConsentCookies('x'.repeat(40), https).verify(value)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    const [body, mac] = value.split('.') as [string, string];
    const changed = Buffer.from(Buffer.from(body, 'base64url').toString().replace('s-1', 's-2')).toString(
      'base64url',
    );
    expect(cookies.verify(`${changed}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
    // Same STATE_SIGNING_KEY, separate derived keys: neither token passes as the other.
    const signer = createStateSigner(KEY);
    const state = signer.sign({ sellerId: 's-1', appVersion: 'v1', nonce: binding.nonce });
    expect(cookies.verify(state)).toEqual({ ok: false, reason: 'invalid' });
    expect(signer.verify(value).ok).toBe(false);
  });

  it.each([undefined, '', 'a', 'a.b.c', '.b', 'a.', 'ä.b', `${'a'.repeat(MAX_CONSENT_TICKET_LENGTH)}.b`])(
    'refuses %p',
    (value) => {
      expect(createConsentCookies(KEY, https).verify(value)).toEqual({ ok: false, reason: 'invalid' });
    },
  );

  it('refuses a correctly signed payload that is not a binding', () => {
    const cookies = createConsentCookies(KEY, https);
    const { value } = cookies.issue({ ...binding, consentUrl: 'javascript:alert(1)' });
    expect(cookies.verify(value)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('over https: __Host- prefixed, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain', () => {
    const cookies = createConsentCookies(KEY, { ...https, ttlMs: 90_500 });
    expect(cookies.name).toBe('__Host-otto-consent');
    expect(cookies.setCookie('v.m')).toBe(
      '__Host-otto-consent=v.m; Max-Age=91; Path=/; HttpOnly; SameSite=Lax; Secure',
    );
    expect(cookies.clearCookie()).toBe(
      '__Host-otto-consent=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax; Secure',
    );
  });

  it('over http: the plain name without Secure (a __Host- cookie would be refused by the browser)', () => {
    const cookies = createConsentCookies(KEY, { ttlMs: 60_000, publicBaseUrl: 'http://localhost:3000' });
    expect(cookies.name).toBe('otto-consent');
    expect(cookies.setCookie('v.m')).toBe('otto-consent=v.m; Max-Age=60; Path=/; HttpOnly; SameSite=Lax');
  });

  it('reads its own cookie among others, and trusts neither of two with its name', () => {
    const cookies = createConsentCookies(KEY, https);
    expect(cookies.read(undefined)).toBeUndefined();
    expect(cookies.read('')).toBeUndefined();
    expect(cookies.read('a=1; __Host-otto-consent=v.m ; b=2')).toBe('v.m');
    expect(cookies.read('otto-consent=v.m')).toBeUndefined();
    expect(cookies.read('x__Host-otto-consent=v.m')).toBeUndefined();
    expect(cookies.read('__Host-otto-consent=v.m; __Host-otto-consent=w.n')).toBeUndefined();
  });
});
