/**
 * Assistant sessions (issue 12): the shop's backend creates a one-time link for its seller, the
 * browser opens it and gets a session cookie for that seller only; the assistant and "Allow access"
 * take the seller from that session and nowhere else. Against createApp() and the recording fake:
 * every refusal is checked to have started nothing (no beginConsent recorded) and shown nothing.
 */
import { join } from 'node:path';
import request from 'supertest';
import type { App } from 'supertest/types';
import { createConsentCookies } from '../../api/consent-cookie';
import { capturingLogger } from '../support/capturing-logger';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { tempDirs } from '../support/temp-dirs';
import type { SellerStore } from '../../store/seller-store';
import type { BeginConsentInput } from '../../workflows/definitions';
import {
  ADMIN_KEY,
  INSTALL_V1,
  OTTO_AUTH,
  PUBLIC_BASE_URL,
  STATE_KEY,
  SUPPORT_KEY,
  assistantSession,
  bodyOf,
  consentCookieSet,
  errorOf,
  formTokenOf,
  setCookiesOf,
  testApp,
  testConfig,
  type TestAssistantSession,
} from './test-app';
import type { FakeSellerConnections } from './fake-seller-connections';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const T0 = Date.now();
const MINUTE = 60_000;
const INVITATION = `${OTTO_AUTH}/opc/apps/app-v2/invitation?token=inv-0042`;

function clockedApp(options: Parameters<typeof testApp>[0] = {}) {
  const clock = { now: T0 };
  return { ...testApp({ ...options, now: () => clock.now }), clock };
}

const createLink = (app: App, sellerId: string, body?: Record<string, unknown>) =>
  request(app)
    .post(`/api/sellers/${sellerId}/assistant-sessions`)
    .set(admin)
    .send(body ?? {});

/** The seller's browser opens the one-time link. */
const openWith = (app: App, url: string) => {
  const link = new URL(url);
  return request(app).get(`${link.pathname}${link.search}`);
};

const allowAccess = (
  app: App,
  session: Pick<TestAssistantSession, 'cookie'> | undefined,
  form: Record<string, string>,
) => {
  const req = request(app).post('/assistant/otto/allow-access').type('form').set('Origin', PUBLIC_BASE_URL);
  if (session) req.set('Cookie', session.cookie);
  return req.send(form);
};

const beginConsents = (connections: FakeSellerConnections) =>
  connections.writes.filter((c) => c.method === 'beginConsent').map((c) => c.args[0] as BeginConsentInput);
const statusCalls = (connections: FakeSellerConnections) =>
  connections.calls.filter((c) => c.method === 'status').map((c) => c.args[0]);

