import {
  authorizeUrl,
  bearer,
  connect,
  consentViaAdmin,
  createPartner,
  developerToken,
  exchangeCode,
  harness,
  mint,
  pkcePair,
  REDIRECT_URI,
  type Harness,
} from './helpers';

async function freshCode(h: Harness, version: 'v1' | 'v2' = 'v1') {
  const user = await createPartner(h);
  const pkce = pkcePair();
  const params = await consentViaAdmin(
    h,
    authorizeUrl({ clientId: h.apps[version].clientId, challenge: pkce.challenge }),
    user,
  );
  return { code: params.code ?? '', verifier: pkce.verifier, user };
}

function expectOAuthError(res: { status: number; body: unknown }, status: number, error: string) {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error, error_description: expect.any(String) as unknown });
}

describe('token endpoints', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('exchanges a code (with PKCE) for a user token with the consent scopes', async () => {
    const { code, verifier } = await freshCode(h);
    const res = await exchangeCode(h, h.apps.v1, code, verifier).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String) as unknown,
      token_type: 'Bearer',
      expires_in: 1800,
      scope: 'installation partnerId',
    });
  });

  it('refuses a wrong PKCE verifier', async () => {
    const { code } = await freshCode(h);
    expectOAuthError(await exchangeCode(h, h.apps.v1, code, pkcePair().verifier), 400, 'invalid_grant');
  });

  it('refuses a missing PKCE verifier', async () => {
    const { code } = await freshCode(h);
    expectOAuthError(await exchangeCode(h, h.apps.v1, code, ''), 400, 'invalid_grant');
  });

  it('codes are single-use, and a replay revokes the token issued from it', async () => {
    const { code, verifier } = await freshCode(h);
    const first = await exchangeCode(h, h.apps.v1, code, verifier).expect(200);
    const token = (first.body as { access_token: string }).access_token;
    await h.http
      .get(`/v1/apps/${h.apps.v1.appId}/installation`)
      .set(...bearer(token))
      .expect(200);

    const replay = await exchangeCode(h, h.apps.v1, code, verifier);
    expectOAuthError(replay, 400, 'invalid_grant');
    expect((replay.body as { error_description: string }).error_description).toMatch(/already used/);
    await h.http
      .get(`/v1/apps/${h.apps.v1.appId}/installation`)
      .set(...bearer(token))
      .expect(401);
  });

  it('codes expire after codeTtlSeconds (60 s by default)', async () => {
    const ok = await freshCode(h);
    h.clock.advance(59_000);
    await exchangeCode(h, h.apps.v1, ok.code, ok.verifier).expect(200);

    const late = await freshCode(h);
    h.clock.advance(60_000);
    const res = await exchangeCode(h, h.apps.v1, late.code, late.verifier);
    expectOAuthError(res, 400, 'invalid_grant');
    expect((res.body as { error_description: string }).error_description).toMatch(/expired/);
  });

  it('refuses a redirect_uri different from the one the code was issued for', async () => {
    const { code, verifier } = await freshCode(h);
    const res = await exchangeCode(h, h.apps.v1, code, verifier, { redirect_uri: `${REDIRECT_URI}?x=1` });
    expectOAuthError(res, 400, 'invalid_grant');
  });

  it('refuses a code issued to another client', async () => {
    const { code, verifier } = await freshCode(h, 'v1');
    expectOAuthError(await exchangeCode(h, h.apps.v2, code, verifier), 400, 'invalid_grant');
  });

  it('refuses a wrong client secret and an unknown client with 401 invalid_client', async () => {
    const { code, verifier } = await freshCode(h);
    const wrong = await exchangeCode(h, h.apps.v1, code, verifier, { client_secret: 'nope' });
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
    await exchangeCode(h, h.apps.v1, code, verifier).expect(200);
  });

  it('accepts client_secret_basic', async () => {
    const app = h.apps.v1;
    const basic = Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64');
    const res = await h.http
      .post('/v1/token')
      .set('Authorization', `Basic ${basic}`)
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'developer' })
      .expect(200);
    expect((res.body as { scope: string }).scope).toBe('developer');
  });

  it('client_credentials issues developer tokens on /v1/token and /oauth2/token; other scopes are invalid_scope', async () => {
    const app = h.apps.v1;
    const form = {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
    };
    for (const path of ['/v1/token', '/oauth2/token']) {
      const res = await h.http
        .post(path)
        .type('form')
        .send({ ...form, scope: 'developer' })
        .expect(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 1800, scope: 'developer' });
      expectOAuthError(
        await h.http
          .post(path)
          .type('form')
          .send({ ...form, scope: 'developer orders' }),
        400,
        'invalid_scope',
      );
    }
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
    const app = short.apps.v1;
    const res = await short.http
      .post('/v1/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret });
    expect((res.body as { expires_in: number }).expires_in).toBe(120);
  });
});

