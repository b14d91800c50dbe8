/**
 * The data client's origin rule: links from OTTO's answers are followed only on OTTO's own origin, so the
 * installation token never leaves for another host; and 429 back-off when OTTO sends no Retry-After.
 */
import { ApplicationFailure } from '@temporalio/common';
import { rateLimitDelayMs, resolveOttoUrl } from '../../activities/otto-data-client';
import { FailureTypes } from '../../workflows/definitions';

const BASE = 'https://api.otto.market';

function refusal(href: string, base = BASE): ApplicationFailure {
  try {
    resolveOttoUrl(href, base);
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error(`expected ${href} to be refused`);
}

describe('resolveOttoUrl', () => {
  it.each([
    ['/v4/orders?nextcursor=abc', 'https://api.otto.market/v4/orders?nextcursor=abc'],
    ['v4/orders', 'https://api.otto.market/v4/orders'],
    ['https://api.otto.market/v3/returns?page=2', 'https://api.otto.market/v3/returns?page=2'],
    ['HTTPS://API.OTTO.MARKET:443/v1/shipping-profiles', 'https://api.otto.market/v1/shipping-profiles'],
  ])('resolves %s on OTTO’s origin', (href, expected) => {
    expect(resolveOttoUrl(href, BASE).toString()).toBe(expected);
  });

  it.each([
    'https://evil.example/v4/orders',
    '//evil.example/v4/orders',
    '\\\\evil.example/v4/orders',
    'http://api.otto.market/v4/orders', // another scheme is another origin
    'https://api.otto.market:8443/v4/orders', // another port too
    'https://api.otto.market.evil.example/v4/orders',
    'https://user:pw@api.otto.market/v4/orders',
    'javascript:alert(1)',
    'data:text/plain,hello',
  ])('refuses %s as a non-retryable failure', (href) => {
    const failure = refusal(href);
    expect(failure.type).toBe(FailureTypes.requestRejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('https://api.otto.market');
  });

  it('keeps to the emulator’s origin (host and port) in dev and tests', () => {
    expect(resolveOttoUrl('/v4/orders', 'http://127.0.0.1:3900').toString()).toBe(
      'http://127.0.0.1:3900/v4/orders',
    );
    expect(refusal('http://127.0.0.1:3901/v4/orders', 'http://127.0.0.1:3900').nonRetryable).toBe(true);
    expect(refusal('http://localhost:3900/v4/orders', 'http://127.0.0.1:3900').nonRetryable).toBe(true);
  });
});

describe('rateLimitDelayMs', () => {
  it('honours Retry-After when OTTO sends one', () => {
    expect(rateLimitDelayMs(1, 2_500, 1_000)).toBe(2_500);
    expect(rateLimitDelayMs(3, 0, 1_000)).toBe(0);
  });

  it('backs off exponentially from its own base without one (OTTO documents no such header)', () => {
    expect([1, 2, 3, 4].map((a) => rateLimitDelayMs(a, undefined, 1_000))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
  });
});