describe('POST /api/sellers/:sellerId/assistant-sessions', () => {
  it('answers 201 with a one-time link on PUBLIC_BASE_URL, valid 10 minutes, never cached', async () => {
    const { app, connections } = clockedApp();
    const res = await createLink(app, 'seller-a');
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = bodyOf<{ url: string; expiresAt: string }>(res);
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'url']);
    const url = new URL(body.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_BASE_URL}/assistant/otto/session`);
    expect([...url.searchParams.keys()]).toEqual(['token']);
    // The seller is not readable from the URL's parameters, only from the signed token.
    expect(url.searchParams.has('sellerId')).toBe(false);
    expect(body.expiresAt).toBe(new Date(T0 + 10 * MINUTE).toISOString());
    // Creating a session asks nothing of the seller's workflow.
    expect(connections.calls.filter((c) => c.method !== 'countByState')).toEqual([]);
  });

  it('ASSISTANT_LINK_TTL sets the link’s lifetime', async () => {
    const { app } = clockedApp({ env: { ASSISTANT_LINK_TTL: '2m' } });
    const res = await createLink(app, 'seller-a');
    expect(bodyOf<{ expiresAt: string }>(res).expiresAt).toBe(new Date(T0 + 2 * MINUTE).toISOString());
  });

  it.each([
    ['no key', {}, {}, 401, 'unauthorized'],
    ['the support role', { Authorization: `Bearer ${SUPPORT_KEY}` }, {}, 403, 'forbidden'],
    ['an invalid seller id', admin, {}, 400, 'validation_failed', '..%2Fadmin'],
    ['an unknown app version', admin, { appVersion: 'v9' }, 400, 'validation_failed'],
    ['an unknown field', admin, { sellerId: 'someone-else' }, 400, 'validation_failed'],
    [
      'an invitation link on another host',
      admin,
      { invitationUrl: 'https://evil.example/opc/apps/app-v2/invitation?token=x' },
      400,
      'invalid_invitation_url',
    ],
  ] as const)('refuses %s', async (_name, headers, body, status, code, seller: string = 'seller-a') => {
    const { app } = testApp();
    const res = await request(app).post(`/api/sellers/${seller}/assistant-sessions`).set(headers).send(body);
    expect(res.status).toBe(status);
    expect(errorOf(res).code).toBe(code);
  });

  it('refuses a body that is not JSON', async () => {
    const { app } = testApp();
    const res = await request(app)
      .post('/api/sellers/seller-a/assistant-sessions')
      .set(admin)
      .type('form')
      .send({ appVersion: 'v1' });
    expect(res.status).toBe(415);
  });
});

describe('opening the link', () => {
  it('sets an HttpOnly, SameSite=Lax, __Host- Secure session cookie and redirects (303) to the assistant', async () => {
    const { app } = clockedApp();
    const { url } = bodyOf<{ url: string }>(await createLink(app, 'seller-a'));
    const res = await openWith(app, url);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/assistant/otto');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const set = consentCookieSet(res, '__Host-otto-assistant');
    expect(set).toBeDefined();
    expect(set!.attributes).toEqual(
      expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure', 'Max-Age=3600']),
    );
    expect(set!.attributes.some((a) => /^domain=/i.test(a))).toBe(false);
    expect(setCookiesOf(res)).toHaveLength(1);

    const page = await request(app).get('/assistant/otto').set('Cookie', set!.cookie);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Seller seller-a');
  });

  it('over plain http: the plain name, without Secure; ASSISTANT_SESSION_TTL sets Max-Age', async () => {
    const base = 'http://connect.shop.test';
    const { app } = clockedApp({ env: { PUBLIC_BASE_URL: base, ASSISTANT_SESSION_TTL: '30m' } });
    const { url } = bodyOf<{ url: string }>(await createLink(app, 'seller-a'));
    expect(url.startsWith(`${base}/assistant/otto/session?token=`)).toBe(true);
    const res = await openWith(app, url);
    expect(consentCookieSet(res, '__Host-otto-assistant')).toBeUndefined();
    const set = consentCookieSet(res, 'otto-assistant')!;
    expect(set.attributes).toEqual(
      expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Max-Age=1800']),
    );
    expect(set.attributes).not.toContain('Secure');
  });

  it('works once: a second opening is refused (410) and sets no cookie', async () => {
    const { app } = clockedApp();
    const { url } = bodyOf<{ url: string }>(await createLink(app, 'seller-a'));
    // A mail scanner or link preview checking it with HEAD spends nothing (before: Express ran the GET
    // handler for HEAD, the link was spent and the seller's own opening refused).
    const link = new URL(url);
    const head = await request(app).head(`${link.pathname}${link.search}`);
    expect(head.status).toBe(200);
    expect(head.headers['cache-control']).toBe('no-store');
    expect(setCookiesOf(head)).toEqual([]);
    expect((await openWith(app, url)).status).toBe(303);
    const again = await openWith(app, url);
    expect(again.status).toBe(410);
    expect(again.type).toBe('text/html');
    expect(again.text).toContain('has already been opened');
    expect(setCookiesOf(again)).toEqual([]);
    const json = await openWith(app, url).set('Accept', 'application/json');
    expect(errorOf(json).code).toBe('assistant_link_used');
  });

  it('expires after ASSISTANT_LINK_TTL (410), and the session after ASSISTANT_SESSION_TTL (401)', async () => {
    const { app, clock } = clockedApp();
    const late = bodyOf<{ url: string }>(await createLink(app, 'seller-a')).url;
    const session = await assistantSession(app, 'seller-a');
    clock.now += 10 * MINUTE;
    const expired = await openWith(app, late).set('Accept', 'application/json');
    expect(expired.status).toBe(410);
    expect(errorOf(expired).code).toBe('assistant_link_expired');
    expect(setCookiesOf(expired)).toEqual([]);

    expect((await request(app).get('/assistant/otto').set('Cookie', session.cookie)).status).toBe(200);
    clock.now = T0 + 60 * MINUTE;
    const gone = await request(app).get('/assistant/otto').set('Cookie', session.cookie);
    expect(gone.status).toBe(401);
  });

  it('a damaged, forged or foreign token is refused (400) and sets no cookie', async () => {
    const { app } = testApp();
    const { url } = bodyOf<{ url: string }>(await createLink(app, 'seller-a'));
    const token = new URL(url).searchParams.get('token')!;
    const [body, mac] = token.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${Buffer.from(JSON.stringify({ ...payload, s: 'seller-b' })).toString('base64url')}.${mac}`;
    // A consent ticket is signed under STATE_SIGNING_KEY too, but for another purpose.
    const ticket = createConsentCookies(STATE_KEY, {
      ttlMs: 3_600_000,
      publicBaseUrl: PUBLIC_BASE_URL,
    }).issue({
      sellerId: 'seller-b',
      appVersion: 'v1',
      nonce: 'n'.repeat(32),
      consentUrl: INSTALL_V1,
    }).value;
    for (const query of [
      { token: forged },
      { token: ticket },
      { token: `${body}.${mac.slice(0, -2)}AA` },
      { token: 'x'.repeat(5000) },
      { token: [token, token] },
      {},
    ]) {
      const res = await request(app)
        .get('/assistant/otto/session')
        .query(query)
        .set('Accept', 'application/json');
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(errorOf(res).code).toBe('assistant_link_invalid');
      expect(setCookiesOf(res)).toEqual([]);
    }
    // The real link still works after all that.
    expect((await openWith(app, url)).status).toBe(303);
  });
});

