/**
 * Every route against createApp() with the recording fake port: what each answers, and what it asks
 * of the seller workflow.
 */
import request from 'supertest';
import { pkceChallenge } from '../../common/oauth';
import { SellerConnectionError } from '../../api/connection-errors';
import { capturingLogger } from '../support/capturing-logger';
import {
  statusViewSchema,
  statusSummaryViewSchema,
  beginConnectionResponseSchema,
  listResponseSchema,
} from '../../api/http-schemas';
import type { BeginConsentInput, AuthorizationCallback } from '../../workflows/definitions';
import {
  ADMIN_KEY,
  INSTALL_V1,
  OTTO_AUTH,
  OTTO_ISSUER,
  PUBLIC_BASE_URL,
  SUPPORT_KEY,
  bodyOf,
  consentCookie,
  consentCookieSet,
  errorOf,
  setCookiesOf,
  assistantSession,
  testApp,
  validState,
} from './test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const support = { Authorization: `Bearer ${SUPPORT_KEY}` };

describe('POST /api/sellers/:sellerId/connection', () => {
  it('begins consent with a sealed PKCE verifier and answers our one-time link to OTTO’s installation page', async () => {
    const { app, connections, sealer, stateSigner, consentCookies } = testApp();
    const res = await request(app)
      .post('/api/sellers/s-1001/connection')
      .set(admin)
      .send({ appVersion: 'v1' });
    expect(res.status).toBe(201);
    const body = beginConnectionResponseSchema.parse(res.body);
    expect(body).toMatchObject({
      state: 'pending_consent',
      appVersion: 'v1',
      installationUrl: INSTALL_V1,
      consentDeadline: '2030-01-02T00:00:00.000Z',
    });

    expect(connections.writes).toHaveLength(1);
    const [input] = connections.writes[0]!.args as [BeginConsentInput];
    expect(input.sellerId).toBe('s-1001');
    expect(input.invitationRequired).toBeUndefined();
    expect(input.sealedPkceVerifier).toMatch(/^v2\.t1\./);
    const verifier = sealer.unseal(input.sealedPkceVerifier!, {
      purpose: 'pkce-verifier',
      sellerId: 's-1001',
    });

    // authorizeUrl is ours: its ticket is the signed browser binding of this very consent.
    const link = new URL(body.authorizeUrl);
    expect(`${link.origin}${link.pathname}`).toBe(`${PUBLIC_BASE_URL}/oauth/start`);
    expect([...link.searchParams.keys()]).toEqual(['ticket']);
    const ticket = consentCookies.verifyTicket(link.searchParams.get('ticket')!);
    expect(ticket).toEqual({
      ok: true,
      binding: {
        sellerId: 's-1001',
        appVersion: 'v1',
        nonce: input.nonce,
        expiresAt: Date.parse(body.linkExpiresAt),
        codeChallenge: pkceChallenge(verifier),
        consentUrl: INSTALL_V1,
      },
    });

    // Followed by the seller's browser: cookie set, on to OTTO's installation page …
    const start = await request(app).get(`${link.pathname}${link.search}`);
    expect(start.status).toBe(303);
    expect(start.headers.location).toBe(INSTALL_V1);
    const cookie = consentCookieSet(start)!.cookie;
    // … and OTTO's parameterless redirect after the installation goes on to OTTO's login.
    const consent = await request(app).get('/oauth/callback').set('Cookie', cookie);
    expect(consent.status).toBe(303);
    const url = new URL(consent.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe(`${OTTO_AUTH}/oauth2/auth`);
    expect(url.searchParams.get('client_id')).toBe('client-v1');
    expect(url.searchParams.get('redirect_uri')).toBe(`${PUBLIC_BASE_URL}/oauth/callback`);
    expect(url.searchParams.get('scope')).toBe('installation partnerId');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toBe(pkceChallenge(verifier));
    expect(stateSigner.verify(url.searchParams.get('state')!)).toMatchObject({
      ok: true,
      state: { sellerId: 's-1001', appVersion: 'v1', nonce: input.nonce },
    });
    // The plaintext verifier goes nowhere but into the seal.
    for (const r of [res, start, consent])
      expect(JSON.stringify([r.body, r.headers])).not.toContain(verifier);
    expect(connections.writes).toHaveLength(1);
  });

  it('defaults to the newest configured app version (private: with the invitation link given)', async () => {
    const { app, connections, sealer } = testApp();
    const invitation = `${OTTO_AUTH}/opc/apps/app-v2/invite?token=inv-1`;
    const res = await request(app)
      .post('/api/sellers/s-1/connection')
      .set(admin)
      .send({ invitationUrl: invitation });
    expect(res.status).toBe(201);
    expect(bodyOf<{ appVersion: string }>(res).appVersion).toBe('v2');
    expect(bodyOf<{ installationUrl: string }>(res).installationUrl).toBe(invitation);
    const input = connections.writes[0]!.args[0] as BeginConsentInput;
    expect(input).toMatchObject({ appVersion: 'v2', invitationRequired: true });
    // The invitation link is single use: it enters the workflow only sealed.
    expect(JSON.stringify(input)).not.toContain('inv-1');
    expect(sealer.unseal(input.sealedInvitationUrl!, { purpose: 'invitation-url', sellerId: 's-1' })).toBe(
      invitation,
    );
  });

  it('passes allowPartnerChange on to the workflow', async () => {
    const { app, connections } = testApp();
    const res = await request(app)
      .post('/api/sellers/s-1/connection')
      .set(admin)
      .send({ appVersion: 'v1', allowPartnerChange: true });
    expect(res.status).toBe(201);
    expect((connections.writes[0]!.args[0] as BeginConsentInput).allowPartnerChange).toBe(true);
  });

  it('answers 409 when the workflow says the seller is already connected at that version', async () => {
    const { app, connections } = testApp();
    connections.failNext.set(
      'beginConsent',
      new SellerConnectionError('already_connected', 'seller s-1 is already connected with app v1'),
    );
    const res = await request(app).post('/api/sellers/s-1/connection').set(admin).send({ appVersion: 'v1' });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: { code: 'already_connected', message: 'seller s-1 is already connected with app v1' },
    });
  });

  it('answers 400 for a version this deployment does not offer, without calling the workflow', async () => {
    const { app, connections } = testApp({
      env: { OTTO_APPS: JSON.stringify([{ version: 'v1', appId: 'a', clientId: 'c', clientSecret: 's' }]) },
    });
    const res = await request(app).post('/api/sellers/s-1/connection').set(admin).send({ appVersion: 'v2' });
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('app_version_not_offered');
    expect(connections.writes).toHaveLength(0);
  });
});

