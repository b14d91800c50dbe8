import {
  adminConsent,
  authorizationCode,
  authorizeUrl,
  bearer,
  callbackParams,
  connect,
  consentViaAdmin,
  createPartner,
  developerToken,
  exchangeCode,
  harness,
  install,
  jwtClaims,
  mint,
  pkcePair,
  REDIRECT_URI,
  userToken,
  type Harness,
} from './helpers';

const REALM = 'http://otto.test/sec-api/auth/realms/otto-partner';
const NO_CHALLENGE = 'PKCE code verifier specified but challenge not present in authorization';

function expectOAuthError(res: { status: number; body: unknown }, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error, error_description: expect.any(String) as unknown });
}

function description(res: { body: unknown }): string {
  return (res.body as { error_description: string }).error_description;
}

async function freshCode(h: Harness, version: 'v1' | 'v2' = 'v1', withPkce = false) {
  const user = await createPartner(h);
  const pkce = pkcePair();
  const code = await authorizationCode(h, h.apps[version], user, withPkce ? pkce : undefined);
  return { code, verifier: withPkce ? pkce.verifier : undefined, user };
}

function lookup(h: Harness, token: string, appId = h.apps.v1.appId) {
  return h.http.get(`/v1/apps/${appId}/installation`).set(...bearer(token));
}

