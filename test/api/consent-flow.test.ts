/**
 * Connecting the way OTTO does it (docs/otto-api.md §2, docs/design.md §2): "Allow access" binds the browser with a
 * signed cookie and opens OTTO's installation (or invitation) link; OTTO's parameterless redirect after
 * the installation is recognised by that cookie and sent on to /oauth2/auth with our signed state; the
 * code callback needs state, cookie and issuer to agree. Against createApp() and the recording fake.
 */
import { join } from 'node:path';
import request from 'supertest';
import type { App } from 'supertest/types';
import { pkceChallenge } from '../../common/oauth';
import type { AuthorizationCallback, BeginConsentInput } from '../../workflows/definitions';
import type { SellerStore } from '../../store/seller-store';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { tempDirs } from '../support/temp-dirs';
import {
  ADMIN_KEY,
  INSTALL_V1,
  OTTO_AUTH,
  OTTO_ISSUER,
  PUBLIC_BASE_URL,
  bodyOf,
  consentCookie,
  consentCookieSet,
  errorOf,
  assistantSession,
  setCookiesOf,
  testApp,
  validState,
} from './test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
/** The app's clock starts at the real time, so cookies and states the helpers issue are fresh. */
const T0 = Date.now();
const HOUR = 3_600_000;
const INVITATION = `${OTTO_AUTH}/opc/apps/app-v2/invitation?token=inv-0001`;
const CALLBACK = `${PUBLIC_BASE_URL}/oauth/callback`;

/** A test app on a clock the test moves. */
function clockedApp(env: Record<string, string> = {}) {
  const clock = { now: T0 };
  return { ...testApp({ env, now: () => clock.now }), clock };
}

/** "Allow access" in the assistant, in a browser that opened an assistant session for `sellerId` first. */
async function allowAccess(
  app: App,
  { sellerId, ...form }: { sellerId: string; appVersion?: string },
  origin = PUBLIC_BASE_URL,
) {
  const session = await assistantSession(app, sellerId);
  return await request(app)
    .post('/assistant/otto/allow-access')
    .type('form')
    .set('Origin', origin)
    .set('Cookie', session.cookie)
    .send({ ...form, formToken: session.formToken });
}

const beginInputs = (connections: { writes: { method: string; args: unknown[] }[] }) =>
  connections.writes.filter((c) => c.method === 'beginConsent').map((c) => c.args[0] as BeginConsentInput);

/** The query of a redirect to OTTO's login, as a plain object (every parameter once). */
function authorizeQuery(location: string | undefined): Record<string, string> {
  const url = new URL(location!);
  expect(`${url.origin}${url.pathname}`).toBe(`${OTTO_AUTH}/oauth2/auth`);
  const keys = [...url.searchParams.keys()];
  expect(new Set(keys).size).toBe(keys.length);
  return Object.fromEntries(url.searchParams);
}