describe('support reads', () => {
  it('GET /api/sellers/:id/connection answers the status summary with the Temporal UI link', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-2');
    const res = await request(app).get('/api/sellers/s-2/connection').set(support);
    expect(res.status).toBe(200);
    const view = statusSummaryViewSchema.parse(res.body);
    expect(view.temporal.uiUrl).toContain('/workflows/otto-seller%3As-2/run-1/history');
    // The summary: no event log, no webhook list; and the port's summary call, not the query.
    expect(res.body).not.toHaveProperty('events');
    expect(res.body).not.toHaveProperty('webhooks');
    expect(connections.calls.map((c) => c.method)).toEqual(['status']);
  });

  it('GET /api/sellers/:id/connection?view=full answers the whole status view (events, webhooks)', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-2f');
    const res = await request(app).get('/api/sellers/s-2f/connection?view=full').set(support);
    expect(res.status).toBe(200);
    expect(statusViewSchema.parse(res.body).events.map((e) => e.type)).toEqual(['authorized']);
    expect(connections.calls.map((c) => c.method)).toEqual(['fullStatus']);
    for (const query of ['view=everything', 'veiw=full']) {
      const bad = await request(app).get(`/api/sellers/s-2f/connection?${query}`).set(support);
      expect(bad.status).toBe(400);
      expect(errorOf(bad).code).toBe('validation_failed');
    }
  });

  it('GET /api/sellers/:id/connection is 404 for a seller who never connected', async () => {
    const { app } = testApp();
    const res = await request(app).get('/api/sellers/nobody/connection').set(support);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: { code: 'seller_not_connected', message: 'seller nobody never connected' },
    });
  });

  it('GET /api/connections filters by state', async () => {
    const { app, connections } = testApp();
    connections.setSeller('a-1', { state: 'active' });
    connections.setSeller('p-1', { state: 'paused' });
    // `limit` is the older name of pageSize.
    const res = await request(app).get('/api/connections?state=paused&limit=5').set(support);
    expect(res.status).toBe(200);
    const body = listResponseSchema.parse(res.body);
    expect(body.items.map((c) => c.sellerId)).toEqual(['p-1']);
    expect(body.nextCursor).toBeNull();
    expect(connections.calls.find((c) => c.method === 'list')?.args).toEqual([
      { state: 'paused', pageSize: 5 },
    ]);
  });

  it('GET /api/connections pages with pageSize and the cursor it answered; bad paging is a 400', async () => {
    const { app, connections } = testApp();
    for (let i = 1; i <= 3; i++) connections.setSeller(`a-${i}`);
    const first = listResponseSchema.parse(
      (await request(app).get('/api/connections?pageSize=2').set(support)).body,
    );
    expect(first.items.map((c) => c.sellerId)).toEqual(['a-1', 'a-2']);
    const second = listResponseSchema.parse(
      (
        await request(app)
          .get('/api/connections')
          .query({ pageSize: 2, cursor: first.nextCursor })
          .set(support)
      ).body,
    );
    expect(second).toMatchObject({ items: [{ sellerId: 'a-3' }], nextCursor: null });
    expect(connections.calls.filter((c) => c.method === 'list').map((c) => c.args)).toEqual([
      [{ pageSize: 2 }],
      [{ pageSize: 2, cursor: first.nextCursor }],
    ]);
    // Default page size 100; the bounds, both names at once, and a cursor the port refuses.
    await request(app).get('/api/connections').set(support);
    expect(connections.calls.filter((c) => c.method === 'list').at(-1)?.args).toEqual([{ pageSize: 100 }]);
    for (const query of ['pageSize=0', 'pageSize=1001', 'pageSize=2&limit=2', 'cursor=']) {
      const res = await request(app).get(`/api/connections?${query}`).set(support);
      expect([query, res.status]).toEqual([query, 400]);
    }
    // A cursor the port refuses: invalid_cursor naming the parameter, as the shop feeds answer theirs.
    const bad = await request(app).get('/api/connections?cursor=not-one').set(support);
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toEqual({
      code: 'invalid_cursor',
      message: 'query.cursor: not a cursor this API issued',
      details: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
    });
  });
});