describe('code exchange (POST /oauth2/token, authorization_code)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('answers only access_token by default: OTTO does not specify this answer (otto-api.md §2.4)', async () => {
    const { code } = await freshCode(h);
    const res = await exchangeCode(h, h.apps.v1, code).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ access_token: expect.any(String) as unknown });
  });

  it('userTokenAnswer "keycloak" answers with the fields of OTTO’s token samples', async () => {
    h = await harness({ userTokenAnswer: 'keycloak' });
    const { code } = await freshCode(h);
    const res = await exchangeCode(h, h.apps.v1, code).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String) as unknown,
      expires_in: 1800,
      refresh_expires_in: 7200,
      refresh_token: expect.any(String) as unknown,
      token_type: 'Bearer',
      'not-before-policy': 0,
      session_state: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      scope: 'installation partnerId',
    });
  });

  it('the user token is a JWT with iss, exp, iat, azp, preferred_username, scope and partner_id (string), no installation', async () => {
    const { code, user } = await freshCode(h);
    const body = (await exchangeCode(h, h.apps.v1, code).expect(200)).body as { access_token: string };
    const claims = jwtClaims(body.access_token);
    expect(claims).toMatchObject({
      iss: REALM,
      azp: h.apps.v1.clientId,
      preferred_username: user.username,
      scope: 'installation partnerId',
      partner_id: user.partnerId,
    });
    expect(typeof claims.partner_id).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(1800);
    expect(claims.iat).toBe(Math.floor(h.clock.now() / 1000));
    expect(claims).not.toHaveProperty('partner');
    expect(JSON.stringify(claims)).not.toMatch(/installation_?id/i);
  });

  it('the partner-id claim name is an option (partnerIdClaim: "partner")', async () => {
    const alt = await harness({
      partnerIdClaim: 'partner',
      userTokenAnswer: 'keycloak',
      userTokenTtlSeconds: 300,
      userTokenRefreshTtlSeconds: 900,
    });
    const user = await createPartner(alt);
    const code = await authorizationCode(alt, alt.apps.v1, user);
    const body = (await exchangeCode(alt, alt.apps.v1, code).expect(200)).body as {
      access_token: string;
      expires_in: number;
      refresh_expires_in: number;
    };
    const claims = jwtClaims(body.access_token);
    expect(claims.partner).toBe(user.partnerId);
    expect(claims).not.toHaveProperty('partner_id');
    expect(body).toMatchObject({ expires_in: 300, refresh_expires_in: 900 });
  });

  it('partnerIdClaim "none": the user token carries no partner id (null allowed, otto-api.md §2.4)', async () => {
    const bare = await harness({ partnerIdClaim: 'none' });
    const user = await createPartner(bare);
    const code = await authorizationCode(bare, bare.apps.v1, user);
    const body = (await exchangeCode(bare, bare.apps.v1, code).expect(200)).body as { access_token: string };
    const claims = jwtClaims(body.access_token);
    expect(claims).not.toHaveProperty('partner_id');
    expect(claims).not.toHaveProperty('partner');
    expect(JSON.stringify(claims)).not.toContain(user.partnerId);
  });

  it('codes are single-use, and a replay revokes the tokens issued from it', async () => {
    h = await harness({ userTokenAnswer: 'keycloak' });
    const { code, user } = await freshCode(h);
    await install(h, h.apps.v1, user);
    const first = await exchangeCode(h, h.apps.v1, code).expect(200);
    const { access_token: token, refresh_token: refresh } = first.body as {
      access_token: string;
      refresh_token: string;
    };
    await lookup(h, token).expect(200);

    const replay = await exchangeCode(h, h.apps.v1, code);
    expectOAuthError(replay, 400, 'invalid_grant');
    expect(description(replay)).toMatch(/already used/);
    await lookup(h, token).expect(401);
    const refreshed = await h.http.post('/oauth2/token').type('form').send({
      grant_type: 'refresh_token',
      refresh_token: refresh,
      client_id: h.apps.v1.clientId,
      client_secret: h.apps.v1.clientSecret,
    });
    expectOAuthError(refreshed, 400, 'invalid_grant');
  });

  it('codes expire after codeTtlSeconds (60 s by default)', async () => {
    const ok = await freshCode(h);
    h.clock.advance(59_000);
    await exchangeCode(h, h.apps.v1, ok.code).expect(200);

    const late = await freshCode(h);
    h.clock.advance(60_000);
    const res = await exchangeCode(h, h.apps.v1, late.code);
    expectOAuthError(res, 400, 'invalid_grant');
    expect(description(res)).toMatch(/expired/);
  });

  it('binds the code to the redirect_uri it was issued for; without one in the request nothing is compared', async () => {
    const { code } = await freshCode(h);
    expectOAuthError(
      await exchangeCode(h, h.apps.v1, code, undefined, { redirect_uri: `${REDIRECT_URI}?x=1` }),
      400,
      'invalid_grant',
    );
    const other = await freshCode(h);
    expectOAuthError(
      await exchangeCode(h, h.apps.v1, other.code, undefined, { redirect_uri: undefined }),
      400,
      'invalid_grant',
    );

    const user = await createPartner(h);
    const params = await consentViaAdmin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, redirectUri: null }),
      user,
    );
    await exchangeCode(h, h.apps.v1, params.code ?? '', undefined, { redirect_uri: undefined }).expect(200);
  });

  it('refuses a code issued to another client, without burning it', async () => {
    const { code } = await freshCode(h, 'v1');
    expectOAuthError(await exchangeCode(h, h.apps.v2, code), 400, 'invalid_grant');
    await exchangeCode(h, h.apps.v1, code).expect(200);
  });

  it('refuses a wrong client secret and an unknown client with 401 invalid_client', async () => {
    const { code } = await freshCode(h);
    const wrong = await exchangeCode(h, h.apps.v1, code, undefined, { client_secret: 'nope' });
    expectOAuthError(wrong, 401, 'invalid_client');
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
    expectOAuthError(
      await h.http
        .post('/v1/token')
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' }),
      401,
      'invalid_client',
    );
    // The refused attempt did not burn the code (the client was not authenticated).
    await exchangeCode(h, h.apps.v1, code).expect(200);
  });
});

