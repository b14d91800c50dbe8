import { defaultApps } from '../../emulator/options';
import {
  adminConsent,
  authorizeUrl,
  callbackParams,
  consentViaAdmin,
  createPartner,
  harness,
  install,
  invite,
  pathOf,
  pkcePair,
  REDIRECT_URI,
  type AppInfo,
  type Harness,
} from './helpers';

const REALM = 'http://otto.test/sec-api/auth/realms/otto-partner';

/** Pulls the hidden session field and form action out of a page, as a browser would submit it. */
function form(html: string, id: string): { action: string; session: string } {
  const match = new RegExp(
    `<form id="${id}" method="post" action="([^"]+)">\\s*<input type="hidden" name="session" value="([^"]+)">`,
  ).exec(html);
  if (!match?.[1] || !match[2]) throw new Error(`no form ${id} in page:\n${html}`);
  return { action: match[1], session: match[2] };
}

async function openLogin(h: Harness, url: string, action: string) {
  const res = await h.http.get(pathOf(url)).expect(200);
  expect(res.type).toBe('text/html');
  expect(res.text).toMatch(/<input type="text" name="username"/);
  expect(res.text).toMatch(/<input type="password" name="password"/);
  const login = form(res.text, 'login');
  expect(login.action).toBe(`http://otto.test${action}`);
  return { ...login, html: res.text };
}

async function submitLogin(
  h: Harness,
  url: string,
  user: { username: string; password: string },
  action = '/opc/login',
) {
  const login = await openLogin(h, url, action);
  return h.http
    .post(pathOf(login.action))
    .type('form')
    .send({ session: login.session, username: user.username, password: user.password });
}

async function decide(h: Harness, consentHtml: string, decision: 'confirm' | 'cancel') {
  const c = form(consentHtml, 'consent');
  expect(c.action).toBe('http://otto.test/opc/consent');
  return h.http.post(pathOf(c.action)).type('form').send({ session: c.session, decision });
}

async function installations(h: Harness, partnerId: string) {
  const res = await h.http.get(`/__admin/partners/${partnerId}`).expect(200);
  return (res.body as { installations: { appId: string; installationId: string; revokedAt?: string }[] })
    .installations;
}

function link(app: AppInfo): string {
  if (!app.installationUrl) throw new Error('no installation link');
  return app.installationUrl;
}