describe('admin commands', () => {
  it('disconnect, pause and resume reach the workflow with their reason', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-3');
    expect(
      (await request(app).post('/api/sellers/s-3/connection/pause').set(admin).send({ reason: 'holiday' }))
        .body,
    ).toEqual({ sellerId: 's-3', state: 'paused' });
    expect((await request(app).post('/api/sellers/s-3/connection/resume').set(admin)).body).toEqual({
      sellerId: 's-3',
      state: 'active',
    });
    expect((await request(app).delete('/api/sellers/s-3/connection').set(admin)).body).toEqual({
      sellerId: 's-3',
      state: 'disconnected',
    });
    expect(connections.writes.map((c) => [c.method, ...c.args])).toEqual([
      ['pause', 's-3', 'holiday'],
      ['resume', 's-3'],
      ['disconnect', 's-3', undefined],
    ]);
  });

  it('a command on an ended connection is 409', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-4', { state: 'revoked' }, false);
    const res = await request(app).post('/api/sellers/s-4/connection/pause').set(admin);
    expect(res.status).toBe(409);
    expect(errorOf(res).code).toBe('connection_ended');
  });

  it('run-transfer-now is exposed and says clearly that the workflow does not support it yet', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-5');
    const res = await request(app).post('/api/sellers/s-5/transfers/ordersImport/run').set(admin);
    expect(res.status).toBe(501);
    expect(errorOf(res)).toEqual({
      code: 'not_supported',
      message: 'the running seller workflow does not handle this command yet',
    });
  });
});