describe('one opening across API replicas and restarts (the spent links live in the seller store)', () => {
  let dir: string;
  const stores: SellerStore[] = [];
  /** One API process: its own handle on the shared store file, as each replica opens SELLER_STORE. */
  const replica = (store: SellerStore = openSqliteSellerStore(join(dir, 'seller-store.db'))) => {
    stores.push(store);
    return clockedApp({ store });
  };
  const newDir = tempDirs('assistant-links-');
  beforeEach(() => {
    dir = newDir();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  it('a link opened on one replica is refused (410) on another, and after a restart', async () => {
    const a = replica();
    const b = replica();
    const { url } = bodyOf<{ url: string }>(await createLink(a.app, 'seller-a'));
    expect((await openWith(b.app, url)).status).toBe(303);
    const again = await openWith(a.app, url).set('Accept', 'application/json');
    expect(again.status).toBe(410);
    expect(errorOf(again).code).toBe('assistant_link_used');
    expect(setCookiesOf(again)).toEqual([]);
    // A restarted replica (a new process, a new handle) still knows it.
    await stores[0]!.close();
    stores.shift();
    const restarted = replica();
    expect((await openWith(restarted.app, url)).status).toBe(410);
    // Another link of the same seller is its own: it opens once.
    const other = bodyOf<{ url: string }>(await createLink(a.app, 'seller-a')).url;
    expect((await openWith(restarted.app, other)).status).toBe(303);
    expect((await openWith(b.app, other)).status).toBe(410);
  });

  it('opened on two replicas at once: exactly one gets the session', async () => {
    const replicas = [replica(), replica(), replica()];
    const { url } = bodyOf<{ url: string }>(await createLink(replicas[0]!.app, 'seller-a'));
    const answers = await Promise.all(replicas.flatMap((r) => [openWith(r.app, url), openWith(r.app, url)]));
    expect(answers.map((r) => r.status).sort()).toEqual([303, 410, 410, 410, 410, 410]);
    expect(answers.filter((r) => setCookiesOf(r).length > 0)).toHaveLength(1);
  });

  it('a store that cannot be reached refuses the link (503, logged) and leaves it unopened', async () => {
    const real = openSqliteSellerStore(join(dir, 'seller-store.db'));
    let down = true;
    const flaky: SellerStore = Object.create(real) as SellerStore;
    flaky.spendOneTimeId = (...args) =>
      down ? Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432')) : real.spendOneTimeId(...args);
    stores.push(real);
    const { logger, lines } = capturingLogger('api');
    const { app } = clockedApp({ store: flaky, logger });
    const { url } = bodyOf<{ url: string }>(await createLink(app, 'seller-a'));
    const page = await openWith(app, url);
    expect(page.status).toBe(503);
    expect(page.headers['retry-after']).toBe('5');
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('assistant_link_unchecked');
    expect(setCookiesOf(page)).toEqual([]);
    expect(lines.map((l) => JSON.parse(l) as { msg: string; level: number })).toContainEqual(
      expect.objectContaining({ msg: 'assistant link not checked: the seller store is unreachable' }),
    );
    // The token is never logged: the link is a bearer credential until it is opened.
    const token = new URL(url).searchParams.get('token')!;
    expect(lines.join('\n')).not.toContain(token);
    down = false;
    expect((await openWith(app, url)).status).toBe(303);
    expect((await openWith(app, url)).status).toBe(410);
  });
});

describe('without a session nothing is shown or started for anyone', () => {
  it('the assistant is a 401 page that says to open the settings from the shop, for any seller', async () => {
    const { app, connections } = testApp();
    connections.setSeller('victim', { state: 'active', partnerId: 'P-VICTIM' });
    for (const path of [
      '/assistant/otto',
      '/assistant/otto?sellerId=victim',
      '/assistant/otto?sellerId=nobody',
    ]) {
      const res = await request(app).get(path);
      expect(res.status).toBe(401);
      expect(res.type).toBe('text/html');
      expect(res.text).toContain('open the OTTO Market settings from your shop');
      expect(res.text).not.toContain('P-VICTIM');
      expect(res.text).not.toContain('Allow access to OTTO');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    const json = await request(app).get('/assistant/otto').set('Accept', 'application/json');
    expect(errorOf(json).code).toBe('assistant_session_required');
    expect(statusCalls(connections)).toEqual([]);
  });

  it('"Allow access" without a session (any form, any seller) starts nothing', async () => {
    const { app, connections } = testApp();
    const forms: Record<string, string>[] = [
      {},
      { sellerId: 'victim' },
      { sellerId: 'victim', appVersion: 'v1', formToken: 'x'.repeat(43) },
    ];
    for (const form of forms) {
      const res = await allowAccess(app, undefined, form);
      expect(res.status).toBe(401);
      expect(setCookiesOf(res)).toEqual([]);
    }
    expect(connections.writes).toEqual([]);
  });

  it('a forged, foreign or planted-twice session cookie is no session', async () => {
    const { app, connections } = testApp();
    const real = await assistantSession(app, 'seller-a');
    const [name, value] = real.cookie.split('=') as [string, string];
    const [body, mac] = value.split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${name}=${Buffer.from(JSON.stringify({ ...payload, s: 'victim' })).toString('base64url')}.${mac}`;
    const otherKey = testApp({ env: { STATE_SIGNING_KEY: 'another-state-signing-key-0123456789abcdef' } });
    const foreign = (await assistantSession(otherKey.app, 'victim')).cookie;
    const consentTicket = createConsentCookies(STATE_KEY, {
      ttlMs: 3_600_000,
      publicBaseUrl: PUBLIC_BASE_URL,
    }).issue({
      sellerId: 'victim',
      appVersion: 'v1',
      nonce: 'n'.repeat(32),
      consentUrl: INSTALL_V1,
    }).value;
    const calls = statusCalls(connections).length;
    for (const cookie of [
      forged,
      foreign,
      `${name}=${consentTicket}`,
      `${real.cookie}; ${real.cookie}`,
      `otto-assistant=${value}`, // the http name on an https deployment
    ]) {
      expect((await request(app).get('/assistant/otto').set('Cookie', cookie)).status).toBe(401);
      expect((await allowAccess(app, { cookie }, { formToken: real.formToken })).status).toBe(401);
    }
    expect(statusCalls(connections).length).toBe(calls);
    expect(connections.writes).toEqual([]);
  });
});

describe('a session for seller A can do nothing for seller B', () => {
  it('the assistant shows A; ?sellerId=A is accepted, ?sellerId=B refused (403) without asking about B', async () => {
    const { app, connections } = testApp();
    connections.setSeller('seller-a', { state: 'active', partnerId: 'P-A' });
    connections.setSeller('seller-b', { state: 'active', partnerId: 'P-B' });
    const a = await assistantSession(app, 'seller-a');
    const page = await request(app).get('/assistant/otto').set('Cookie', a.cookie);
    expect(page.text).toContain('P-A');
    // The code callback's redirect names the seller; the same seller is fine.
    const named = await request(app).get('/assistant/otto?sellerId=seller-a').set('Cookie', a.cookie);
    expect(named.status).toBe(200);
    expect(named.text).toContain('P-A');
    for (const query of [
      '?sellerId=seller-b',
      '?sellerId=%3Cscript%3E',
      '?sellerId=seller-a&sellerId=seller-b',
    ]) {
      const res = await request(app).get(`/assistant/otto${query}`).set('Cookie', a.cookie);
      expect([400, 403]).toContain(res.status);
      expect(res.text).not.toContain('P-B');
      expect(res.text).not.toContain('<script>');
    }
    expect(statusCalls(connections)).not.toContain('seller-b');
  });

  it('"Allow access" starts consent for A only; a seller id in the form is refused', async () => {
    const { app, connections } = testApp();
    const a = await assistantSession(app, 'seller-a');
    expect(a.formToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const refused = await allowAccess(app, a, {
      formToken: a.formToken,
      sellerId: 'seller-b',
      appVersion: 'v1',
    });
    expect(refused.status).toBe(400);
    // The page says it in the seller's words; asked for JSON, the refusal names the field.
    expect(refused.text).toContain('validation_failed');
    const named = await allowAccess(app, a, {
      formToken: a.formToken,
      sellerId: 'seller-b',
      appVersion: 'v1',
    }).set('Accept', 'application/json');
    expect(errorOf(named).message).toContain('sellerId');
    expect(connections.writes).toEqual([]);

    const res = await allowAccess(app, a, { formToken: a.formToken, appVersion: 'v1' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(INSTALL_V1);
    expect(beginConsents(connections).map((i) => i.sellerId)).toEqual(['seller-a']);
  });

  it('the form token is bound to its session: B’s token with A’s cookie, or A’s with B’s, is refused (403)', async () => {
    const { app, connections } = testApp();
    const a = await assistantSession(app, 'seller-a');
    const b = await assistantSession(app, 'seller-b');
    const a2 = await assistantSession(app, 'seller-a');
    expect(a.formToken).not.toBe(b.formToken);
    // Another session of the same seller has another token too.
    expect(a.formToken).not.toBe(a2.formToken);
    for (const [session, token] of [
      [a, b.formToken],
      [b, a.formToken],
      [a, a2.formToken],
      [a, `${a.formToken.slice(0, -1)}${a.formToken.endsWith('A') ? 'B' : 'A'}`],
      [a, 'short'],
    ] as const) {
      const res = await allowAccess(app, session, { formToken: token, appVersion: 'v1' });
      expect(res.status).toBe(403);
      expect(res.text).toContain('does not belong to the OTTO Market settings open in this browser');
      expect(setCookiesOf(res)).toEqual([]);
    }
    const missing = await allowAccess(app, a, { appVersion: 'v1' }).set('Accept', 'application/json');
    expect(missing.status).toBe(400);
    expect(errorOf(missing).message).toMatch(/^body\.formToken: /);
    expect(connections.writes).toEqual([]);
  });

  it('keeps the Origin check and the form-only rule', async () => {
    const { app, connections } = testApp();
    const a = await assistantSession(app, 'seller-a');
    const cross = await request(app)
      .post('/assistant/otto/allow-access')
      .type('form')
      .set('Origin', 'https://evil.example')
      .set('Cookie', a.cookie)
      .send({ formToken: a.formToken, appVersion: 'v1' });
    expect(cross.status).toBe(403);
    expect(cross.text).toContain('only be sent from the assistant page');
    const asJson = await request(app)
      .post('/assistant/otto/allow-access')
      .set('Origin', PUBLIC_BASE_URL)
      .set('Cookie', a.cookie)
      .send({ formToken: a.formToken, appVersion: 'v1' });
    expect(asJson.status).toBe(415);
    expect(connections.writes).toEqual([]);
  });
});

describe('the page', () => {
  it('renders the form token and no seller id in the forms', async () => {
    const { app, connections } = testApp();
    connections.setSeller('seller-a', { state: 'consent_expired', appVersion: null });
    const a = await assistantSession(app, 'seller-a');
    const page = (await request(app).get('/assistant/otto').set('Cookie', a.cookie)).text;
    expect(formTokenOf(page)).toBe(a.formToken);
    expect(page).toMatch(/<form method="post" action="\/assistant\/otto\/allow-access" target="_top">/);
    expect(page).not.toContain('name="sellerId"');
  });
});

describe('the session’s app version and invitation link', () => {
  it('"Allow access" uses them; a version chosen in the form wins, and the invitation only fits its version', async () => {
    const { app, connections, sealer } = testApp();
    const s = await assistantSession(app, 'seller-p', {
      body: { appVersion: 'v2', invitationUrl: INVITATION },
    });
    const res = await allowAccess(app, s, { formToken: s.formToken });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(INVITATION);
    const [input] = beginConsents(connections);
    expect(input).toMatchObject({ sellerId: 'seller-p', appVersion: 'v2', invitationRequired: true });
    expect(
      sealer.unseal(input!.sealedInvitationUrl!, { purpose: 'invitation-url', sellerId: 'seller-p' }),
    ).toBe(INVITATION);

    const v1 = await allowAccess(app, s, { formToken: s.formToken, appVersion: 'v1' });
    expect(v1.headers.location).toBe(INSTALL_V1);
    expect(beginConsents(connections)[1]).toMatchObject({ appVersion: 'v1' });
    expect(beginConsents(connections)[1]!.sealedInvitationUrl).toBeUndefined();
  });

  it('without options: the newest app (private v2 here) needs an invitation link → a clear 400 page', async () => {
    const { app, connections } = testApp();
    const s = await assistantSession(app, 'seller-q');
    const res = await allowAccess(app, s, { formToken: s.formToken });
    expect(res.status).toBe(400);
    expect(res.text).toContain('invitation link');
    expect(consentCookieSet(res)).toBeUndefined();
    expect(connections.sellers.has('seller-q')).toBe(false);
  });
});

describe('consent starts are rate-limited per session and per address', () => {
  it('by default 10 per 10 minutes: the 11th is a 429 page with Retry-After, and starts nothing', async () => {
    const { app, connections } = testApp();
    const s = await assistantSession(app, 'seller-r');
    for (let i = 0; i < 10; i++) {
      expect((await allowAccess(app, s, { formToken: s.formToken, appVersion: 'v1' })).status).toBe(303);
    }
    const limited = await allowAccess(app, s, { formToken: s.formToken, appVersion: 'v1' });
    expect(limited.status).toBe(429);
    expect(limited.type).toBe('text/html');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(590);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(600);
    expect(limited.text).toContain('clicked too often');
    expect(setCookiesOf(limited)).toEqual([]);
    expect(beginConsents(connections)).toHaveLength(10);
  });

  it('a session is limited whatever its address, and an address whatever its sessions', async () => {
    const { app, connections } = testApp({
      env: { TRUST_PROXY: '1' },
      consentStartLimit: { max: 3, windowMs: 60_000 },
    });
    const from = (ip: string, s: TestAssistantSession) =>
      allowAccess(app, s, { formToken: s.formToken, appVersion: 'v1' }).set('X-Forwarded-For', ip);

    // One session from rotating addresses.
    const one = await assistantSession(app, 'seller-s');
    const rotating = [];
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'])
      rotating.push((await from(ip, one)).status);
    expect(rotating).toEqual([303, 303, 303, 429]);

    // Fresh sessions from one address.
    const fresh = [];
    for (let i = 0; i < 4; i++)
      fresh.push((await from('203.0.113.9', await assistantSession(app, `seller-t${i}`))).status);
    expect(fresh).toEqual([303, 303, 303, 429]);
    // Another address with a fresh session is not affected.
    expect((await from('203.0.113.10', await assistantSession(app, 'seller-u'))).status).toBe(303);
    expect(beginConsents(connections)).toHaveLength(7);
  });
});

describe('ASSISTANT_FRAME_ANCESTORS', () => {
  const frameAncestors = (res: { headers: Record<string, unknown> }) =>
    /frame-ancestors ([^;]*)/.exec(String(res.headers['content-security-policy']))?.[1];

  it("defaults to 'self' on the assistant pages", async () => {
    const { app } = testApp();
    const s = await assistantSession(app, 'seller-a');
    expect(frameAncestors(await request(app).get('/assistant/otto').set('Cookie', s.cookie))).toBe("'self'");
    expect(frameAncestors(await request(app).get('/assistant/otto'))).toBe("'self'");
  });

  it('lets the shop’s admin UI embed the assistant pages, and only those', async () => {
    const { app } = testApp({
      env: { ASSISTANT_FRAME_ANCESTORS: 'https://admin.shop.test, https://*.shop.test' },
    });
    const link = bodyOf<{ url: string }>(await createLink(app, 'seller-a')).url;
    const opened = await openWith(app, link);
    const cookie = consentCookieSet(opened, '__Host-otto-assistant')!.cookie;
    const expected = 'https://admin.shop.test https://*.shop.test';
    for (const res of [
      opened,
      await request(app).get('/assistant/otto').set('Cookie', cookie),
      await request(app).get('/assistant/otto'), // the 401 page shows inside the frame too
    ]) {
      expect(frameAncestors(res)).toBe(expected);
      // The rest of the policy is unchanged.
      expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
    }
    expect(frameAncestors(await request(app).get('/api/docs'))).toBe("'self'");
    expect(frameAncestors(await request(app).get('/oauth/callback'))).toBe("'self'");
  });

  it.each([
    "https://admin.shop.test; script-src 'unsafe-inline'",
    'https://admin.shop.test/path',
    'javascript:alert(1)',
    "'none' https://admin.shop.test",
    '*',
  ])('refuses %j at start, naming the variable', (value) => {
    expect(() => testConfig({ ASSISTANT_FRAME_ANCESTORS: value })).toThrow(/ASSISTANT_FRAME_ANCESTORS/);
  });

  it('accepts origins, wildcards and keywords', () => {
    expect(
      testConfig({ ASSISTANT_FRAME_ANCESTORS: "'self' https://admin.shop.test:8443" })
        .ASSISTANT_FRAME_ANCESTORS,
    ).toBe("'self' https://admin.shop.test:8443");
    expect(testConfig({ ASSISTANT_FRAME_ANCESTORS: "'none'" }).ASSISTANT_FRAME_ANCESTORS).toBe("'none'");
    expect(testConfig().ASSISTANT_FRAME_ANCESTORS).toBe("'self'");
    expect(testConfig({ ASSISTANT_FRAME_ANCESTORS: '' }).ASSISTANT_FRAME_ANCESTORS).toBe("'self'");
  });
});