describe('OPC installation link (public app)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('is listed per public app under the live public URL', () => {
    expect(h.apps.v1.installationUrl).toBe(`http://otto.test/opc/apps/${h.apps.v1.appId}/install`);
    expect(h.apps.v2.installationUrl).toBe(`http://otto.test/opc/apps/${h.apps.v2.appId}/install`);
  });

  it('login → consent listing every app scope → Confirm installs and redirects to the callback without any parameter', async () => {
    const user = await createPartner(h);
    const consent = await submitLogin(h, link(h.apps.v1), user);
    expect(consent.status).toBe(200);
    for (const scope of h.apps.v1.scopes) expect(consent.text).toContain(`<li class="scope">${scope}</li>`);
    expect(consent.text.match(/<li class="scope">/g)).toHaveLength(h.apps.v1.scopes.length);
    expect(consent.text).not.toContain('shipping-profiles');
    expect(consent.text).toContain('>Confirm</button>');
    expect(consent.text).toContain('>Cancel</button>');
    expect(await installations(h, user.partnerId)).toEqual([]);

    const done = await decide(h, consent.text, 'confirm');
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe(REDIRECT_URI);
    const installed = await installations(h, user.partnerId);
    expect(installed).toEqual([
      expect.objectContaining({ appId: h.apps.v1.appId, installationId: expect.any(String) as unknown }),
    ]);

    // The consent session is single-use.
    const c = form(consent.text, 'consent');
    const again = await h.http
      .post(pathOf(c.action))
      .type('form')
      .send({ session: c.session, decision: 'confirm' });
    expect(again.status).toBe(400);
    expect(again.headers.location).toBeUndefined();
    expect(await installations(h, user.partnerId)).toHaveLength(1);
  });

  it('the v2 consent screen lists shipping-profiles; installing v2 adds a second installation and v1 stays', async () => {
    const user = await createPartner(h);
    await install(h, h.apps.v1, user);
    const consent = await submitLogin(h, link(h.apps.v2), user);
    expect(consent.text).toContain('<li class="scope">shipping-profiles</li>');
    expect((await decide(h, consent.text, 'confirm')).headers.location).toBe(REDIRECT_URI);
    const installed = await installations(h, user.partnerId);
    expect(installed.map((i) => i.appId).sort()).toEqual([h.apps.v1.appId, h.apps.v2.appId].sort());
  });

  it('Cancel installs nothing and shows an OPC "Installation cancelled" page, not the app', async () => {
    const user = await createPartner(h);
    const consent = await submitLogin(h, link(h.apps.v1), user);
    const res = await decide(h, consent.text, 'cancel');
    expect(res.status).toBe(302);
    const location = res.headers.location ?? '';
    expect(location.startsWith('http://otto.test/opc/cancelled')).toBe(true);
    expect(location).not.toContain('localhost:3000');
    const page = await h.http.get(pathOf(location)).expect(200);
    expect(page.text).toContain('Installation cancelled');
    expect(await installations(h, user.partnerId)).toEqual([]);
  });

  it('opening the link again while installed shows "already installed" and still leads to the callback', async () => {
    const user = await createPartner(h);
    await install(h, h.apps.v1, user);
    const res = await submitLogin(h, link(h.apps.v1), user);
    expect(res.status).toBe(200);
    expect(res.text).toContain('already installed');
    expect(res.text).not.toContain('<form id="consent"');
    expect(/<a id="continue" href="([^"]+)"/.exec(res.text)?.[1]).toBe(REDIRECT_URI);
    expect(await installations(h, user.partnerId)).toHaveLength(1);
    // The same through the automation.
    expect(await install(h, h.apps.v1, user)).toBe(REDIRECT_URI);
    expect(await install(h, h.apps.v1, user, 'deny')).toMatch(/^http:\/\/otto\.test\/opc\/cancelled/);
    expect(await installations(h, user.partnerId)).toHaveLength(1);
  });

  it('after "Zugriff entziehen" the link installs again with a new installation id', async () => {
    const user = await createPartner(h);
    await install(h, h.apps.v1, user);
    const [first] = await installations(h, user.partnerId);
    await h.http.post(`/__admin/partners/${user.partnerId}/revoke`).send({}).expect(200);
    await install(h, h.apps.v1, user);
    const all = await installations(h, user.partnerId);
    expect(all).toHaveLength(2);
    expect(all.filter((i) => !i.revokedAt).map((i) => i.installationId)).not.toContain(first?.installationId);
  });

  it('a wrong password re-renders the login form with a message and no redirect', async () => {
    const user = await createPartner(h);
    const res = await submitLogin(h, link(h.apps.v1), { username: user.username, password: 'wrong' });
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('role="alert"');
    expect(res.text).toContain('<form id="login"');
  });

  it.each([
    [{ admin: false, dienstleisterFreigaben: true }, /admin rights/, /Dienstleister Freigaben/],
    [{ admin: true, dienstleisterFreigaben: false }, /Dienstleister Freigaben/, /admin rights/],
    [{ admin: false, dienstleisterFreigaben: false }, /admin rights and .*Dienstleister Freigaben/, /^$/],
  ])(
    'refuses a user without rights %j with a 403 page naming the missing right, and sends nobody anywhere',
    async (rights, names, notNames) => {
      const user = await createPartner(h, rights);
      const res = await submitLogin(h, link(h.apps.v1), user);
      expect(res.status).toBe(403);
      expect(res.headers.location).toBeUndefined();
      const refusal = /<p class="error" id="refusal">([^<]+)<\/p>/.exec(res.text)?.[1] ?? '';
      expect(refusal.replace(/&quot;/g, '"')).toMatch(names);
      if (notNames.source !== '^$') expect(refusal).not.toMatch(notNames);
      expect(res.text).not.toContain('href=');
      expect(res.text).not.toContain('<form id="consent"');
      expect(await installations(h, user.partnerId)).toEqual([]);

      const admin = await adminConsent(h, link(h.apps.v1), user);
      expect(admin.status).toBe(403);
      expect((admin.body as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'missing_rights',
        message: expect.stringMatching(names) as unknown,
      });
    },
  );

  it('an unknown app has no installation link (404 page)', async () => {
    const res = await h.http.get('/opc/apps/no-such-app/install');
    expect(res.status).toBe(404);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('id="error"');
  });

  it('an unknown or expired login session shows an error page, never a redirect', async () => {
    const user = await createPartner(h);
    const login = await openLogin(h, link(h.apps.v1), '/opc/login');
    h.clock.advance(31 * 60 * 1000);
    const res = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, username: user.username, password: user.password });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toMatch(/expired/);
  });

  it('HTML-escapes every reflected value', async () => {
    const evil = '"><script>alert(1)</script>';
    const login = await openLogin(h, link(h.apps.v1), '/opc/login');
    const retry = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, username: evil, password: 'x' });
    expect(retry.text).not.toContain('<script>');
    expect(retry.text).toContain('value="&quot;&gt;&lt;script&gt;');
    const page = await h.http.get(pathOf(authorizeUrl({ clientId: evil })));
    expect(page.status).toBe(400);
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&lt;script&gt;');
  });
});