describe('developer API: installation and installation tokens', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('reads the installation with the user token and mints installation tokens with the app scopes', async () => {
    const { code, verifier, user } = await freshCode(h);
    const userToken = (
      (await exchangeCode(h, h.apps.v1, code, verifier).expect(200)).body as { access_token: string }
    ).access_token;
    const inst = await h.http
      .get(`/v1/apps/${h.apps.v1.appId}/installation`)
      .set(...bearer(userToken))
      .expect(200);
    const body = inst.body as { installationId: string; partnerId: string };
    expect(body.installationId).toEqual(expect.any(String));
    const partner = h.emulator.state.partners.find((p) => p.users.some((u) => u.username === user.username));
    expect(body.partnerId).toBe(partner?.partnerId);

    const minted = await mint(h, h.apps.v1, body.installationId);
    expect(minted.status).toBe(200);
    expect(minted.body).toEqual({
      access_token: expect.any(String) as unknown,
      expires_in: 1800,
      token_type: 'Bearer',
      scope: h.apps.v1.scopes.join(' '),
    });
  });

  it('the user token only reads its own app and needs the installation scope', async () => {
    const { code, verifier } = await freshCode(h);
    const userToken = (
      (await exchangeCode(h, h.apps.v1, code, verifier).expect(200)).body as { access_token: string }
    ).access_token;
    await h.http
      .get(`/v1/apps/${h.apps.v2.appId}/installation`)
      .set(...bearer(userToken))
      .expect(403);
    await h.http.get(`/v1/apps/${h.apps.v1.appId}/installation`).expect(401);
    const dev = await developerToken(h, h.apps.v1);
    await h.http
      .get(`/v1/apps/${h.apps.v1.appId}/installation`)
      .set(...bearer(dev))
      .expect(403);
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
    expect((narrow.body as { scope: string }).scope).toBe('orders');
    const wide = await h.http
      .post(url)
      .set(...bearer(dev))
      .type('form')
      .send({ scope: 'shipping-profiles' });
    expect(wide.status).toBe(400);
    expect((wide.body as { error: string }).error).toBe('invalid_scope');
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

  it('consenting to v2 creates a new installation; the v1 one stays until revoked', async () => {
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

  it('consenting again to the same app reuses the active installation; after revocation it creates a new one', async () => {
    const first = await connect(h, 'v1');
    const again = await connect(h, 'v1', first.user);
    expect(again.installationId).toBe(first.installationId);
    await h.http.post(`/__admin/partners/${first.partnerId}/revoke`).send({}).expect(200);
    const after = await connect(h, 'v1', first.user);
    expect(after.installationId).not.toBe(first.installationId);
  });

  it('with reconsent=refuse, consenting again while installed is access_denied', async () => {
    const strict = await harness({ reconsent: 'refuse' });
    const first = await connect(strict, 'v1');
    const params = await consentViaAdmin(
      strict,
      authorizeUrl({ clientId: strict.apps.v1.clientId, challenge: pkcePair().challenge }),
      first.user,
    );
    expect(params.error).toBe('access_denied');
    expect(params.error_description).toMatch(/already installed/);
  });
});