describe('GET /oauth/callback', () => {
  it('accepted: seals the code, signals it with the nonce from the state, clears the cookie, redirects to the assistant', async () => {
    const { app, connections, sealer, stateSigner, metrics } = testApp();
    connections.setSeller('s-6', { state: 'pending_consent', appVersion: null });
    const { nonce, state, cookie } = validState(stateSigner, 's-6');
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({ code: 'oc_secret-code', state, iss: OTTO_ISSUER });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/assistant/otto');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(consentCookieSet(res)?.value).toBe('');
    expect(connections.signals).toHaveLength(1);
    const [sellerId, callback] = connections.signals[0]!.args as [string, AuthorizationCallback];
    expect(sellerId).toBe('s-6');
    expect(callback.nonce).toBe(nonce);
    expect(callback.sealedCode).not.toContain('oc_secret-code');
    expect(sealer.unseal(callback.sealedCode!, { purpose: 'authorization-code', sellerId: 's-6' })).toBe(
      'oc_secret-code',
    );
    expect(await metrics.registry.getSingleMetricAsString('otto_connect_oauth_callbacks_total')).toContain(
      'reason="accepted"} 1',
    );
  });

  it('the same callback a second time is refused as replayed and not signalled again', async () => {
    const { app, connections, stateSigner } = testApp();
    connections.setSeller('s-7', { state: 'pending_consent', appVersion: null });
    const { state, cookie } = validState(stateSigner, 's-7');
    const first = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({ code: 'c1', state });
    expect(first.status).toBe(303);
    // Replayed as captured, cookie included (a browser would no longer send it: it was cleared).
    const again = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({ code: 'c1', state });
    expect(again.status).toBe(400);
    expect(again.text).toContain('already been used');
    expect(connections.signals).toHaveLength(1);
  });

  it("OTTO's error= with a valid state is signalled (the workflow records lastError) and redirects", async () => {
    const { app, connections, stateSigner } = testApp();
    connections.setSeller('s-8', { state: 'pending_consent', appVersion: null });
    const { nonce, state, cookie } = validState(stateSigner, 's-8');
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({ error: 'access_denied', error_description: 'missing rights', state });
    expect(res.status).toBe(303);
    expect(connections.signals.map((c) => c.args)).toEqual([
      ['s-8', { nonce, error: 'access_denied', errorDescription: 'missing rights' }],
    ]);
  });

  it('HEAD on the callback delivers nothing (Express would run the GET handler for it)', async () => {
    const { app, connections, stateSigner } = testApp();
    connections.setSeller('s-9', { state: 'pending_consent', appVersion: null });
    const { state, cookie } = validState(stateSigner, 's-9');
    const head = await request(app).head('/oauth/callback').set('Cookie', cookie).query({ code: 'c', state });
    expect(head.status).toBe(200);
    expect(connections.signals).toEqual([]);
    const get = await request(app).get('/oauth/callback').set('Cookie', cookie).query({ code: 'c', state });
    expect(get.status).toBe(303);
    expect(connections.signals).toHaveLength(1);
  });

  it('answers refusals as JSON when asked', async () => {
    const { app } = testApp();
    const res = await request(app)
      .get('/oauth/callback?code=x&state=nonsense')
      .set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(res.type).toBe('application/json');
    expect(errorOf(res).code).toBe('callback_malformed_state');
  });
});

