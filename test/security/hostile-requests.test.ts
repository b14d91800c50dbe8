/**
 * The security suite's hostile requests: one table of requests an attacker (or a careless caller) sends
 * to the API, the OAuth callback, the assistant and the ops endpoints. Each must be answered with the
 * right status and a clear message, reach no seller workflow (no update, no signal: asserted on the
 * recording fake, not assumed), reflect nothing raw into HTML, show no stack trace, set no cookie, and
 * leave the process answering. Full-lifecycle secret scans live in oauth-bcp.test.ts (responses),
 * test/ops/log-secrets.test.ts (logs) and test/workflows/seller-history.test.ts (history).
 */
import request from 'supertest';
import type { App } from 'supertest/types';
import { createConsentCookies } from '../../api/consent-cookie';
import { createStateSigner } from '../../api/oauth-state';
import type { FakeSellerConnections } from '../api/fake-seller-connections';
import {
  ADMIN_KEY,
  INSTALL_V1,
  OTTO_AUTH,
  OTTO_ISSUER,
  PUBLIC_BASE_URL,
  STATE_KEY,
  SUPPORT_KEY,
  assistantSession,
  consentCookie,
  errorOf,
  testApp,
  validState,
  type TestAssistantSession,
} from '../api/test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const support = { Authorization: `Bearer ${SUPPORT_KEY}` };
const SCRIPT = '<script>alert(1)</script>';

interface Ctx {
  app: App;
  /** The ops server (/healthz, /readyz, /metrics on OPS_PORT). */
  opsApp: App;
  connections: FakeSellerConnections;
  /** A valid state for seller "victim" (pending consent, v1). */
  state: string;
  nonce: string;
  /** The `Cookie` header of the browser that clicked "Allow access" for that state. */
  cookie: string;
  /** An assistant session for "victim" (its cookie and form token), as the shop opened it. */
  session: TestAssistantSession;
}

interface BadInput {
  name: string;
  setup?: (c: Ctx) => void;
  send: (c: Ctx) => request.Test;
  status: number;
  /** Must appear in the answer (JSON or page). */
  message: string;
  /** Must not appear unescaped in the answer. */
  notReflected?: string;
}

/** OTTO's redirect to the callback in the seller's browser (the one that clicked "Allow access"). */
const callback = (c: Ctx, query: Record<string, string | string[]>) =>
  request(c.app).get('/oauth/callback').set('Cookie', c.cookie).query(query);
/** The same redirect arriving in a browser without our cookie. */
const callbackNoCookie = (c: Ctx, query: Record<string, string | string[]>) =>
  request(c.app).get('/oauth/callback').query(query);
const consentStart = (c: Ctx, query: Record<string, string | string[]>) =>
  request(c.app).get('/oauth/start').query(query);

function tamper(state: string, sellerId: string): string {
  const [body, mac] = state.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  return `${Buffer.from(JSON.stringify({ ...payload, s: sellerId })).toString('base64url')}.${mac}`;
}

const expiredSigner = createStateSigner(STATE_KEY, { now: () => Date.now() - 20 * 60_000 });
const otherKeySigner = createStateSigner('another-key-that-is-long-enough-0123456789');
const cookieOptions = { ttlMs: 3_600_000, publicBaseUrl: PUBLIC_BASE_URL };
const expiredCookies = createConsentCookies(STATE_KEY, {
  ...cookieOptions,
  now: () => Date.now() - 2 * 3_600_000,
});
const otherKeyCookies = createConsentCookies('another-key-that-is-long-enough-0123456789', cookieOptions);
const ticketOf = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1);
const binding = (nonce: string) => ({
  sellerId: 'victim',
  appVersion: 'v1' as const,
  nonce,
  consentUrl: INSTALL_V1,
});