describe('PKCE as Keycloak does it', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('with a challenge: the right verifier passes, a wrong or missing one is invalid_grant', async () => {
    const ok = await freshCode(h, 'v1', true);
    await exchangeCode(h, h.apps.v1, ok.code, ok.verifier).expect(200);
    const wrong = await freshCode(h, 'v1', true);
    expectOAuthError(await exchangeCode(h, h.apps.v1, wrong.code, pkcePair().verifier), 400, 'invalid_grant');
    const missing = await freshCode(h, 'v1', true);
    const res = await exchangeCode(h, h.apps.v1, missing.code);
    expectOAuthError(res, 400, 'invalid_grant');
    expect(description(res)).toMatch(/verifier not specified/);
  });

  it('a code_verifier for a code issued without a challenge is refused', async () => {
    const { code } = await freshCode(h);
    const res = await exchangeCode(h, h.apps.v1, code, pkcePair().verifier);
    expectOAuthError(res, 400, 'invalid_grant');
    expect(description(res)).toBe(NO_CHALLENGE);
  });

  it('dropCodeChallenge (runtime setting): the front door drops the challenge, so an exchange with the verifier fails', async () => {
    expect((await h.http.get('/__admin/settings').expect(200)).body).toEqual({
      dropCodeChallenge: false,
      partnerIdClaim: 'partner_id',
      revokedMintStatus: 403,
      reinstallKeepsInstallationId: false,
    });
    const patched = await h.http.patch('/__admin/settings').send({ dropCodeChallenge: true }).expect(200);
    expect(patched.body).toMatchObject({ dropCodeChallenge: true, partnerIdClaim: 'partner_id' });

    const a = await freshCode(h, 'v1', true);
    const res = await exchangeCode(h, h.apps.v1, a.code, a.verifier);
    expectOAuthError(res, 400, 'invalid_grant');
    expect(description(res)).toBe(NO_CHALLENGE);
    const b = await freshCode(h, 'v1', true);
    await exchangeCode(h, h.apps.v1, b.code).expect(200);

    // With requirePkce the front door makes every authorize request fail.
    const strict = await harness({ requirePkce: true, dropCodeChallenge: true });
    expect((await strict.http.get('/__admin/settings').expect(200)).body).toMatchObject({
      dropCodeChallenge: true,
    });
    const refused = await adminConsent(
      strict,
      authorizeUrl({ clientId: strict.apps.v1.clientId, challenge: pkcePair().challenge }),
      await createPartner(strict),
    ).expect(200);
    expect(callbackParams((refused.body as { redirectTo: string }).redirectTo).error).toBe('invalid_request');

    await h.http.patch('/__admin/settings').send({ dropCodeChallenge: 'yes' }).expect(400);
    await h.http.patch('/__admin/settings').send({ other: true }).expect(400);
    await h.http.post('/__admin/reset').expect(204);
    expect((await h.http.get('/__admin/settings').expect(200)).body).toEqual({
      dropCodeChallenge: false,
      partnerIdClaim: 'partner_id',
      revokedMintStatus: 403,
      reinstallKeepsInstallationId: false,
    });
  });
});

describe('refresh_token grant', () => {
  it('issues a new user token for the same partner; the refresh token is no Bearer token', async () => {
    const h = await harness({ userTokenAnswer: 'keycloak' });
    const { code, user } = await freshCode(h);
    await install(h, h.apps.v1, user);
    const first = (await exchangeCode(h, h.apps.v1, code).expect(200)).body as {
      refresh_token: string;
      session_state: string;
    };
    await lookup(h, first.refresh_token).expect(401);
    const form = {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: h.apps.v1.clientId,
      client_secret: h.apps.v1.clientSecret,
    };
    const res = await h.http.post('/oauth2/token').type('form').send(form).expect(200);
    const body = res.body as { access_token: string; session_state: string };
    expect(body.session_state).toBe(first.session_state);
    expect(jwtClaims(body.access_token).partner_id).toBe(user.partnerId);
    await lookup(h, body.access_token).expect(200);

    expectOAuthError(
      await h.http
        .post('/oauth2/token')
        .type('form')
        .send({ ...form, client_id: h.apps.v2.clientId, client_secret: h.apps.v2.clientSecret }),
      400,
      'invalid_grant',
    );
    expectOAuthError(await h.http.post('/v1/token').type('form').send(form), 400, 'unsupported_grant_type');
    h.clock.advance(7200 * 1000);
    expectOAuthError(await h.http.post('/oauth2/token').type('form').send(form), 400, 'invalid_grant');
  });
});