describe('the assistant', () => {
  it('offers "Allow access" to a seller who never connected', async () => {
    const { app } = testApp();
    const { cookie } = await assistantSession(app, 'new-seller');
    const res = await request(app).get('/assistant/otto').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Base settings – OTTO Market');
    expect(res.text).toContain('Allow access to OTTO');
    expect(res.text).toMatch(/<button[^>]*>Allow access<\/button>/);
    expect(res.text).toContain('Summary');
    expect(res.text).toContain('Finalise');
    expect(res.text).not.toContain('authorization completed');
  });

  it('"Allow access" starts consent, binds this browser and sends it to OTTO’s installation page with 303', async () => {
    const { app, connections, consentCookies } = testApp();
    const session = await assistantSession(app, 's-9');
    const res = await request(app)
      .post('/assistant/otto/allow-access')
      .type('form')
      .set('Origin', PUBLIC_BASE_URL)
      .set('Cookie', session.cookie)
      .send({ formToken: session.formToken, appVersion: 'v1' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(INSTALL_V1);
    expect(connections.writes.map((c) => c.method)).toEqual(['beginConsent']);
    const set = consentCookieSet(res);
    expect(consentCookies.verify(set?.value)).toMatchObject({
      ok: true,
      binding: {
        sellerId: 's-9',
        appVersion: 'v1',
        nonce: (connections.writes[0]!.args[0] as BeginConsentInput).nonce,
      },
    });
  });

  it('"Allow access" for a private app nobody sent an invitation link for is a clear 400 page', async () => {
    const { app, connections } = testApp();
    const session = await assistantSession(app, 's-9b');
    const res = await request(app)
      .post('/assistant/otto/allow-access')
      .type('form')
      .set('Origin', PUBLIC_BASE_URL)
      .set('Cookie', session.cookie)
      .send({ formToken: session.formToken });
    expect(res.status).toBe(400);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('invitation link');
    expect(setCookiesOf(res)).toEqual([]);
    expect(connections.sellers.has('s-9b')).toBe(false);
  });

  it.each([
    [
      'pending_consent',
      {
        state: 'pending_consent',
        appVersion: null,
        pendingConsent: { appVersion: 'v1', deadline: '2030-01-02T00:00:00.000Z' },
      },
      'Waiting for your confirmation at OTTO',
    ],
    ['authorizing', { state: 'authorizing', appVersion: null }, 'completing the authorization'],
    ['active', { state: 'active' }, 'authorization completed'],
    ['revoked', { state: 'revoked' }, 'To reconnect: click “Allow access”'],
    ['disconnected', { state: 'disconnected' }, 'remove the app in OTTO Partner'],
    ['consent_expired', { state: 'consent_expired', appVersion: null }, 'not confirmed at OTTO in time'],
  ] as const)('shows the %s state', async (_name, overrides, text) => {
    const { app, connections } = testApp();
    connections.setSeller('s-10', overrides);
    const res = await request(app)
      .get('/assistant/otto')
      .set('Cookie', (await assistantSession(app, 's-10')).cookie);
    expect(res.status).toBe(200);
    expect(res.text.replace(/\s+/g, ' ')).toContain(text);
  });

  it('offers the update when a newer app version exists', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-11', { upgradeAvailable: true });
    const res = await request(app)
      .get('/assistant/otto')
      .set('Cookie', (await assistantSession(app, 's-11')).cookie);
    expect(res.text).toContain('authorization completed');
    expect(res.text).toContain('id="upgrade-offer"');
    expect(res.text).toMatch(/<input type="hidden" name="appVersion" value="v2"/);
  });

  it('names exactly the right the OTTO user lacked', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-12', {
      state: 'pending_consent',
      lastError:
        'Access was not granted at OTTO. The OTTO user who confirmed needs admin rights and the "Dienstleister Freigaben" permission, or the consent was cancelled. OTTO said: "The OPC user "u" may not install apps: missing the permission "Dienstleister Freigaben". Only users with admin rights and the permission "Dienstleister Freigaben" can grant access.".',
    });
    const res = await request(app)
      .get('/assistant/otto')
      .set('Cookie', (await assistantSession(app, 's-12')).cookie);
    const text = res.text.replace(/\s+/g, ' ');
    expect(text).toContain(
      'id="missing-right"> The OTTO user you logged in with is missing: <strong>the permission “Dienstleister Freigaben”</strong>',
    );
    expect(text).not.toMatch(/is missing: <strong>admin rights/);
  });
});