const CASES: BadInput[] = [
  // ---- the callback: state ---------------------------------------------------------------------
  {
    name: 'callback: forged state (signature altered)',
    send: (c) => callback(c, { code: 'c', state: `${c.state.slice(0, -3)}abc` }),
    status: 400,
    message: 'not issued by us or has been altered',
  },
  {
    name: 'callback: state signed with another key',
    send: (c) =>
      callback(c, {
        code: 'c',
        state: otherKeySigner.sign({ sellerId: 'victim', appVersion: 'v1', nonce: c.nonce }),
      }),
    status: 400,
    message: 'not issued by us or has been altered',
  },
  {
    name: 'callback: expired state',
    send: (c) =>
      callback(c, {
        code: 'c',
        state: expiredSigner.sign({ sellerId: 'victim', appVersion: 'v1', nonce: c.nonce }),
      }),
    status: 400,
    message: 'This link has expired',
  },
  {
    name: 'callback: state of seller A used for seller B (payload swapped, signature kept)',
    setup: (c) => void c.connections.setSeller('seller-b', { state: 'pending_consent', appVersion: null }),
    send: (c) => callback(c, { code: 'c', state: tamper(c.state, 'seller-b') }),
    status: 400,
    message: 'not issued by us or has been altered',
  },
  {
    name: 'callback: replayed after the seller is connected with that version (the workflow says so)',
    setup: (c) => {
      c.connections.setSeller('victim', { state: 'active', appVersion: 'v1' });
      c.connections.markAnswered('victim', c.nonce);
    },
    send: (c) => callback(c, { code: 'c', state: c.state }),
    status: 400,
    message: 'already been used',
  },
  {
    name: 'callback: replayed while the first one is being authorized (the workflow says so)',
    setup: (c) => {
      c.connections.setSeller('victim', { state: 'authorizing', appVersion: null });
      c.connections.markAnswered('victim', c.nonce);
    },
    send: (c) => callback(c, { code: 'c', state: c.state }),
    status: 400,
    message: 'already been used',
  },
  {
    name: 'callback: missing state',
    send: (c) => callback(c, { code: 'c' }),
    status: 400,
    message: 'without the information that ties it',
  },
  {
    name: 'callback: state without a signature part',
    send: (c) => callback(c, { code: 'c', state: 'eyJ2IjoxfQ' }),
    status: 400,
    message: 'damaged or was not issued by us',
  },
  {
    name: 'callback: state with characters outside base64url',
    send: (c) => callback(c, { code: 'c', state: `${c.state}!*` }),
    status: 400,
    message: 'damaged or was not issued by us',
  },
  {
    name: 'callback: oversized state',
    send: (c) => callback(c, { code: 'c', state: 'a'.repeat(5000) }),
    status: 400,
    message: 'could not be read',
  },
  {
    name: 'callback: HTML in state is not reflected',
    send: (c) => callback(c, { code: 'c', state: SCRIPT }),
    status: 400,
    message: 'damaged or was not issued by us',
    notReflected: '<script>',
  },
  {
    name: 'callback: seller unknown (valid state, no workflow)',
    setup: (c) => void c.connections.sellers.delete('victim'),
    send: (c) => callback(c, { code: 'c', state: c.state }),
    status: 400,
    message: 'could not find the connection request',
  },
  {
    name: 'callback: connection already ended',
    setup: (c) => void c.connections.setSeller('victim', { state: 'consent_expired' }, false),
    send: (c) => callback(c, { code: 'c', state: c.state }),
    status: 400,
    message: 'has ended',
  },
  // ---- the callback: iss, code, error ----------------------------------------------------------
  {
    name: 'callback: wrong iss (mix-up)',
    send: (c) => callback(c, { code: 'c', state: c.state, iss: 'https://evil.example' }),
    status: 400,
    message: 'did not come from OTTO’s login',
  },
  {
    name: 'callback: HTML in iss is not reflected',
    send: (c) => callback(c, { code: 'c', state: c.state, iss: '<img src=x onerror=alert(1)>' }),
    status: 400,
    message: 'did not come from OTTO’s login',
    notReflected: '<img',
  },
  {
    name: 'callback: iss is the bare auth base URL, not the Keycloak realm',
    send: (c) => callback(c, { code: 'c', state: c.state, iss: OTTO_AUTH }),
    status: 400,
    message: 'did not come from OTTO’s login',
  },
  {
    name: 'callback: oversized code',
    send: (c) => callback(c, { code: 'x'.repeat(3000), state: c.state }),
    status: 400,
    message: 'could not be read',
  },
  {
    name: 'callback: code repeated',
    send: (c) => callback(c, { code: ['a', 'b'], state: c.state }),
    status: 400,
    message: 'could not be read',
  },
  {
    name: 'callback: code with spaces and control characters',
    send: (c) => callback(c, { code: 'a b\u0001', state: c.state }),
    status: 400,
    message: 'could not be read',
  },
  {
    name: 'callback: code and error together',
    send: (c) => callback(c, { code: 'c', error: 'access_denied', state: c.state }),
    status: 400,
    message: 'could not be read',
  },
  {
    name: 'callback: error= with a forged state',
    send: (c) => callback(c, { error: 'access_denied', state: `${c.state}x` }),
    status: 400,
    message: 'not issued by us or has been altered',
  },
  {
    name: 'callback: error= with an expired state',
    send: (c) =>
      callback(c, {
        error: 'access_denied',
        state: expiredSigner.sign({ sellerId: 'victim', appVersion: 'v1', nonce: c.nonce }),
      }),
    status: 400,
    message: 'This link has expired',
  },
  {
    name: 'callback: error= without state; OTTO’s error_description is never shown (not even escaped)',
    send: (c) => callback(c, { error: 'access_denied', error_description: SCRIPT }),
    status: 400,
    message: 'without the information that ties it',
    notReflected: 'alert(1)',
  },
  {
    name: 'callback: error= with a forged state; HTML in error is refused',
    send: (c) => callback(c, { error: '"><svg onload=alert(1)>', state: `${c.state}x` }),
    status: 400,
    message: 'could not be read',
    notReflected: '<svg',
  },
  {
    name: 'callback: oversized error_description',
    send: (c) => callback(c, { error: 'access_denied', error_description: 'x'.repeat(1500), state: c.state }),
    status: 400,
    message: 'could not be read',
  },
  {
    name: 'callback: JSON refusal for a forged state',
    send: (c) => callback(c, { code: 'c', state: `${c.state}x` }).set('Accept', 'application/json'),
    status: 400,
    message: '"code":"callback_forged_state"',
  },
  // ---- the callback: which browser ---------------------------------------------------------------
  {
    name: 'consent callback (no code, no error) without our cookie',
    send: (c) => callbackNoCookie(c, {}),
    status: 400,
    message: 'could not tell which shop seller this browser belongs to',
  },
  {
    name: 'consent callback with a valid state but without our cookie',
    send: (c) => callbackNoCookie(c, { state: c.state, iss: OTTO_ISSUER }),
    status: 400,
    message: 'could not tell which shop seller this browser belongs to',
  },
  {
    name: 'consent callback with a forged cookie',
    send: (c) =>
      callbackNoCookie(c, {}).set('Cookie', `__Host-otto-consent=${ticketOf(c.cookie).slice(0, -3)}abc`),
    status: 400,
    message: 'could not tell which shop seller',
  },
  {
    name: 'consent callback with an expired cookie',
    send: (c) =>
      callbackNoCookie(c, {}).set(
        'Cookie',
        `__Host-otto-consent=${expiredCookies.issue(binding(c.nonce)).value}`,
      ),
    status: 400,
    message: 'could not tell which shop seller',
  },
  {
    name: 'consent callback with a cookie signed with another key',
    send: (c) =>
      callbackNoCookie(c, {}).set(
        'Cookie',
        `__Host-otto-consent=${otherKeyCookies.issue(binding(c.nonce)).value}`,
      ),
    status: 400,
    message: 'could not tell which shop seller',
  },
  {
    name: 'consent callback with a signed state passed off as the cookie',
    send: (c) => callbackNoCookie(c, {}).set('Cookie', `__Host-otto-consent=${c.state}`),
    status: 400,
    message: 'could not tell which shop seller',
  },
  {
    name: 'consent callback with two cookies of our name (one planted)',
    send: (c) =>
      callbackNoCookie(c, {}).set('Cookie', `${c.cookie}; ${consentCookie('victim', 'p'.repeat(32))}`),
    status: 400,
    message: 'could not tell which shop seller',
  },
  {
    name: 'consent callback, JSON refusal',
    send: (c) => callbackNoCookie(c, {}).set('Accept', 'application/json'),
    status: 400,
    message: '"code":"callback_no_consent_cookie"',
  },
  {
    name: 'code callback without our cookie',
    send: (c) => callbackNoCookie(c, { code: 'c', state: c.state, iss: OTTO_ISSUER }),
    status: 400,
    message: 'arrived in a different browser',
  },
  {
    name: "code callback with another browser's cookie (another consent's nonce)",
    send: (c) =>
      callbackNoCookie(c, { code: 'c', state: c.state }).set(
        'Cookie',
        consentCookie('victim', 'o'.repeat(32)),
      ),
    status: 400,
    message: 'arrived in a different browser',
  },
  {
    name: "code callback with another seller's cookie of the same nonce",
    send: (c) =>
      callbackNoCookie(c, { code: 'c', state: c.state }).set('Cookie', consentCookie('attacker', c.nonce)),
    status: 400,
    message: 'arrived in a different browser',
  },
  {
    name: "error= callback with another browser's cookie",
    send: (c) =>
      callbackNoCookie(c, { error: 'access_denied', state: c.state }).set(
        'Cookie',
        consentCookie('victim', 'o'.repeat(32)),
      ),
    status: 400,
    message: 'arrived in a different browser',
  },
  {
    name: 'code callback, JSON refusal for another browser',
    send: (c) => callbackNoCookie(c, { code: 'c', state: c.state }).set('Accept', 'application/json'),
    status: 400,
    message: '"code":"callback_browser_mismatch"',
  },
  // ---- the admin's consent link ---------------------------------------------------------------
  {
    name: 'consent link: forged ticket',
    send: (c) => consentStart(c, { ticket: `${ticketOf(c.cookie).slice(0, -3)}abc` }),
    status: 400,
    message: 'damaged or has expired',
  },
  {
    name: 'consent link: expired ticket',
    send: (c) => consentStart(c, { ticket: expiredCookies.issue(binding(c.nonce)).ticket }),
    status: 400,
    message: 'damaged or has expired',
  },
  {
    name: 'consent link: a consent cookie’s value as the ticket',
    send: (c) => consentStart(c, { ticket: ticketOf(c.cookie) }),
    status: 400,
    message: 'damaged or has expired',
  },
  {
    name: 'consent link: a signed state as the ticket',
    send: (c) => consentStart(c, { ticket: c.state }),
    status: 400,
    message: 'damaged or has expired',
  },
  {
    name: 'consent link: missing ticket',
    send: (c) => consentStart(c, {}),
    status: 400,
    message: 'damaged or has expired',
  },
  {
    name: 'consent link: ticket repeated',
    send: (c) => consentStart(c, { ticket: [ticketOf(c.cookie), ticketOf(c.cookie)] }),
    status: 400,
    message: 'damaged or has expired',
  },
  {
    name: 'consent link: oversized ticket',
    send: (c) => consentStart(c, { ticket: 'a'.repeat(5000) }),
    status: 400,
    message: 'damaged or has expired',
  },
  {
    name: 'consent link: HTML in the ticket is not reflected',
    send: (c) => consentStart(c, { ticket: SCRIPT }),
    status: 400,
    message: 'damaged or has expired',
    notReflected: '<script>',
  },
  {
    name: 'consent link: JSON refusal',
    send: (c) => consentStart(c, { ticket: 'x.y' }).set('Accept', 'application/json'),
    status: 400,
    message: '"code":"callback_invalid_consent_link"',
  },
  // ---- the API: keys and roles -----------------------------------------------------------------
  {
    name: 'api: no API key',
    send: (c) => request(c.app).post('/api/sellers/s-1/connection'),
    status: 401,
    message: 'an API key is required',
  },
  {
    name: 'api: unknown API key',
    send: (c) =>
      request(c.app).post('/api/sellers/s-1/connection').set('Authorization', 'Bearer wrong-key-000000'),
    status: 401,
    message: 'the API key is not valid',
  },
  {
    name: 'api: not a Bearer header',
    send: (c) => request(c.app).get('/api/connections').set('Authorization', `Basic ${ADMIN_KEY}`),
    status: 401,
    message: 'the Authorization header must be',
  },
  {
    name: 'api: support key starting consent',
    send: (c) => request(c.app).post('/api/sellers/s-1/connection').set(support),
    status: 403,
    message: 'needs the admin role',
  },
  {
    name: 'api: support key disconnecting',
    send: (c) => request(c.app).delete('/api/sellers/victim/connection').set(support),
    status: 403,
    message: 'needs the admin role',
  },
  {
    name: 'api: support key pausing',
    send: (c) => request(c.app).post('/api/sellers/victim/connection/pause').set(support),
    status: 403,
    message: 'needs the admin role',
  },
  {
    name: 'api: support key running a transfer',
    send: (c) => request(c.app).post('/api/sellers/victim/transfers/ordersImport/run').set(support),
    status: 403,
    message: 'needs the admin role',
  },
  // ---- the API: ids, bodies, content types -----------------------------------------------------
  {
    name: 'api: seller id with spaces and punctuation',
    send: (c) => request(c.app).post('/api/sellers/bad%20id!/connection').set(admin),
    status: 400,
    message: 'params.sellerId: sellerId must be 1–64 characters',
  },
  {
    name: 'api: seller id of 65 characters',
    send: (c) =>
      request(c.app)
        .post(`/api/sellers/${'a'.repeat(65)}/connection`)
        .set(admin),
    status: 400,
    message: 'params.sellerId',
  },
  {
    name: 'api: seller id with HTML',
    send: (c) =>
      request(c.app)
        .get(`/api/sellers/${encodeURIComponent(SCRIPT)}/connection`)
        .set(support),
    status: 400,
    message: 'params.sellerId',
    notReflected: '<script>',
  },
  {
    name: 'api: unknown app version',
    send: (c) => request(c.app).post('/api/sellers/s-1/connection').set(admin).send({ appVersion: 'v3' }),
    status: 400,
    message: 'body.appVersion',
  },
  {
    name: 'api: invitation link on a foreign origin',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .send({ appVersion: 'v2', invitationUrl: 'https://evil.example/opc/invite?token=x' }),
    status: 400,
    message: 'invalid_invitation_url',
  },
  {
    name: 'api: invitation link on the auth host over another scheme',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .send({ appVersion: 'v2', invitationUrl: OTTO_AUTH.replace('https:', 'http:') + '/invite' }),
    status: 400,
    message: 'invalid_invitation_url',
  },
  {
    name: 'api: invitation link that is not an http(s) URL',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .send({ appVersion: 'v2', invitationUrl: 'javascript:alert(1)' }),
    status: 400,
    message: 'body.invitationUrl',
  },
  {
    name: 'api: oversized invitation link',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .send({ appVersion: 'v2', invitationUrl: `${OTTO_AUTH}/invite?t=${'x'.repeat(3000)}` }),
    status: 400,
    message: 'body.invitationUrl',
  },
  {
    name: 'api: allowPartnerChange not a boolean',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .send({ appVersion: 'v1', allowPartnerChange: 'yes' }),
    status: 400,
    message: 'body.allowPartnerChange',
  },
  {
    name: 'api: unknown body field',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .send({ appVersion: 'v1', clientSecret: 'x' }),
    status: 400,
    message: 'body: Unrecognized key',
  },
  {
    name: 'api: JSON array body',
    send: (c) => request(c.app).post('/api/sellers/s-1/connection').set(admin).send([1, 2]),
    status: 400,
    message: 'validation_failed',
  },
  {
    name: 'api: malformed JSON',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .set('Content-Type', 'application/json')
        .send('{"appVersion":'),
    status: 400,
    message: 'not valid JSON',
  },
  {
    name: 'api: text/plain body',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/s-1/connection')
        .set(admin)
        .set('Content-Type', 'text/plain')
        .send('appVersion=v1'),
    status: 415,
    message: 'send the body as application/json',
  },
  {
    name: 'api: form body',
    send: (c) =>
      request(c.app).post('/api/sellers/s-1/connection').set(admin).type('form').send({ appVersion: 'v1' }),
    status: 415,
    message: 'send the body as application/json',
  },
  {
    name: 'api: oversized JSON body',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/victim/connection/pause')
        .set(admin)
        .send({ reason: 'x'.repeat(20_000) }),
    status: 413,
    message: 'too large',
  },
  {
    name: 'api: reason longer than 500',
    send: (c) =>
      request(c.app)
        .post('/api/sellers/victim/connection/pause')
        .set(admin)
        .send({ reason: 'x'.repeat(501) }),
    status: 400,
    message: 'body.reason',
  },
  {
    name: 'api: unknown transfer kind',
    send: (c) => request(c.app).post('/api/sellers/victim/transfers/everything/run').set(admin),
    status: 400,
    message: 'params.kind',
  },
  {
    name: 'api: unknown state filter',
    send: (c) => request(c.app).get('/api/connections?state=bogus').set(support),
    status: 400,
    message: 'query.state',
  },
  {
    name: 'api: limit 0',
    send: (c) => request(c.app).get('/api/connections?limit=0').set(support),
    status: 400,
    message: 'query.limit',
  },
  {
    name: 'api: unknown route',
    send: (c) => request(c.app).get('/api/nothing-here').set(support),
    status: 404,
    message: 'there is no GET /api/nothing-here',
  },
  // ---- the assistant: only with the session the shop opened ------------------------------------
  {
    name: 'assistant: no session',
    send: (c) => request(c.app).get('/assistant/otto'),
    status: 401,
    message: 'open the OTTO Market settings from your shop',
  },
  {
    name: 'assistant: no session, a seller id in the query',
    send: (c) => request(c.app).get('/assistant/otto').query({ sellerId: 'victim' }),
    status: 401,
    message: 'open the OTTO Market settings from your shop',
  },
  {
    name: 'assistant: no session, a seller id with HTML',
    send: (c) => request(c.app).get('/assistant/otto').query({ sellerId: SCRIPT }),
    status: 401,
    message: 'open the OTTO Market settings from your shop',
    notReflected: '<script>',
  },
  {
    name: 'assistant: a session for another seller than the query names',
    send: (c) =>
      request(c.app).get('/assistant/otto').set('Cookie', c.session.cookie).query({ sellerId: 'other' }),
    status: 403,
    message: 'belong to another seller',
  },
  {
    name: 'assistant: a session, and a seller id with HTML in the query',
    send: (c) =>
      request(c.app).get('/assistant/otto').set('Cookie', c.session.cookie).query({ sellerId: SCRIPT }),
    status: 403,
    message: 'belong to another seller',
    notReflected: '<script>',
  },
  {
    name: 'assistant: unknown path with HTML is escaped',
    send: (c) => request(c.app).get(`/assistant/${encodeURIComponent('<b>x</b>')}`),
    status: 404,
    message: 'there is no GET',
    notReflected: '<b>x',
  },
  {
    name: 'assistant: a forged one-time link',
    send: (c) =>
      request(c.app)
        .get('/assistant/otto/session')
        .query({ token: `${c.state}` }),
    status: 400,
    message: 'damaged or was not issued by us',
  },
  {
    name: 'assistant: a one-time link without its token',
    send: (c) => request(c.app).get('/assistant/otto/session'),
    status: 400,
    message: 'damaged or was not issued by us',
  },
  {
    name: 'assistant: "Allow access" posted from another site',
    send: (c) =>
      request(c.app)
        .post('/assistant/otto/allow-access')
        .set('Origin', 'https://evil.example')
        .set('Cookie', c.session.cookie)
        .type('form')
        .send({ formToken: c.session.formToken }),
    status: 403,
    message: 'only be sent from the assistant page',
  },
  {
    name: 'assistant: "Allow access" as JSON',
    send: (c) =>
      request(c.app)
        .post('/assistant/otto/allow-access')
        .set('Origin', PUBLIC_BASE_URL)
        .set('Cookie', c.session.cookie)
        .send({ formToken: c.session.formToken }),
    status: 415,
    message: 'application/x-www-form-urlencoded',
  },
  {
    name: 'assistant: "Allow access" without a session',
    send: (c) =>
      request(c.app)
        .post('/assistant/otto/allow-access')
        .type('form')
        .send({ sellerId: 'victim', formToken: c.session.formToken }),
    status: 401,
    message: 'open the OTTO Market settings from your shop',
  },
  {
    name: 'assistant: "Allow access" naming a seller in the form',
    send: (c) =>
      request(c.app)
        .post('/assistant/otto/allow-access')
        .set('Cookie', c.session.cookie)
        .type('form')
        .set('Accept', 'application/json') // a page says it in the seller's words; JSON names the field
        .send({ formToken: c.session.formToken, sellerId: 'other' }),
    status: 400,
    message: 'Unrecognized key',
  },
  {
    name: 'assistant: "Allow access" without the form token',
    send: (c) =>
      request(c.app)
        .post('/assistant/otto/allow-access')
        .set('Cookie', c.session.cookie)
        .type('form')
        .set('Accept', 'application/json') // a page says it in the seller's words; JSON names the field
        .send({}),
    status: 400,
    message: 'body.formToken',
  },
  {
    name: 'assistant: "Allow access" with a made-up form token',
    send: (c) =>
      request(c.app)
        .post('/assistant/otto/allow-access')
        .set('Cookie', c.session.cookie)
        .type('form')
        .send({ formToken: 'A'.repeat(43) }),
    status: 403,
    message: 'does not belong to the OTTO Market settings',
  },
  {
    name: 'assistant: "Allow access" with an unknown app version',
    send: (c) =>
      request(c.app)
        .post('/assistant/otto/allow-access')
        .set('Cookie', c.session.cookie)
        .type('form')
        .set('Accept', 'application/json') // a page says it in the seller's words; JSON names the field
        .send({ formToken: c.session.formToken, appVersion: 'v9' }),
    status: 400,
    message: 'body.appVersion',
  },
  {
    name: 'api: an assistant session without a key',
    send: (c) => request(c.app).post('/api/sellers/victim/assistant-sessions'),
    status: 401,
    message: 'an API key is required',
  },
  {
    name: 'api: an assistant session with the support key',
    send: (c) => request(c.app).post('/api/sellers/victim/assistant-sessions').set(support),
    status: 403,
    message: 'needs the admin role',
  },
  {
    name: 'api: an assistant session for an invalid seller id',
    send: (c) =>
      request(c.app)
        .post(`/api/sellers/${encodeURIComponent(SCRIPT)}/assistant-sessions`)
        .set(admin),
    status: 400,
    message: 'params.sellerId',
    notReflected: '<script>',
  },
  // ---- ops endpoints: not on the public port, and nothing but GET on the ops port ----------------
  {
    name: 'ops: /metrics is not served on the public API port',
    send: (c) => request(c.app).get('/metrics'),
    status: 404,
    message: 'not_found',
  },
  {
    name: 'ops: /readyz is not served on the public API port',
    send: (c) => request(c.app).get('/readyz'),
    status: 404,
    message: 'not_found',
  },
  {
    name: 'ops: POST /metrics on the ops port',
    send: (c) => request(c.opsApp).post('/metrics').send({}),
    status: 405,
    message: 'method_not_allowed',
  },
  {
    name: 'ops: DELETE /healthz on the ops port',
    send: (c) => request(c.opsApp).delete('/healthz'),
    status: 405,
    message: 'method_not_allowed',
  },
  {
    name: 'ops: an unknown ops path with HTML in it',
    send: (c) => request(c.opsApp).get(`/${encodeURIComponent(SCRIPT)}`),
    status: 404,
    message: 'not_found',
    notReflected: '<script>',
  },
  {
    name: 'ops: a malformed percent-encoding on the ops port',
    send: (c) => request(c.opsApp).get('/metrics?x=%E0%A4%A'),
    status: 400,
    message: 'malformed_url',
  },
];