describe('client credentials (developer token)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  const form = (h: Harness) => ({
    grant_type: 'client_credentials',
    client_id: h.apps.v1.clientId,
    client_secret: h.apps.v1.clientSecret,
  });

  it('scope=developer on /v1/token and /oauth2/token → exactly { access_token, expires_in, scope }', async () => {
    for (const path of ['/v1/token', '/oauth2/token']) {
      const res = await h.http
        .post(path)
        .type('form')
        .send({ ...form(h), scope: 'developer' })
        .expect(200);
      expect(res.body).toEqual({
        access_token: expect.any(String) as unknown,
        expires_in: 1800,
        scope: 'developer',
      });
      const claims = jwtClaims((res.body as { access_token: string }).access_token);
      expect(claims).toMatchObject({ iss: REALM, azp: h.apps.v1.clientId, clientId: h.apps.v1.clientId });
      expect(claims).not.toHaveProperty('partner_id');
      expectOAuthError(
        await h.http
          .post(path)
          .type('form')
          .send({ ...form(h), scope: 'developer orders' }),
        400,
        'invalid_scope',
      );
    }
  });

  it('without scope the token lacks `developer` and the accessToken endpoint refuses it with 403', async () => {
    const c = await connect(h, 'v1');
    const res = await h.http.post('/v1/token').type('form').send(form(h)).expect(200);
    const body = res.body as { access_token: string; scope: string };
    expect(body.scope.split(' ')).not.toContain('developer');
    expect((await mint(h, h.apps.v1, c.installationId, body.access_token)).status).toBe(403);
    expect((await mint(h, h.apps.v1, c.installationId, await developerToken(h, h.apps.v1))).status).toBe(200);
  });

  it('client_secret_basic: Keycloak (/oauth2/token) accepts it, form fields winning; OTTO’s /v1/token only takes form fields', async () => {
    const app = h.apps.v1;
    const basic = (secret: string) => `Basic ${Buffer.from(`${app.clientId}:${secret}`).toString('base64')}`;
    const grant = { grant_type: 'client_credentials', scope: 'developer' };
    const res = await h.http
      .post('/oauth2/token')
      .set('Authorization', basic(app.clientSecret))
      .type('form')
      .send(grant)
      .expect(200);
    expect((res.body as { scope: string }).scope).toBe('developer');
    // Keycloak's ClientIdAndSecretAuthenticator: form client_id/client_secret override the header.
    expectOAuthError(
      await h.http
        .post('/oauth2/token')
        .set('Authorization', basic(app.clientSecret))
        .type('form')
        .send({ ...grant, client_secret: 'wrong' }),
      401,
      'invalid_client',
    );
    await h.http
      .post('/oauth2/token')
      .set('Authorization', basic('wrong'))
      .type('form')
      .send({ ...grant, client_secret: app.clientSecret })
      .expect(200);
    // /v1/token (otto-api.md §3): client_id and client_secret are form fields; a Basic header is no client auth.
    expectOAuthError(
      await h.http.post('/v1/token').set('Authorization', basic(app.clientSecret)).type('form').send(grant),
      401,
      'invalid_client',
    );
  });

  it('answers unsupported_grant_type and invalid_request as RFC 6749 describes', async () => {
    const app = h.apps.v1;
    const creds = { client_id: app.clientId, client_secret: app.clientSecret };
    expectOAuthError(
      await h.http
        .post('/v1/token')
        .type('form')
        .send({ ...creds, grant_type: 'password' }),
      400,
      'unsupported_grant_type',
    );
    expectOAuthError(
      await h.http
        .post('/v1/token')
        .type('form')
        .send({ ...creds, grant_type: 'authorization_code', code: 'x' }),
      400,
      'unsupported_grant_type',
    );
    expectOAuthError(await h.http.post('/oauth2/token').type('form').send(creds), 400, 'invalid_request');
    expectOAuthError(
      await h.http.post('/v1/token').send({ ...creds, grant_type: 'client_credentials' }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await h.http
        .post('/oauth2/token')
        .type('form')
        .send({ ...creds, grant_type: 'authorization_code' }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await h.http
        .post('/oauth2/token')
        .type('form')
        .send({ ...creds, grant_type: 'authorization_code', code: 'never-issued' }),
      400,
      'invalid_grant',
    );
  });

  it('tokens live tokenTtlSeconds', async () => {
    const short = await harness({ tokenTtlSeconds: 120 });
    const res = await short.http
      .post('/v1/token')
      .type('form')
      .send({ ...form(short), scope: 'developer' });
    expect((res.body as { expires_in: number }).expires_in).toBe(120);
  });
});

