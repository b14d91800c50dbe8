import {
  authorizeUrl,
  callbackParams,
  consentViaAdmin,
  createPartner,
  harness,
  pathOf,
  pkcePair,
  REDIRECT_URI,
  type Harness,
} from './helpers';

/** Pulls the hidden session field and form action out of a page, as a browser would submit it. */
function form(html: string, id: string): { action: string; session: string } {
  const match = new RegExp(
    `<form id="${id}" method="post" action="([^"]+)">\\s*<input type="hidden" name="session" value="([^"]+)">`,
  ).exec(html);
  if (!match?.[1] || !match[2]) throw new Error(`no form ${id} in page:\n${html}`);
  return { action: match[1], session: match[2] };
}

async function openLogin(h: Harness, url: string) {
  const res = await h.http.get(pathOf(url)).expect(200);
  expect(res.type).toBe('text/html');
  return form(res.text, 'login');
}

async function submitLogin(h: Harness, url: string, user: { username: string; password: string }) {
  const login = await openLogin(h, url);
  expect(login.action).toBe('http://otto.test/oauth2/auth/login');
  return h.http
    .post(pathOf(login.action))
    .type('form')
    .send({ session: login.session, username: user.username, password: user.password });
}

describe('OPC login and consent pages', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('serves a real login form, then a consent page listing the app scopes, and Confirm redirects with code, state and iss', async () => {
    const user = await createPartner(h);
    const url = authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge, state: 'abc' });
    const loginPage = await h.http.get(pathOf(url)).expect(200);
    expect(loginPage.text).toMatch(/<input type="text" name="username"/);
    expect(loginPage.text).toMatch(/<input type="password" name="password"/);

    const consent = await submitLogin(h, url, user);
    expect(consent.status).toBe(200);
    for (const scope of h.apps.v1.scopes) expect(consent.text).toContain(`<li class="scope">${scope}</li>`);
    expect(consent.text).not.toContain('shipping-profiles');
    expect(consent.text).toContain('>Confirm</button>');
    expect(consent.text).toContain('>Cancel</button>');

    const c = form(consent.text, 'consent');
    const done = await h.http
      .post(pathOf(c.action))
      .type('form')
      .send({ session: c.session, decision: 'confirm' });
    expect(done.status).toBe(302);
    const params = callbackParams(done.headers.location ?? '');
    expect(params.code).toMatch(/^oc_/);
    expect(params.state).toBe('abc');
    expect(params.iss).toBe('http://otto.test');
    expect(params.error).toBeUndefined();

    // The consent session is single-use.
    const again = await h.http
      .post(pathOf(c.action))
      .type('form')
      .send({ session: c.session, decision: 'confirm' });
    expect(again.status).toBe(400);
    expect(again.headers.location).toBeUndefined();
  });

  it('the v2 consent page lists shipping-profiles', async () => {
    const user = await createPartner(h);
    const consent = await submitLogin(
      h,
      authorizeUrl({ clientId: h.apps.v2.clientId, challenge: pkcePair().challenge }),
      user,
    );
    expect(consent.text).toContain('<li class="scope">shipping-profiles</li>');
  });

  it('Cancel sends the browser back with access_denied', async () => {
    const user = await createPartner(h);
    const consent = await submitLogin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }),
      user,
    );
    const c = form(consent.text, 'consent');
    const res = await h.http
      .post(pathOf(c.action))
      .type('form')
      .send({ session: c.session, decision: 'cancel' });
    expect(res.status).toBe(302);
    const params = callbackParams(res.headers.location ?? '');
    expect(params).toMatchObject({ error: 'access_denied', state: 'st-123' });
    expect(params.code).toBeUndefined();
  });

  it('a wrong password re-renders the login form with a message and no redirect', async () => {
    const user = await createPartner(h);
    const res = await submitLogin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }),
      {
        username: user.username,
        password: 'wrong',
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('role="alert"');
    expect(res.text).toContain('<form id="login"');
  });

  it.each([
    [{ admin: false, dienstleisterFreigaben: true }, /admin rights/, /Dienstleister Freigaben/],
    [{ admin: true, dienstleisterFreigaben: false }, /Dienstleister Freigaben/, /admin rights/],
  ])('refuses a user without rights %j and names the missing right', async (rights, names, notNames) => {
    const user = await createPartner(h, rights);
    const res = await submitLogin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }),
      user,
    );
    expect(res.status).toBe(403);
    expect(res.text).toMatch(names);
    const link = /<a id="continue" href="([^"]+)"/.exec(res.text)?.[1];
    expect(link).toBeDefined();
    const params = callbackParams((link ?? '').replace(/&amp;/g, '&'));
    expect(params.error).toBe('access_denied');
    expect(params.error_description).toMatch(names);
    expect(params.error_description).not.toMatch(notNames);
    expect(params.state).toBe('st-123');
    expect(params.code).toBeUndefined();
  });

  it('refusal is the same through the admin consent automation', async () => {
    const user = await createPartner(h, { admin: false, dienstleisterFreigaben: false });
    const params = await consentViaAdmin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }),
      user,
    );
    expect(params.error).toBe('access_denied');
    expect(params.error_description).toMatch(/admin rights/);
    expect(params.error_description).toMatch(/Dienstleister Freigaben/);
  });

  it.each([
    ['unknown client_id', { clientId: 'nope' }],
    ['unregistered redirect_uri', { redirectUri: 'http://evil.example/cb' }],
    ['redirect_uri differing in a trailing slash', { redirectUri: `${REDIRECT_URI}/` }],
  ])('%s → an error page and no redirect', async (_name, override) => {
    const url = authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge, ...override });
    const res = await h.http.get(pathOf(url));
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('id="error"');
  });

  it.each([
    ['response_type=token', { responseType: 'token' }, 'unsupported_response_type'],
    ['an unknown scope', { scope: 'installation orders' }, 'invalid_scope'],
    ['no PKCE challenge', { challenge: undefined }, 'invalid_request'],
  ])('%s → redirect back with an OAuth error', async (_name, override, error) => {
    const url = authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge, ...override });
    const res = await h.http.get(pathOf(url));
    expect(res.status).toBe(302);
    expect(callbackParams(res.headers.location ?? '')).toMatchObject({ error, state: 'st-123' });
  });

  it('refuses the plain PKCE method', async () => {
    const url = new URL(authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }));
    url.searchParams.set('code_challenge_method', 'plain');
    const res = await h.http.get(pathOf(url.toString()));
    expect(callbackParams(res.headers.location ?? '').error).toBe('invalid_request');
  });

  it('HTML-escapes every reflected value', async () => {
    const evil = '"><script>alert(1)</script>';
    const page = await h.http.get(pathOf(authorizeUrl({ clientId: evil, challenge: pkcePair().challenge })));
    expect(page.status).toBe(400);
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('&lt;script&gt;');

    const user = await createPartner(h, { admin: false });
    const refusal = await submitLogin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge, state: evil }),
      user,
    );
    expect(refusal.text).not.toContain('<script>');
    // The state still round-trips intact through the continue link.
    const link = /<a id="continue" href="([^"]+)"/.exec(refusal.text)?.[1] ?? '';
    expect(callbackParams(link.replace(/&amp;/g, '&')).state).toBe(evil);

    const login = await openLogin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }),
    );
    const retry = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, username: evil, password: 'x' });
    expect(retry.text).not.toContain('<script>');
    expect(retry.text).toContain('value="&quot;&gt;&lt;script&gt;');
  });

  it('an unknown or expired login session shows an error page, never a redirect', async () => {
    const user = await createPartner(h);
    const login = await openLogin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, challenge: pkcePair().challenge }),
    );
    h.clock.advance(31 * 60 * 1000);
    const res = await h.http
      .post(pathOf(login.action))
      .type('form')
      .send({ session: login.session, username: user.username, password: user.password });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toMatch(/expired/);
  });
});