describe('"Allow access" binds the browser and opens the installation link', () => {
  it('over https: a __Host- cookie, Secure, HttpOnly, SameSite=Lax, Path=/, bound to this consent', async () => {
    const { app, connections, sealer, consentCookies } = clockedApp();
    const res = await allowAccess(app, { sellerId: 's-1', appVersion: 'v1' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(INSTALL_V1);

    const set = consentCookieSet(res, '__Host-otto-consent');
    expect(set).toBeDefined();
    expect(set!.attributes).toEqual(
      expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure', 'Max-Age=3600']),
    );
    expect(set!.attributes.some((a) => /^domain=/i.test(a))).toBe(false); // __Host- forbids Domain
    expect(setCookiesOf(res)).toHaveLength(1);

    const [input] = beginInputs(connections);
    expect(input).toMatchObject({ sellerId: 's-1', appVersion: 'v1' });
    expect(input!.invitationRequired).toBeUndefined();
    expect(consentCookies.verify(set!.value)).toEqual({
      ok: true,
      binding: {
        sellerId: 's-1',
        appVersion: 'v1',
        nonce: input!.nonce,
        expiresAt: T0 + HOUR,
        codeChallenge: pkceChallenge(
          sealer.unseal(input!.sealedPkceVerifier!, { purpose: 'pkce-verifier', sellerId: 's-1' }),
        ),
        consentUrl: INSTALL_V1,
      },
    });
  });

  it('over plain http (PUBLIC_BASE_URL=http://…): the plain name, without Secure', async () => {
    const base = 'http://connect.shop.test';
    const { app } = clockedApp({ PUBLIC_BASE_URL: base, CONSENT_COOKIE_TTL: '20m' });
    const res = await allowAccess(app, { sellerId: 's-2', appVersion: 'v1' }, base);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(INSTALL_V1);
    expect(consentCookieSet(res, '__Host-otto-consent')).toBeUndefined();
    const set = consentCookieSet(res, 'otto-consent')!;
    expect(set.attributes).toEqual(
      expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Max-Age=1200']),
    );
    expect(set.attributes).not.toContain('Secure');

    // That deployment reads its own cookie name, and only that one.
    const consent = await request(app).get('/oauth/callback').set('Cookie', set.cookie);
    expect(consent.status).toBe(303);
    expect(authorizeQuery(consent.headers.location).redirect_uri).toBe(`${base}/oauth/callback`);
    const other = await request(app)
      .get('/oauth/callback')
      .set('Cookie', `__Host-otto-consent=${set.value}`)
      .set('Accept', 'application/json');
    expect(errorOf(other).code).toBe('callback_no_consent_cookie');
  });

  it('clicked again: a new nonce and a new cookie, the old one no longer matches the new consent', async () => {
    const { app, connections, consentCookies } = clockedApp();
    const first = consentCookieSet(await allowAccess(app, { sellerId: 's-3', appVersion: 'v1' }))!;
    const second = consentCookieSet(await allowAccess(app, { sellerId: 's-3', appVersion: 'v1' }))!;
    const [a, b] = beginInputs(connections);
    expect(a!.nonce).not.toBe(b!.nonce);
    expect(consentCookies.verify(first.value)).toMatchObject({ binding: { nonce: a!.nonce } });
    expect(consentCookies.verify(second.value)).toMatchObject({ binding: { nonce: b!.nonce } });
  });
});

describe('private apps: the invitation link', () => {
  it('the admin starts consent with an invitation link; "Allow access" then opens that link', async () => {
    const { app, connections, sealer, consentCookies } = clockedApp();
    connections.setSeller('s-4', { state: 'active', appVersion: 'v1', upgradeAvailable: true });
    const started = await request(app)
      .post('/api/sellers/s-4/connection')
      .set(admin)
      .send({ appVersion: 'v2', invitationUrl: INVITATION });
    expect(started.status).toBe(201);
    const body = bodyOf<{ authorizeUrl: string; installationUrl: string; linkExpiresAt: string }>(started);
    expect(body.installationUrl).toBe(INVITATION);
    expect(body.linkExpiresAt).toBe(new Date(T0 + HOUR).toISOString());
    const [adminInput] = beginInputs(connections);
    expect(adminInput).toMatchObject({ appVersion: 'v2', invitationRequired: true });
    expect(
      sealer.unseal(adminInput!.sealedInvitationUrl!, { purpose: 'invitation-url', sellerId: 's-4' }),
    ).toBe(INVITATION);
    expect(JSON.stringify(adminInput)).not.toContain('inv-0001');

    // The admin's link opens the invitation link too.
    const link = new URL(body.authorizeUrl);
    const start = await request(app).get(`${link.pathname}${link.search}`);
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe(INVITATION);

    // The seller clicks "Allow access" in the shop: the workflow kept the invitation link.
    const res = await allowAccess(app, { sellerId: 's-4', appVersion: 'v2' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(INVITATION);
    const [, sellerInput] = beginInputs(connections);
    expect(sellerInput).toMatchObject({ appVersion: 'v2', invitationRequired: true });
    expect(sellerInput!.sealedInvitationUrl).toBeUndefined();
    expect(consentCookies.verify(consentCookieSet(res)!.value)).toMatchObject({
      ok: true,
      binding: { sellerId: 's-4', appVersion: 'v2', nonce: sellerInput!.nonce, consentUrl: INVITATION },
    });
  });

  it('without an invitation link (given or kept): 400 from the API and a clear page in the assistant', async () => {
    const { app, connections } = clockedApp();
    const api = await request(app).post('/api/sellers/s-5/connection').set(admin).send({ appVersion: 'v2' });
    expect(api.status).toBe(400);
    expect(errorOf(api).code).toBe('invalid_input');
    expect(errorOf(api).message).toContain('invitation link (invitationUrl)');
    expect(setCookiesOf(api)).toEqual([]);

    const page = await allowAccess(app, { sellerId: 's-5' });
    expect(page.status).toBe(400);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('private OTTO app');
    expect(setCookiesOf(page)).toEqual([]);
    // Refused by the workflow's validator: nothing started.
    expect(connections.sellers.has('s-5')).toBe(false);
    expect(connections.signals).toEqual([]);
  });

  it('an invitation link kept for v2 is not used for another version', async () => {
    const { app } = clockedApp();
    expect(
      (
        await request(app)
          .post('/api/sellers/s-6/connection')
          .set(admin)
          .send({ appVersion: 'v2', invitationUrl: INVITATION })
      ).status,
    ).toBe(201);
    const v1 = await allowAccess(app, { sellerId: 's-6', appVersion: 'v1' });
    expect(v1.headers.location).toBe(INSTALL_V1);
  });

  it('a kept invitation link sealed for another seller is refused with 409, never opened', async () => {
    const { app, connections, sealer } = clockedApp();
    const start = (body: object) => request(app).post('/api/sellers/s-30/connection').set(admin).send(body);
    expect((await start({ appVersion: 'v2', invitationUrl: INVITATION })).status).toBe(201);
    // What the workflow holds for s-30 was sealed for s-31 (moved between sellers' workflows).
    connections['invitations'].set(
      's-30',
      sealer.seal(`${INVITATION}-of-s-31`, { purpose: 'invitation-url', sellerId: 's-31' }),
    );
    const res = await start({ appVersion: 'v2' });
    expect(res.status).toBe(409);
    expect(errorOf(res).code).toBe('invitation_url_unusable');
    expect(errorOf(res).message).toContain('sealed for another seller or purpose');
    expect(JSON.stringify(res.body)).not.toContain('of-s-31');
  });

  it.each([
    ['another site', 'https://evil.example/opc/apps/app-v2/invitation?token=x'],
    ['a look-alike host', 'https://otto-auth.test.evil.example/invitation'],
    ['the auth host over http', 'http://otto-auth.test/invitation'],
    ['the auth host on another port', 'https://otto-auth.test:8443/invitation'],
  ])('an invitation link on %s is refused with 400 before anything starts', async (_name, invitationUrl) => {
    const { app, connections } = clockedApp();
    const res = await request(app)
      .post('/api/sellers/s-7/connection')
      .set(admin)
      .send({ appVersion: 'v2', invitationUrl });
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('invalid_invitation_url');
    expect(connections.writes).toEqual([]);
  });

  it('the longest invitation link the API accepts still makes a working consent link and cookie', async () => {
    const { app } = clockedApp();
    const longest = `${OTTO_AUTH}/opc/invitation?token=`.padEnd(2048, 'A');
    const started = await request(app)
      .post(`/api/sellers/${'s'.repeat(64)}/connection`)
      .set(admin)
      .send({ appVersion: 'v2', invitationUrl: longest });
    expect(started.status).toBe(201);
    const link = new URL(bodyOf<{ authorizeUrl: string }>(started).authorizeUrl);
    const start = await request(app).get(`${link.pathname}${link.search}`);
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe(longest);
    const consent = await request(app).get('/oauth/callback').set('Cookie', consentCookieSet(start)!.cookie);
    expect(consent.status).toBe(303);
  });

  it.each([
    ['non-ASCII characters', `${OTTO_AUTH}/opc/invitation?token=`.padEnd(1200, 'ü')],
    ['quotes', `${OTTO_AUTH}/opc/invitation?token="x"`],
    ['spaces', `${OTTO_AUTH}/opc/invitation?token=a b`],
    ['angle brackets', `${OTTO_AUTH}/opc/invitation?token=<b>`],
  ])('an invitation link with %s is refused as the body error it is', async (_name, invitationUrl) => {
    const { app, connections } = clockedApp();
    const res = await request(app)
      .post('/api/sellers/s-7b/connection')
      .set(admin)
      .send({ appVersion: 'v2', invitationUrl });
    expect(res.status).toBe(400);
    expect(errorOf(res).message).toMatch(/^body\.invitationUrl: /);
    expect(connections.writes).toEqual([]);
  });

  it('OTTO_PORTAL_BASE_URL sets where invitation links must point', async () => {
    const portal = 'https://portal.otto.test';
    const { app, connections } = clockedApp({ OTTO_PORTAL_BASE_URL: portal });
    const onAuth = await request(app)
      .post('/api/sellers/s-8/connection')
      .set(admin)
      .send({ appVersion: 'v2', invitationUrl: INVITATION });
    expect(errorOf(onAuth).code).toBe('invalid_invitation_url');
    const onPortal = await request(app)
      .post('/api/sellers/s-8/connection')
      .set(admin)
      .send({ appVersion: 'v2', invitationUrl: `${portal}/apps/app-v2/invitation?token=1` });
    expect(onPortal.status).toBe(201);
    expect(beginInputs(connections)).toHaveLength(1);
    // The CSP lets "Allow access" go on to the portal.
    expect(onPortal.headers['content-security-policy']).toContain(portal);
  });
});

describe("GET /oauth/start: the admin's one-time consent link", () => {
  it('sets the cookie and redirects to the installation link, never cached', async () => {
    const { app, consentCookies } = clockedApp();
    const started = await request(app)
      .post('/api/sellers/s-9/connection')
      .set(admin)
      .send({ appVersion: 'v1' });
    const link = new URL(bodyOf<{ authorizeUrl: string }>(started).authorizeUrl);
    const ticket = link.searchParams.get('ticket')!;
    const res = await request(app).get('/oauth/start').query({ ticket });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(INSTALL_V1);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const set = consentCookieSet(res)!;
    expect(set.attributes).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure']));
    expect(consentCookies.verify(set.value)).toMatchObject({ ok: true, binding: { sellerId: 's-9' } });
    // The ticket and the cookie carry the same binding under different keys: neither passes as the other.
    expect(set.value).not.toBe(ticket);
    expect(consentCookies.verify(ticket)).toEqual({ ok: false, reason: 'invalid' });
    expect(consentCookies.verifyTicket(set.value)).toEqual({ ok: false, reason: 'invalid' });
  });

  it("a seller's own consent cookie is no consent link: copied out of the browser and sent to someone, it opens nothing", async () => {
    const { app, connections } = clockedApp();
    const clicked = await allowAccess(app, { sellerId: 's-b', appVersion: 'v1' });
    const copied = consentCookieSet(clicked)!.value;
    const res = await request(app).get('/oauth/start').query({ ticket: copied });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-reason="invalid_consent_link"');
    expect(setCookiesOf(res)).toEqual([]);
    expect(beginInputs(connections)).toHaveLength(1);
  });

  it('refuses a forged or expired ticket with a 400 page and sets no cookie', async () => {
    const { app, clock } = clockedApp();
    const started = await request(app)
      .post('/api/sellers/s-10/connection')
      .set(admin)
      .send({ appVersion: 'v1' });
    const ticket = new URL(bodyOf<{ authorizeUrl: string }>(started).authorizeUrl).searchParams.get(
      'ticket',
    )!;

    // Another seller's id in the payload, signature kept.
    const [payload, mac] = ticket.split('.') as [string, string];
    const swapped = Buffer.from(
      Buffer.from(payload, 'base64url').toString().replace('"s-10"', '"s-11"'),
    ).toString('base64url');
    const forged = await request(app)
      .get('/oauth/start')
      .query({ ticket: `${swapped}.${mac}` });
    expect(forged.status).toBe(400);
    expect(forged.type).toBe('text/html');
    expect(forged.text).toContain('data-reason="invalid_consent_link"');
    expect(setCookiesOf(forged)).toEqual([]);

    clock.now = T0 + HOUR - 1;
    expect((await request(app).get('/oauth/start').query({ ticket })).status).toBe(303);
    clock.now = T0 + HOUR;
    const expired = await request(app)
      .get('/oauth/start')
      .query({ ticket })
      .set('Accept', 'application/json');
    expect(expired.status).toBe(400);
    expect(errorOf(expired).code).toBe('callback_invalid_consent_link');
    expect(setCookiesOf(expired)).toEqual([]);
  });

  describe('works in one browser: the first opening spends it, across API replicas and restarts', () => {
    let dir: string;
    const stores: SellerStore[] = [];
    const openStore = () => {
      const store = openSqliteSellerStore(join(dir, 'seller-store.db'));
      stores.push(store);
      return store;
    };
    const newDir = tempDirs('consent-links-');
    beforeEach(() => {
      dir = newDir();
    });
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });
    const ticketFor = async (app: App, sellerId: string) =>
      new URL(
        bodyOf<{ authorizeUrl: string }>(
          await request(app)
            .post(`/api/sellers/${sellerId}/connection`)
            .set(admin)
            .send({ appVersion: 'v1' }),
        ).authorizeUrl,
      ).searchParams.get('ticket')!;

    it('another browser (or replica, or the API after a restart) is refused; the bound browser may reopen it', async () => {
      const a = testApp({ store: openStore() });
      const b = testApp({ store: openStore() });
      const ticket = await ticketFor(a.app, 's-20');
      // HEAD (a mail scanner, a link preview) spends nothing and binds no browser.
      const head = await request(b.app).head('/oauth/start').query({ ticket });
      expect(head.status).toBe(200);
      expect(setCookiesOf(head)).toEqual([]);
      const first = await request(b.app).get('/oauth/start').query({ ticket });
      expect(first.status).toBe(303);
      const cookie = consentCookieSet(first)!;
      // The same browser again (its back button; it sends the cookie the link set): on to OTTO again.
      const back = await request(a.app).get('/oauth/start').query({ ticket }).set('Cookie', cookie.cookie);
      expect(back.status).toBe(303);
      expect(back.headers.location).toBe(INSTALL_V1);
      // Another browser, on either replica or on a restarted one: refused, no cookie.
      for (const app of [a.app, b.app, testApp({ store: openStore() }).app]) {
        const other = await request(app).get('/oauth/start').query({ ticket });
        expect(other.status).toBe(400);
        expect(other.text).toContain('data-reason="consent_link_used"');
        expect(setCookiesOf(other)).toEqual([]);
      }
      const json = await request(a.app)
        .get('/oauth/start')
        .query({ ticket })
        .set('Accept', 'application/json');
      expect(errorOf(json).code).toBe('callback_consent_link_used');
      expect(
        await a.metrics.registry.getSingleMetricAsString('otto_connect_oauth_callbacks_total'),
      ).toContain('reason="consent_link_used"');
      // A new consent link for the seller is a new link.
      expect(
        (
          await request(b.app)
            .get('/oauth/start')
            .query({ ticket: await ticketFor(b.app, 's-20') })
        ).status,
      ).toBe(303);
    });

    it('opened in two browsers at once: one gets the cookie', async () => {
      const apps = [testApp({ store: openStore() }).app, testApp({ store: openStore() }).app];
      const ticket = await ticketFor(apps[0]!, 's-21');
      const answers = await Promise.all(
        [0, 1, 0, 1].map((i) => request(apps[i]!).get('/oauth/start').query({ ticket })),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([303, 400, 400, 400]);
      expect(answers.filter((r) => setCookiesOf(r).length > 0)).toHaveLength(1);
    });

    it('a store that cannot be reached: 503, the link stays unopened', async () => {
      const real = openStore();
      let down = true;
      const flaky = Object.create(real) as SellerStore;
      flaky.spendOneTimeId = (...args) =>
        down ? Promise.reject(new Error('connect ECONNREFUSED')) : real.spendOneTimeId(...args);
      const { app } = testApp({ store: flaky });
      const ticket = await ticketFor(app, 's-22');
      const refused = await request(app)
        .get('/oauth/start')
        .query({ ticket })
        .set('Accept', 'application/json');
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(errorOf(refused).code).toBe('consent_link_unchecked');
      expect(setCookiesOf(refused)).toEqual([]);
      down = false;
      expect((await request(app).get('/oauth/start').query({ ticket })).status).toBe(303);
    });
  });
});

describe('the consent callback (OTTO redirects without parameters after the installation)', () => {
  it('without our cookie: a clear page telling the seller to start again, nothing asked of the workflow', async () => {
    const { app, connections, metrics } = clockedApp();
    const res = await request(app).get('/oauth/callback');
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('data-reason="no_consent_cookie"');
    expect(res.text).toContain('We could not tell which shop seller this browser belongs to');
    expect(res.text).toContain(
      'go back to the OTTO Market settings in your shop and click “Allow access” again',
    );
    expect(setCookiesOf(res)).toEqual([]);
    expect(connections.calls).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('otto_connect_oauth_callbacks_total')).toContain(
      'reason="no_consent_cookie"} 1',
    );
  });

  it('with an expired cookie: the same refusal', async () => {
    const { app, connections, clock } = clockedApp();
    const { cookie } = consentCookieSet(await allowAccess(app, { sellerId: 's-12', appVersion: 'v1' }))!;
    clock.now = T0 + HOUR;
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('callback_no_consent_cookie');
    expect(connections.signals).toEqual([]);
  });

  it("with our cookie: on to OTTO's login with a state that verifies, the cookie's challenge and redirect_uri", async () => {
    const { app, connections, sealer, stateSigner } = clockedApp();
    const { cookie } = consentCookieSet(await allowAccess(app, { sellerId: 's-13', appVersion: 'v1' }))!;
    const [input] = beginInputs(connections);
    const callsBefore = connections.calls.length;

    // Other cookies of the shop next to ours, and parameters OTTO might add, change nothing.
    const res = await request(app)
      .get('/oauth/callback')
      .query({ utm_source: 'opc' })
      .set('Cookie', `shop-session=abc; ${cookie}; theme=dark`);
    expect(res.status).toBe(303);
    expect(res.headers['cache-control']).toBe('no-store');
    const query = authorizeQuery(res.headers.location);
    expect(Object.keys(query).sort()).toEqual(
      [
        'client_id',
        'code_challenge',
        'code_challenge_method',
        'redirect_uri',
        'response_type',
        'scope',
        'state',
      ].sort(),
    );
    expect(query).toMatchObject({
      response_type: 'code',
      client_id: 'client-v1',
      redirect_uri: CALLBACK,
      scope: 'installation partnerId',
      code_challenge: pkceChallenge(
        sealer.unseal(input!.sealedPkceVerifier!, { purpose: 'pkce-verifier', sellerId: 's-13' }),
      ),
      code_challenge_method: 'S256',
    });
    expect(stateSigner.verify(query.state!)).toEqual({
      ok: true,
      state: { sellerId: 's-13', appVersion: 'v1', nonce: input!.nonce, expiresAt: T0 + 15 * 60_000 },
    });
    // The cookie stays for the code callback; the workflow is neither asked nor told anything.
    expect(setCookiesOf(res)).toEqual([]);
    expect(connections.calls.length).toBe(callsBefore);
  });

  it('uses the client id of the app version the cookie names', async () => {
    const { app } = clockedApp();
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', consentCookie('s-14', 'n'.repeat(32), 'v2'));
    expect(authorizeQuery(res.headers.location).client_id).toBe('client-v2');
  });

  it('a cookie for an app version this deployment no longer offers is refused', async () => {
    const { app } = clockedApp({
      OTTO_APPS: JSON.stringify([
        { version: 'v1', appId: 'a', clientId: 'c', clientSecret: 's', installationUrl: INSTALL_V1 },
      ]),
    });
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', consentCookie('s-15', 'n'.repeat(32), 'v2'))
      .set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('callback_connection_ended');
  });

  it('OTTO_PKCE=off: no verifier for the workflow, no challenge in the cookie or on /oauth2/auth', async () => {
    const { app, connections, consentCookies } = clockedApp({ OTTO_PKCE: 'off' });
    const set = consentCookieSet(await allowAccess(app, { sellerId: 's-16', appVersion: 'v1' }))!;
    const [input] = beginInputs(connections);
    expect(input).not.toHaveProperty('sealedPkceVerifier');
    expect(consentCookies.verify(set.value)).toEqual({
      ok: true,
      binding: {
        sellerId: 's-16',
        appVersion: 'v1',
        nonce: input!.nonce,
        expiresAt: T0 + HOUR,
        consentUrl: INSTALL_V1,
      },
    });
    const query = authorizeQuery(
      (await request(app).get('/oauth/callback').set('Cookie', set.cookie)).headers.location,
    );
    expect(query).not.toHaveProperty('code_challenge');
    expect(query).not.toHaveProperty('code_challenge_method');
    expect(query.redirect_uri).toBe(CALLBACK);
  });

  it('OTTO_SEND_REDIRECT_URI=off: no redirect_uri on /oauth2/auth', async () => {
    const { app } = clockedApp({ OTTO_SEND_REDIRECT_URI: 'off' });
    const { cookie } = consentCookieSet(await allowAccess(app, { sellerId: 's-17', appVersion: 'v1' }))!;
    const query = authorizeQuery(
      (await request(app).get('/oauth/callback').set('Cookie', cookie)).headers.location,
    );
    expect(query).not.toHaveProperty('redirect_uri');
    expect(query.code_challenge_method).toBe('S256');
  });
});

describe('the code callback needs state, cookie and issuer to agree', () => {
  it('the whole flow: allow access → installation → consent callback → login → code accepted, cookie cleared', async () => {
    const { app, connections, sealer } = clockedApp();
    connections.setSeller('s-18', { state: 'pending_consent', appVersion: null });
    const allow = await allowAccess(app, { sellerId: 's-18', appVersion: 'v1' });
    const { cookie } = consentCookieSet(allow)!;
    const [input] = beginInputs(connections);
    const consent = await request(app).get('/oauth/callback').set('Cookie', cookie);
    const { state } = authorizeQuery(consent.headers.location);

    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({ code: 'oc_code-1', state, iss: OTTO_ISSUER, session_state: 'kc-1' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/assistant/otto');
    const cleared = consentCookieSet(res)!;
    expect(cleared.value).toBe('');
    expect(cleared.attributes).toEqual(
      expect.arrayContaining(['Max-Age=0', 'Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure']),
    );
    expect(connections.signals).toHaveLength(1);
    const [sellerId, callback] = connections.signals[0]!.args as [string, AuthorizationCallback];
    expect(sellerId).toBe('s-18');
    expect(callback.nonce).toBe(input!.nonce);
    expect(sealer.unseal(callback.sealedCode!, { purpose: 'authorization-code', sellerId: 's-18' })).toBe(
      'oc_code-1',
    );
    // Bound to this seller: the same sealed code is useless in another seller's workflow.
    expect(() =>
      sealer.unseal(callback.sealedCode!, { purpose: 'authorization-code', sellerId: 's-19' }),
    ).toThrow(/sealed for another seller or purpose/);
  });

  it("a valid state in another browser (that browser's cookie names another consent) → 400, nothing signalled", async () => {
    const { app, connections, stateSigner } = clockedApp();
    connections.setSeller('s-19', { state: 'pending_consent', appVersion: null });
    const victim = validState(stateSigner, 's-19');
    const attacker = validState(stateSigner, 's-19');
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', attacker.cookie)
      .query({ code: 'c', state: victim.state, iss: OTTO_ISSUER });
    expect(res.status).toBe(400);
    expect(res.text).toContain('data-reason="browser_mismatch"');
    expect(res.text).toContain('arrived in a different browser');
    expect(setCookiesOf(res)).toEqual([]);
    expect(connections.signals).toEqual([]);
    expect(connections.writes).toEqual([]);
  });

  it('without any cookie the code callback is refused', async () => {
    const { app, connections, stateSigner } = clockedApp();
    connections.setSeller('s-20', { state: 'pending_consent', appVersion: null });
    const { state } = validState(stateSigner, 's-20');
    const res = await request(app)
      .get('/oauth/callback')
      .query({ code: 'c', state })
      .set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('callback_browser_mismatch');
    expect(connections.signals).toEqual([]);
  });

  it('an error= callback from another browser is refused too', async () => {
    const { app, connections, stateSigner } = clockedApp();
    connections.setSeller('s-21', { state: 'pending_consent', appVersion: null });
    const { state } = validState(stateSigner, 's-21');
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', validState(stateSigner, 's-21').cookie)
      .query({ error: 'access_denied', state })
      .set('Accept', 'application/json');
    expect(errorOf(res).code).toBe('callback_browser_mismatch');
    expect(connections.signals).toEqual([]);
  });

  it('iss = the Keycloak realm URL is accepted; iss = the bare auth base URL is refused', async () => {
    const { app, connections, stateSigner } = clockedApp();
    connections.setSeller('s-22', { state: 'pending_consent', appVersion: null });
    const bare = validState(stateSigner, 's-22');
    const refused = await request(app)
      .get('/oauth/callback')
      .set('Cookie', bare.cookie)
      .query({ code: 'c', state: bare.state, iss: OTTO_AUTH })
      .set('Accept', 'application/json');
    expect(refused.status).toBe(400);
    expect(errorOf(refused).code).toBe('callback_issuer_mismatch');
    expect(connections.signals).toEqual([]);

    const realm = validState(stateSigner, 's-22');
    const accepted = await request(app)
      .get('/oauth/callback')
      .set('Cookie', realm.cookie)
      .query({ code: 'c', state: realm.state, iss: OTTO_ISSUER });
    expect(accepted.status).toBe(303);
    expect(connections.signals).toHaveLength(1);
  });

  it('OTTO_ISSUER set explicitly: that issuer is accepted and the default realm refused', async () => {
    const issuer = 'https://sso.otto.test/realms/partner';
    const { app, connections, stateSigner } = clockedApp({ OTTO_ISSUER: issuer });
    connections.setSeller('s-23', { state: 'pending_consent', appVersion: null });
    const a = validState(stateSigner, 's-23');
    const refused = await request(app)
      .get('/oauth/callback')
      .set('Cookie', a.cookie)
      .query({ code: 'c', state: a.state, iss: OTTO_ISSUER })
      .set('Accept', 'application/json');
    expect(errorOf(refused).code).toBe('callback_issuer_mismatch');
    const b = validState(stateSigner, 's-23');
    const accepted = await request(app)
      .get('/oauth/callback')
      .set('Cookie', b.cookie)
      .query({ code: 'c', state: b.state, iss: issuer });
    expect(accepted.status).toBe(303);
  });

  it('the cookie is kept after a refusal and cleared once the consent is answered (code or OTTO’s error=)', async () => {
    const { app, connections, stateSigner } = clockedApp();
    connections.setSeller('s-24', { state: 'pending_consent', appVersion: null });
    const { state, cookie } = validState(stateSigner, 's-24');
    const wrongIss = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({ code: 'c', state, iss: 'https://evil.example' });
    expect(wrongIss.status).toBe(400);
    expect(setCookiesOf(wrongIss)).toEqual([]);
    const denied = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({ error: 'access_denied', state });
    expect(denied.status).toBe(303);
    expect(consentCookieSet(denied)?.header).toMatch(/^__Host-otto-consent=; Max-Age=0;/);
    // OTTO's error= was this consent's answer: a code for it afterwards is a replay.
    const late = await request(app).get('/oauth/callback').set('Cookie', cookie).query({ code: 'c', state });
    expect(late.status).toBe(400);
    expect(late.text).toContain('already been used');
    // An error= that names something every object has (toString, __proto__) is an unknown code, in the
    // page and in JSON: before, the page said "OTTO also reported: function toString() { [native code] }".
    for (const error of ['toString', '__proto__', 'constructor']) {
      const odd = await request(app).get('/oauth/callback').set('Cookie', cookie).query({ error, state });
      expect(odd.status).toBe(400);
      expect(odd.text).toContain('an error code we do not know');
      expect(odd.text).not.toContain('native code');
      const json = await request(app)
        .get('/oauth/callback')
        .set('Cookie', cookie)
        .set('Accept', 'application/json')
        .query({ error, state });
      expect(errorOf(json).details).toEqual({
        ottoError: error,
        ottoSaid: 'OTTO refused the request with an error code we do not know.',
      });
    }

    connections.setSeller('s-25', { state: 'pending_consent', appVersion: null });
    const second = validState(stateSigner, 's-25');
    const accepted = await request(app)
      .get('/oauth/callback')
      .set('Cookie', second.cookie)
      .query({ code: 'c', state: second.state });
    expect(accepted.status).toBe(303);
    expect(consentCookieSet(accepted)?.header).toMatch(/^__Host-otto-consent=; Max-Age=0;/);
  });
});