describe('issuer and discovery', () => {
  it('the issuer is the Keycloak realm URL, with its discovery document', async () => {
    const h = await harness();
    const res = await h.http
      .get('/sec-api/auth/realms/otto-partner/.well-known/openid-configuration')
      .expect(200);
    expect(res.body).toMatchObject({
      issuer: REALM,
      authorization_endpoint: 'http://otto.test/oauth2/auth',
      token_endpoint: 'http://otto.test/oauth2/token',
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(h.emulator.issuer).toBe(REALM);
    const custom = await harness({ issuer: 'https://api.otto.market/sec-api/auth/realms/otto-partner' });
    const doc = await custom.http.get('/sec-api/auth/realms/otto-partner/.well-known/openid-configuration');
    expect((doc.body as { issuer: string }).issuer).toBe(
      'https://api.otto.market/sec-api/auth/realms/otto-partner',
    );
  });
});

describe('developer API: installation and installation tokens', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('GET …/installation: 404 before the installation, then { installationId } only, for any user of that partner', async () => {
    const user = await createPartner(h);
    const before = await userToken(h, h.apps.v1, user);
    await lookup(h, before).expect(404);

    await install(h, h.apps.v1, user);
    // The same user token now finds it: the lookup is by app and partner, not by token.
    const res = await lookup(h, before).expect(200);
    expect(res.body).toEqual({ installationId: expect.any(String) as unknown });
    const id = (res.body as { installationId: string }).installationId;
    expect(h.emulator.state.installations.find((i) => i.installationId === id)?.partnerId).toBe(
      user.partnerId,
    );

    // v2 is not installed for this partner.
    const v2Token = await userToken(h, h.apps.v2, user);
    await lookup(h, v2Token, h.apps.v2.appId).expect(404);

    // After "Zugriff entziehen" the partner has no installation again.
    await h.http.post(`/__admin/partners/${user.partnerId}/revoke`).send({}).expect(200);
    await lookup(h, before).expect(404);
  });

  it('the user token only reads its own app and needs the installation scope', async () => {
    const user = await createPartner(h);
    await install(h, h.apps.v1, user);
    const token = await userToken(h, h.apps.v1, user);
    await lookup(h, token, h.apps.v2.appId).expect(403);
    await h.http.get(`/v1/apps/${h.apps.v1.appId}/installation`).expect(401);
    await lookup(h, await developerToken(h, h.apps.v1)).expect(403);

    const params = await consentViaAdmin(
      h,
      authorizeUrl({ clientId: h.apps.v1.clientId, scope: 'partnerId' }),
      user,
    );
    const narrow = (await exchangeCode(h, h.apps.v1, params.code ?? '').expect(200)).body as {
      access_token: string;
    };
    await lookup(h, narrow.access_token).expect(403);
  });

  it('minting → exactly { access_token, expires_in } with the app scopes in the token', async () => {
    const c = await connect(h, 'v1');
    const minted = await mint(h, h.apps.v1, c.installationId);
    expect(minted.status).toBe(200);
    expect(minted.headers['cache-control']).toBe('no-store');
    expect(minted.body).toEqual({ access_token: expect.any(String) as unknown, expires_in: 1800 });
    const claims = jwtClaims((minted.body as { access_token: string }).access_token);
    expect(claims.scope).toBe(h.apps.v1.scopes.join(' '));
    expect(claims.partner_id).toBe(c.partnerId);
  });

  it('minting: 401 without a developer token, 403 with another app’s, 404 for an unknown installation', async () => {
    const c = await connect(h, 'v1');
    const url = `/v1/apps/${h.apps.v1.appId}/installations/${c.installationId}/accessToken`;
    await h.http.post(url).expect(401);
    await h.http
      .post(url)
      .set(...bearer(await developerToken(h, h.apps.v2)))
      .expect(403);
    await h.http
      .post(url)
      .set(...bearer(c.token))
      .expect(403);
    expect((await mint(h, h.apps.v1, 'no-such-installation')).status).toBe(404);
    expect((await mint(h, h.apps.v2, c.installationId)).status).toBe(404);
  });

  it('an optional scope narrows the token; a scope the app lacks is invalid_scope', async () => {
    const c = await connect(h, 'v1');
    const dev = await developerToken(h, h.apps.v1);
    const url = `/v1/apps/${h.apps.v1.appId}/installations/${c.installationId}/accessToken`;
    const narrow = await h.http
      .post(url)
      .set(...bearer(dev))
      .type('form')
      .send({ scope: 'orders' })
      .expect(200);
    expect(jwtClaims((narrow.body as { access_token: string }).access_token).scope).toBe('orders');
    const wide = await h.http
      .post(url)
      .set(...bearer(dev))
      .type('form')
      .send({ scope: 'shipping-profiles' });
    expect(wide.status).toBe(400);
    expect((wide.body as { error: string }).error).toBe('invalid_scope');
    // `scope` is a form field: a JSON body is refused, not read (nor ignored into an all-scopes token).
    const json = await h.http
      .post(url)
      .set(...bearer(dev))
      .send({ scope: 'orders' });
    expect(json.status).toBe(415);
    // No body at all is fine: the token carries the app's scopes.
    const plain = await h.http
      .post(url)
      .set(...bearer(dev))
      .expect(200);
    expect(jwtClaims((plain.body as { access_token: string }).access_token).scope).toBe(
      h.apps.v1.scopes.join(' '),
    );
  });

  it('revocation refuses minting with 403, while the developer token keeps working', async () => {
    const c = await connect(h, 'v1');
    const dev = await developerToken(h, h.apps.v1);
    const res = await h.http.post(`/__admin/partners/${c.partnerId}/revoke`).send({}).expect(200);
    expect(res.body).toEqual({ revoked: [c.installationId] });
    expect((await mint(h, h.apps.v1, c.installationId, dev)).status).toBe(403);
    // The developer token belongs to the app, not the seller.
    const other = await connect(h, 'v1');
    expect((await mint(h, h.apps.v1, other.installationId, dev)).status).toBe(200);
  });

  it('installing v2 creates a new installation; the v1 one stays until revoked', async () => {
    const v1 = await connect(h, 'v1');
    const v2 = await connect(h, 'v2', v1.user);
    expect(v2.partnerId).toBe(v1.partnerId);
    expect(v2.installationId).not.toBe(v1.installationId);
    expect((await mint(h, h.apps.v1, v1.installationId)).status).toBe(200);

    await h.http
      .post(`/__admin/partners/${v1.partnerId}/revoke`)
      .send({ appId: h.apps.v1.appId })
      .expect(200);
    expect((await mint(h, h.apps.v1, v1.installationId)).status).toBe(403);
    expect((await mint(h, h.apps.v2, v2.installationId)).status).toBe(200);
  });

  it('connecting again while installed keeps the installation; after revocation a new one is created', async () => {
    const first = await connect(h, 'v1');
    const again = await connect(h, 'v1', first.user);
    expect(again.installationId).toBe(first.installationId);
    await h.http.post(`/__admin/partners/${first.partnerId}/revoke`).send({}).expect(200);
    const after = await connect(h, 'v1', first.user);
    expect(after.installationId).not.toBe(first.installationId);
  });

  it('revokedMintStatus (runtime setting): minting a revoked installation answers 400, 401 or 404 instead', async () => {
    const c = await connect(h, 'v1');
    await h.http.post(`/__admin/partners/${c.partnerId}/revoke`).send({}).expect(200);
    for (const status of [400, 401, 404, 403]) {
      await h.http.patch('/__admin/settings').send({ revokedMintStatus: status }).expect(200);
      expect((await mint(h, h.apps.v1, c.installationId)).status).toBe(status);
    }
    await h.http.patch('/__admin/settings').send({ revokedMintStatus: 500 }).expect(400);
    // A live installation is unaffected.
    await h.http.patch('/__admin/settings').send({ revokedMintStatus: 404 }).expect(200);
    const other = await connect(h, 'v1');
    expect((await mint(h, h.apps.v1, other.installationId)).status).toBe(200);
  });

  it('reinstallKeepsInstallationId: installing after revocation brings the old id back; its old tokens stay dead', async () => {
    const first = await connect(h, 'v1');
    await h.http.patch('/__admin/settings').send({ reinstallKeepsInstallationId: true }).expect(200);
    await h.http.post(`/__admin/partners/${first.partnerId}/revoke`).send({}).expect(200);
    expect((await mint(h, h.apps.v1, first.installationId)).status).toBe(403);
    const after = await connect(h, 'v1', first.user);
    expect(after.installationId).toBe(first.installationId);
    expect((await mint(h, h.apps.v1, first.installationId)).status).toBe(200);
    // The token minted before the revocation does not come back to life.
    expect(
      (
        await h.http
          .get('/v4/orders')
          .set(...bearer(first.token))
          .expect(401)
      ).status,
    ).toBe(401);
    await h.http
      .get('/v4/orders')
      .set(...bearer(after.token))
      .expect(200);
    expect(h.emulator.state.installations.filter((i) => i.partnerId === first.partnerId)).toHaveLength(1);
  });
});