describe('hostile requests are refused clearly, reach no workflow and leave the process answering', () => {
  it('has at least 60 cases across the API, the callback, the assistant and the ops endpoints', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    for (const area of ['api:', 'callback:', 'assistant', 'ops:'])
      expect([area, CASES.some((c) => c.name.startsWith(area))]).toEqual([area, true]);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const { app, opsApp, connections, stateSigner } = testApp();
    connections.setSeller('victim', { state: 'pending_consent', appVersion: null });
    const { state, nonce, cookie } = validState(stateSigner, 'victim');
    // This browser's assistant session, for the seller the shop logged in: victim.
    const session = await assistantSession(app, 'victim');
    const ctx: Ctx = { app, opsApp, connections, state, nonce, cookie, session };
    testCase.setup?.(ctx);

    const res = await testCase.send(ctx);
    expect({ status: res.status, text: res.text }).toEqual({
      status: testCase.status,
      text: expect.stringContaining(testCase.message) as string,
    });
    if (testCase.notReflected) expect(res.text).not.toContain(testCase.notReflected);
    expect(res.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(connections.writes).toEqual([]);
    expect(res.headers['set-cookie']).toBeUndefined(); // a refusal binds no browser and clears nothing
    // …and the process still answers.
    expect((await request(app).get('/healthz')).status).toBe(200);
    expect((await request(opsApp).get('/healthz')).status).toBe(200);
  });

  it('too many failed API key attempts from one address are answered 429; a valid key still works', async () => {
    const { app, connections } = testApp({ authLimit: { maxFailures: 3, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      expect(
        (await request(app).get('/api/connections').set('Authorization', `Bearer guess-${i}-000000000`))
          .status,
      ).toBe(401);
    }
    // The key is checked before the limiter: a verified key is never blocked.
    expect((await request(app).get('/api/connections').set(support)).status).toBe(200);
    const blocked = await request(app)
      .get('/api/connections')
      .set('Authorization', 'Bearer guess-3-000000000');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(errorOf(blocked).code).toBe('too_many_failed_attempts');
    expect((await request(app).get('/api/connections').set(support)).status).toBe(200);
    expect(connections.writes).toEqual([]);
  });
});