describe('operations and documentation', () => {
  it('/healthz on both ports; /readyz and /metrics only on the ops port', async () => {
    const { app, opsApp, connections } = testApp();
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await request(opsApp).get('/healthz')).body).toEqual({ status: 'ok' });
    for (const path of ['/readyz', '/metrics']) expect((await request(app).get(path)).status).toBe(404);
    expect((await request(opsApp).get('/readyz')).body).toEqual({ status: 'ready', temporal: 'reachable' });
    connections.failAll = new SellerConnectionError(
      'unavailable',
      'The workflow service (Temporal) is unreachable',
    );
    const down = await request(opsApp).get('/readyz');
    expect(down.status).toBe(503);
    expect(errorOf(down).code).toBe('temporal_unavailable');
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(opsApp).get('/healthz')).status).toBe(200);
    // The ops app serves nothing else.
    expect((await request(opsApp).get('/api/connections')).status).toBe(404);
  });

  it('a /readyz answering 503 (Temporal down) is logged as a warning, not as a server error on every probe', async () => {
    const { logger, lines } = capturingLogger('api', 'debug');
    const { opsApp, connections } = testApp({ logger });
    connections.failAll = new SellerConnectionError(
      'unavailable',
      'The workflow service (Temporal) is unreachable',
    );
    expect((await request(opsApp).get('/readyz')).status).toBe(503);
    const line = lines
      .map((l) => JSON.parse(l) as { level: number; path?: string })
      .find((l) => l.path === '/readyz');
    expect(line?.level).toBe(40);
  });

  it('/metrics counts consent starts, callback outcomes and API latency by route pattern', async () => {
    const { app, opsApp, stateSigner } = testApp();
    await request(app).post('/api/sellers/s-13/connection').set(admin).send({ appVersion: 'v1' });
    await request(app).post('/api/sellers/s-13/connection').set(admin).send({ appVersion: 'v2' });
    await request(app)
      .get('/oauth/callback')
      .query({ code: 'x', state: validState(stateSigner, 's-13').state.slice(0, -2) + 'AA' });
    await request(app).get('/oauth/callback');
    await request(app)
      .get('/oauth/callback')
      .set('Cookie', consentCookie('s-13', 'n'.repeat(32)));
    const res = await request(opsApp).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/plain');
    expect(res.text).toContain('otto_connect_consent_starts_total{app_version="v1",outcome="started"} 1');
    expect(res.text).toContain(
      'otto_connect_consent_starts_total{app_version="v2",outcome="invalid_input"} 1',
    );
    expect(res.text).toContain('otto_connect_oauth_callbacks_total{reason="forged_state"} 1');
    expect(res.text).toContain('otto_connect_oauth_callbacks_total{reason="no_consent_cookie"} 1');
    expect(res.text).toContain('otto_connect_oauth_callbacks_total{reason="consent_forwarded"} 1');
    expect(res.text).toMatch(
      /otto_connect_http_request_duration_seconds_count\{method="POST",route="\/api\/sellers\/:sellerId\/connection",status="201"\} 1/,
    );
    expect(res.text).not.toContain('s-13');
  });

  it('a Temporal outage is a 503 with a clear JSON error, and a browser page on the assistant', async () => {
    const { app, connections } = testApp();
    connections.failAll = new SellerConnectionError(
      'unavailable',
      'The workflow service (Temporal) is unreachable or did not answer in time.',
    );
    const api = await request(app).get('/api/sellers/s-14/connection').set(support);
    expect(api.status).toBe(503);
    expect(api.headers['retry-after']).toBe('5');
    expect(api.body).toEqual({
      error: {
        code: 'temporal_unavailable',
        message: 'The workflow service (Temporal) is unreachable or did not answer in time.',
      },
    });
    const page = await request(app)
      .get('/assistant/otto')
      .set('Cookie', (await assistantSession(app, 's-14')).cookie);
    expect(page.status).toBe(503);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('Temporarily unavailable');
  });

  it('unexpected errors are a generic 500 without a stack trace', async () => {
    const { app, connections, errors } = testApp();
    connections.failNext.set('status', new Error('boom at /secret/path.ts:12'));
    const res = await request(app).get('/api/sellers/s-15/connection').set(support);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side. It has been logged.' },
    });
    expect(res.text).not.toContain('boom');
    expect(errors).toHaveLength(1);
  });

  it('/api/docs lists every route', async () => {
    const { app } = testApp();
    const res = await request(app).get('/api/docs');
    expect(res.status).toBe(200);
    for (const route of [
      'POST /api/sellers/:sellerId/connection',
      'GET /oauth/callback',
      'GET /oauth/start',
      'GET /assistant/otto',
      'POST /api/sellers/:sellerId/assistant-sessions',
      'GET /healthz',
    ]) {
      expect(res.text).toContain(route);
    }
  });
});