describe('OPC invitation link (private app)', () => {
  let h: Harness;
  beforeEach(async () => {
    const [v1, v2] = defaultApps();
    h = await harness({ apps: [{ ...v1!, visibility: 'private' }, v2!], invitationTtlSeconds: 900 });
  });

  it('a private app has no installation link', async () => {
    expect(h.apps.v1.visibility).toBe('private');
    expect(h.apps.v1.installationUrl).toBeNull();
    expect((await h.http.get(`/opc/apps/${h.apps.v1.appId}/install`)).status).toBe(404);
  });

  it('an invitation link installs once; opening it without confirming leaves it valid; a second use is refused', async () => {
    const invitation = await invite(h, h.apps.v1.appId);
    expect(invitation.url).toMatch(/^http:\/\/otto\.test\/opc\/invitations\/[A-Za-z0-9_-]{20,}$/);
    expect(Date.parse(invitation.expiresAt) - h.clock.now()).toBe(900 * 1000);

    const user = await createPartner(h);
    // Opened, logged in, even cancelled: still valid.
    await openLogin(h, invitation.url, '/opc/login');
    const cancelled = await decide(h, (await submitLogin(h, invitation.url, user)).text, 'cancel');
    expect(cancelled.headers.location).toMatch(/\/opc\/cancelled/);

    const consent = await submitLogin(h, invitation.url, user);
    for (const scope of h.apps.v1.scopes) expect(consent.text).toContain(`<li class="scope">${scope}</li>`);
    const done = await decide(h, consent.text, 'confirm');
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe(REDIRECT_URI);
    expect(await installations(h, user.partnerId)).toHaveLength(1);

    const other = await createPartner(h);
    const again = await h.http.get(pathOf(invitation.url));
    expect(again.status).toBe(410);
    expect(again.headers.location).toBeUndefined();
    expect(again.text).toMatch(/already been used/);
    const viaAdmin = await adminConsent(h, invitation.url, other);
    expect(viaAdmin.status).toBe(410);
    expect((viaAdmin.body as { error: { code: string } }).error.code).toBe('invitation_used');
    expect(await installations(h, other.partnerId)).toEqual([]);
  });

  it('a link opened by two sellers is used up by the first confirmation', async () => {
    const invitation = await invite(h, h.apps.v1.appId);
    const a = await createPartner(h);
    const b = await createPartner(h);
    const consentA = await submitLogin(h, invitation.url, a);
    const consentB = await submitLogin(h, invitation.url, b);
    expect((await decide(h, consentA.text, 'confirm')).headers.location).toBe(REDIRECT_URI);
    const late = await decide(h, consentB.text, 'confirm');
    expect(late.status).toBe(410);
    expect(late.headers.location).toBeUndefined();
    expect(await installations(h, b.partnerId)).toEqual([]);
  });

  it('expires after invitationTtlSeconds (410); an unknown link is 404', async () => {
    const invitation = await invite(h, h.apps.v1.appId);
    const user = await createPartner(h);
    const login = await openLogin(h, invitation.url, '/opc/login');
    h.clock.advance(900 * 1000);
    const expired = await h.http.get(pathOf(invitation.url));
    expect(expired.status).toBe(410);
    expect(expired.text).toMatch(/expired/);
    // A login page opened before the expiry cannot use it either.
    const late = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, username: user.username, password: user.password });
    expect(late.status).toBe(410);
    expect((await adminConsent(h, invitation.url, user)).status).toBe(410);
    expect((await h.http.get('/opc/invitations/inv_unknown')).status).toBe(404);
    expect((await adminConsent(h, 'http://otto.test/opc/invitations/inv_unknown', user)).status).toBe(404);
    expect(await installations(h, user.partnerId)).toEqual([]);
  });

  it('the admin consent automation consumes the invitation on confirm, not on deny', async () => {
    const invitation = await invite(h, h.apps.v1.appId);
    const user = await createPartner(h);
    const denied = await adminConsent(h, invitation.url, user, 'deny').expect(200);
    expect((denied.body as { redirectTo: string }).redirectTo).toMatch(
      /^http:\/\/otto\.test\/opc\/cancelled/,
    );
    const confirmed = await adminConsent(h, invitation.url, user, 'confirm').expect(200);
    expect((confirmed.body as { redirectTo: string }).redirectTo).toBe(REDIRECT_URI);
    expect((await adminConsent(h, invitation.url, user, 'confirm')).status).toBe(410);
  });

  it('invitations exist only for private apps', async () => {
    const res = await h.http.post(`/__admin/apps/${h.apps.v2.appId}/invitations`).expect(409);
    expect((res.body as { error: { code: string } }).error.code).toBe('public_app');
    await h.http.post('/__admin/apps/nope/invitations').expect(404);
  });
});

