/**
 * The failed-key limiter (issue 12): a verified key is never blocked; only malformed or unknown keys are
 * counted and, past the limit, refused 429; clients are counted per IPv4 address and per IPv6 /64; a
 * numeric TRUST_PROXY is a hop count, and without it X-Forwarded-For is not believed.
 */
import request from 'supertest';
import type { App } from 'supertest/types';
import { trustProxySetting } from '../../api/create-app';
import { clientKey } from '../../api/failed-attempt-limiter';
import { ADMIN_KEY, SUPPORT_KEY, errorOf, testApp } from './test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const support = { Authorization: `Bearer ${SUPPORT_KEY}` };
const wrong = (i: number) => ({ Authorization: `Bearer wrong-key-${i}-0123456789abcdef` });

async function statusOf(app: App, headers: Record<string, string>): Promise<number> {
  return (await request(app).get('/api/connections').set(headers)).status;
}

describe('failed API-key limiter', () => {
  it('ten wrong keys from one IP do not block the valid key from that IP; the 11th wrong one gets 429', async () => {
    const { app } = testApp();
    for (let i = 0; i < 10; i++) expect(await statusOf(app, wrong(i))).toBe(401);
    expect(await statusOf(app, support)).toBe(200);
    expect(await statusOf(app, admin)).toBe(200);
    const eleventh = await request(app).get('/api/connections').set(wrong(10));
    expect(eleventh.status).toBe(429);
    expect(errorOf(eleventh).code).toBe('too_many_failed_attempts');
    expect(Number(eleventh.headers['retry-after'])).toBeGreaterThan(0);
    // Still: valid keys pass, a malformed Authorization header is refused like a wrong key.
    expect(await statusOf(app, support)).toBe(200);
    expect(await statusOf(app, { Authorization: 'Basic abc' })).toBe(429);
    // A known key without the role is a 403, not a guess.
    expect((await request(app).delete('/api/sellers/s-1/connection').set(support)).status).toBe(403);
  });

  it('does not count requests without any key', async () => {
    const { app } = testApp({ authLimit: { maxFailures: 2 } });
    for (let i = 0; i < 5; i++) expect((await request(app).get('/api/connections')).status).toBe(401);
    expect(await statusOf(app, wrong(0))).toBe(401);
  });

  it('forgets failures when the window has passed', async () => {
    // The window must outlast three requests on a busy CI box (400 ms might not); the wait is the
    // window itself passing, not a stand-in for a condition.
    const { app } = testApp({ authLimit: { maxFailures: 2, windowMs: 2_000 } });
    for (let i = 0; i < 2; i++) expect(await statusOf(app, wrong(i))).toBe(401);
    expect(await statusOf(app, wrong(2))).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await statusOf(app, wrong(3))).toBe(401);
  });

  it('without TRUST_PROXY a rotating X-Forwarded-For does not reset the count', async () => {
    const { app } = testApp();
    for (let i = 0; i < 10; i++)
      expect(await statusOf(app, { ...wrong(i), 'X-Forwarded-For': `198.51.100.${i + 1}` })).toBe(401);
    expect(await statusOf(app, { ...wrong(10), 'X-Forwarded-For': '198.51.100.99' })).toBe(429);
    expect(await statusOf(app, { ...support, 'X-Forwarded-For': '198.51.100.99' })).toBe(200);
  });

  it('with TRUST_PROXY=1 the client is the address one proxy hop saw (X-Forwarded-For), not 0.0.0.1', async () => {
    const { app } = testApp({ env: { TRUST_PROXY: '1' }, authLimit: { maxFailures: 3 } });
    const from = (xff: string, i: number) => statusOf(app, { ...wrong(i), 'X-Forwarded-For': xff });
    for (let i = 0; i < 3; i++) expect(await from('203.0.113.7', i)).toBe(401);
    expect(await from('203.0.113.7', 3)).toBe(429);
    // One hop: only the last entry counts, whatever the client put in front of it.
    expect(await from('192.0.2.1, 203.0.113.7', 4)).toBe(429);
    // Another client behind the same proxy has its own count.
    expect(await from('203.0.113.8', 5)).toBe(401);
    expect(await from('203.0.113.7, 203.0.113.8', 6)).toBe(401);
  });

  it('IPv6 clients in one /64 share a count; another /64 does not', async () => {
    const { app } = testApp({ env: { TRUST_PROXY: '1' }, authLimit: { maxFailures: 3 } });
    const from = (xff: string, i: number) => statusOf(app, { ...wrong(i), 'X-Forwarded-For': xff });
    expect(await from('2001:db8:1:2::a', 0)).toBe(401);
    expect(await from('2001:db8:1:2:ffff:ffff:ffff:1', 1)).toBe(401);
    expect(await from('2001:db8:1:2:1234::5', 2)).toBe(401);
    expect(await from('2001:db8:1:2::b', 3)).toBe(429);
    expect(await from('2001:db8:1:3::a', 4)).toBe(401);
  });
});

describe('clientKey and trustProxySetting', () => {
  it('keys IPv4 by address (also IPv4-mapped) and IPv6 by /64', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey(undefined)).toBe('unknown');
  });

  it('reads digits as a hop count, true/false as booleans, anything else as Express’s address list', () => {
    expect(trustProxySetting('1')).toBe(1);
    expect(trustProxySetting(' 2 ')).toBe(2);
    expect(trustProxySetting('0')).toBe(0);
    expect(trustProxySetting('true')).toBe(true);
    expect(trustProxySetting('false')).toBe(false);
    expect(trustProxySetting('loopback')).toBe('loopback');
    expect(trustProxySetting('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8');
  });
});