describe('/oauth2/auth login (Keycloak: identity only, nothing is installed)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('a login form with Cancel; login redirects with code, state and iss and installs nothing', async () => {
    const user = await createPartner(h, { admin: false, dienstleisterFreigaben: false });
    const url = authorizeUrl({ clientId: h.apps.v1.clientId, state: 'abc' });
    const login = await openLogin(h, url, '/oauth2/auth/login');
    expect(login.html).toContain('name="cancel"');
    const res = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, username: user.username, password: user.password });
    expect(res.status).toBe(302);
    const params = callbackParams(res.headers.location ?? '');
    expect(Object.keys(params).sort()).toEqual(['code', 'iss', 'state']);
    expect(params.code).toMatch(/^oc_/);
    expect(params.state).toBe('abc');
    expect(params.iss).toBe(REALM);
    expect(await installations(h, user.partnerId)).toEqual([]);

    // The login session is single-use.
    const again = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, username: user.username, password: user.password });
    expect(again.status).toBe(400);
  });

  it('Cancel goes back with error=access_denied, state and iss only', async () => {
    const login = await openLogin(h, authorizeUrl({ clientId: h.apps.v1.clientId }), '/oauth2/auth/login');
    const res = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, cancel: 'cancel' });
    expect(res.status).toBe(302);
    expect(callbackParams(res.headers.location ?? '')).toEqual({
      error: 'access_denied',
      state: 'st-123',
      iss: REALM,
    });
  });

  it('OTTO’s 2023 request (no redirect_uri, no state) uses the only registered URI and echoes no state', async () => {
    const user = await createPartner(h);
    const params = await consentViaAdmin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, redirectUri: null, state: null }),
      user,
    );
    expect(Object.keys(params).sort()).toEqual(['code', 'iss']);
  });

  it('without redirect_uri and several registered URIs → an error page', async () => {
    const multi = await harness({ redirectUris: [REDIRECT_URI, 'http://localhost:3000/other'] });
    const res = await multi.http.get(
      pathOf(authorizeUrl({ clientId: multi.apps.v1.clientId, redirectUri: null })),
    );
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it('a wrong password re-renders the login form', async () => {
    const user = await createPartner(h);
    const res = await submitLogin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId }),
      { username: user.username, password: 'wrong' },
      '/oauth2/auth/login',
    );
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('role="alert"');
  });

  it.each([
    ['unknown client_id', { clientId: 'nope' }],
    ['unregistered redirect_uri', { redirectUri: 'http://evil.example/cb' }],
    ['redirect_uri differing in a trailing slash', { redirectUri: `${REDIRECT_URI}/` }],
  ])('%s → an error page and no redirect', async (_name, override) => {
    const res = await h.http.get(pathOf(authorizeUrl({ clientId: h.apps.v1.clientId, ...override })));
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('id="error"');
  });

  it.each([
    ['response_type=token', { responseType: 'token' }, 'unsupported_response_type'],
    ['an unknown scope', { scope: 'installation orders' }, 'invalid_scope'],
    ['the developer scope', { scope: 'developer' }, 'invalid_scope'],
  ])('%s → redirect back with an OAuth error', async (_name, override, error) => {
    const res = await h.http.get(pathOf(authorizeUrl({ clientId: h.apps.v1.clientId, ...override })));
    expect(res.status).toBe(302);
    expect(callbackParams(res.headers.location ?? '')).toMatchObject({ error, state: 'st-123', iss: REALM });
  });

  it('PKCE is optional (Keycloak); only S256 is accepted; requirePkce makes it mandatory', async () => {
    expect((await h.http.get(pathOf(authorizeUrl({ clientId: h.apps.v1.clientId })))).status).toBe(200);
    const url = new URL(authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }));
    url.searchParams.set('code_challenge_method', 'plain');
    const plain = await h.http.get(pathOf(url.toString()));
    expect(callbackParams(plain.headers.location ?? '').error).toBe('invalid_request');

    const strict = await harness({ requirePkce: true });
    const res = await strict.http.get(pathOf(authorizeUrl({ clientId: strict.apps.v1.clientId })));
    expect(callbackParams(res.headers.location ?? '').error).toBe('invalid_request');
    expect(
      (
        await strict.http.get(
          pathOf(authorizeUrl({ clientId: strict.apps.v1.clientId, challenge: pkcePair().challenge })),
        )
      ).status,
    ).toBe(200);
  });

  it('admin consent: deny = Cancel (no credentials needed), bad credentials on confirm = 401', async () => {
    const user = await createPartner(h);
    const url = authorizeUrl({ clientId: h.apps.v1.clientId });
    const denied = await adminConsent(h, url, { username: 'nobody', password: 'x' }, 'deny').expect(200);
    expect(callbackParams((denied.body as { redirectTo: string }).redirectTo)).toEqual({
      error: 'access_denied',
      state: 'st-123',
      iss: REALM,
    });
    expect((await adminConsent(h, url, { ...user, password: 'wrong' })).status).toBe(401);
  });
});
