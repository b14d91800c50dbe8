import * as ids from '../../emulator/ids';
import { defaultApps } from '../../emulator/options';
import { adminConsent, bearer, connect, createPartner, harness, invite, type Harness } from './helpers';

describe('admin API', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('lists the default apps: v1 and v2 of one service partner, public, with scope sets and installation links', async () => {
    const apps = (await h.http.get('/__admin/apps').expect(200)).body as Record<string, unknown>[];
    expect(apps).toHaveLength(2);
    const v1 = [
      'orders',
      'products',
      'availability',
      'quantities',
      'returns',
      'shipments',
      'price-reduction',
      'receipts',
    ];
    expect(apps[0]).toEqual({
      version: 'v1',
      appId: expect.any(String) as unknown,
      clientId: expect.any(String) as unknown,
      clientSecret: expect.any(String) as unknown,
      scopes: v1,
      redirectUris: ['http://localhost:3000/oauth/callback'],
      name: expect.any(String) as unknown,
      visibility: 'public',
      installationUrl: `http://otto.test/opc/apps/${apps[0]?.appId as string}/install`,
    });
    expect(apps[1]).toMatchObject({
      version: 'v2',
      scopes: [...v1, 'shipping-profiles'],
      visibility: 'public',
      installationUrl: `http://otto.test/opc/apps/${apps[1]?.appId as string}/install`,
    });
    expect(apps[0]?.clientId).not.toBe(apps[1]?.clientId);
  });

  it('redirect URIs are configurable', async () => {
    const custom = await harness({ redirectUris: ['https://connector.example/oauth/callback'] });
    expect(custom.apps.v1.redirectUris).toEqual(['https://connector.example/oauth/callback']);
  });

  it('private apps: no installation link, invitations valid 24 h by default', async () => {
    const [v1, v2] = defaultApps();
    const p = await harness({ apps: [{ ...v1!, visibility: 'private' }, v2!] });
    expect(p.apps.v1).toMatchObject({ visibility: 'private', installationUrl: null });
    const invitation = await invite(p, p.apps.v1.appId);
    expect(Object.keys(invitation).sort()).toEqual(['expiresAt', 'url']);
    expect(Date.parse(invitation.expiresAt) - p.clock.now()).toBe(24 * 60 * 60 * 1000);
    // Not listable, but kept in the state (and the state file).
    expect(p.emulator.state.invitations).toHaveLength(1);
    await p.http.post('/__admin/reset').expect(204);
    expect(p.emulator.state.invitations).toEqual([]);
    expect((await p.http.get(new URL(invitation.url).pathname)).status).toBe(404);
  });

  it('creates partners, refuses duplicates and invalid bodies, and ignores unknown fields', async () => {
    const res = await h.http
      .post('/__admin/partners')
      .send({
        partnerId: 'P1',
        extra: 1,
        users: [{ username: 'u', password: 'p', admin: true, dienstleisterFreigaben: true }],
      })
      .expect(201);
    expect(res.body).toEqual({ partnerId: 'P1' });
    await h.http
      .post('/__admin/partners')
      .send({
        partnerId: 'P1',
        users: [{ username: 'u2', password: 'p', admin: true, dienstleisterFreigaben: true }],
      })
      .expect(409);
    await h.http
      .post('/__admin/partners')
      .send({ users: [{ username: 'u', password: 'p', admin: true, dienstleisterFreigaben: true }] })
      .expect(409);
    const bad = await h.http
      .post('/__admin/partners')
      .send({ users: [{ username: 'x' }] })
      .expect(400);
    expect((bad.body as { error: { code: string } }).error.code).toBe('invalid_body');
    await h.http.get('/__admin/partners/nope/orders').expect(404);
  });

  it('never picks a partner id that is taken: a random id that collides is drawn again', async () => {
    const user = (name: string) => [
      { username: name, password: 'p', admin: true, dienstleisterFreigaben: true },
    ];
    await h.http
      .post('/__admin/partners')
      .send({ partnerId: 'P11111111', users: user('a') })
      .expect(201);
    // The next random draw repeats the taken id once, then yields a free one.
    const draws = jest.spyOn(ids, 'shortId').mockReturnValueOnce('11111111').mockReturnValueOnce('22222222');
    try {
      const res = await h.http
        .post('/__admin/partners')
        .send({ users: user('b') })
        .expect(201);
      expect(res.body).toEqual({ partnerId: 'P22222222' });
      expect(draws).toHaveBeenCalledTimes(2);
    } finally {
      draws.mockRestore();
    }
  });

  it('consent automation answers a 4xx JSON error wherever a page would show one', async () => {
    const user = await createPartner(h);
    const clerk = await createPartner(h, { dienstleisterFreigaben: false });
    const errorOf = async (url: string, who = user, decision: 'confirm' | 'deny' = 'confirm') => {
      const res = await adminConsent(h, url, who, decision);
      expect(res.body).not.toHaveProperty('redirectTo');
      return { status: res.status, code: (res.body as { error: { code: string } }).error.code };
    };
    expect(await errorOf('http://otto.test/oauth2/auth?response_type=code&client_id=nope')).toEqual({
      status: 400,
      code: 'invalid_authorize_request',
    });
    expect(await errorOf('http://otto.test/somewhere/else')).toEqual({
      status: 400,
      code: 'invalid_authorize_url',
    });
    expect(await errorOf('http://otto.test/opc/apps/nope/install')).toEqual({
      status: 404,
      code: 'unknown_installation_link',
    });
    const link = h.apps.v1.installationUrl ?? '';
    expect(await errorOf(link, { ...user, password: 'wrong' })).toEqual({
      status: 401,
      code: 'bad_credentials',
    });
    const refused = await adminConsent(h, link, clerk);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: {
        code: 'missing_rights',
        message: expect.stringMatching(/Dienstleister Freigaben/) as unknown,
        details: { missing: ['the permission "Dienstleister Freigaben"'] },
      },
    });
    const good = `http://otto.test/oauth2/auth?response_type=code&client_id=${h.apps.v1.clientId}&scope=installation`;
    expect(await errorOf(good, { ...user, password: 'wrong' })).toEqual({
      status: 401,
      code: 'bad_credentials',
    });
  });

  it('settings: GET and PATCH dropCodeChallenge and partnerIdClaim', async () => {
    expect((await h.http.get('/__admin/settings').expect(200)).body).toEqual({
      dropCodeChallenge: false,
      partnerIdClaim: 'partner_id',
      revokedMintStatus: 403,
      reinstallKeepsInstallationId: false,
    });
    expect((await h.http.patch('/__admin/settings').send({}).expect(200)).body).toEqual({
      dropCodeChallenge: false,
      partnerIdClaim: 'partner_id',
      revokedMintStatus: 403,
      reinstallKeepsInstallationId: false,
    });
    await h.http.patch('/__admin/settings').send({ dropCodeChallenge: true }).expect(200);
    expect(h.emulator.context.settings.dropCodeChallenge).toBe(true);
    await h.http.patch('/__admin/settings').send({ partnerIdClaim: 'none' }).expect(200);
    expect(h.emulator.context.settings.partnerIdClaim).toBe('none');
    await h.http.patch('/__admin/settings').send({ partnerIdClaim: 'seller' }).expect(400);
  });

  it('request log: since filters by time, and admin calls are not logged', async () => {
    await h.http.get('/v4/orders').expect(401);
    h.clock.advance(5000);
    const since = new Date(h.clock.now()).toISOString();
    await h.http.get('/v1/shipping-profiles').expect(401);
    const all = (await h.http.get('/__admin/requests').expect(200)).body as { path: string }[];
    expect(all.map((e) => e.path)).toEqual(['/v4/orders', '/v1/shipping-profiles']);
    const recent = (await h.http.get(`/__admin/requests?since=${since}`).expect(200)).body as {
      path: string;
      token: string;
    }[];
    expect(recent).toEqual([
      expect.objectContaining({ path: '/v1/shipping-profiles', token: 'missing', status: 401 }),
    ]);
    await h.http.get('/__admin/requests?since=soon').expect(400);
  });

  it('reset forgets partners, installations, data, log, faults and settings but keeps the apps', async () => {
    const c = await connect(h, 'v1');
    await h.http.post('/__admin/faults').send({ pathPattern: '^/v4/orders$', status: 500 }).expect(201);
    await h.http
      .patch('/__admin/settings')
      .send({ dropCodeChallenge: true, partnerIdClaim: 'none' })
      .expect(200);
    await h.http.post('/__admin/reset').expect(204);
    expect((await h.http.get('/__admin/settings').expect(200)).body).toEqual({
      dropCodeChallenge: false,
      partnerIdClaim: 'partner_id',
      revokedMintStatus: 403,
      reinstallKeepsInstallationId: false,
    });
    expect(h.emulator.state.partners).toEqual([]);
    expect(h.emulator.state.installations).toEqual([]);
    expect((await h.http.get('/__admin/requests').expect(200)).body).toEqual([]);
    const res = await h.http.get('/v4/orders').set(...bearer(c.token));
    expect(res.status).toBe(401); // token forgotten, and no injected 500 any more
    expect((await h.http.get('/__admin/apps').expect(200)).body).toHaveLength(2);
  });

  it('errors never leak stack traces', async () => {
    const res = await h.http
      .post('/v1/availability/quantities')
      .set('content-type', 'application/json')
      .send('{"broken":');
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(res.text).not.toMatch(/SyntaxError/);
    const admin = await h.http
      .post('/__admin/partners')
      .set('content-type', 'application/json')
      .send('{nope');
    expect(admin.status).toBe(400);
    expect(admin.text).not.toMatch(/at .*\.(ts|js):\d+/);
    const unknown = await h.http.get('/v9/unknown').expect(404);
    expect(unknown.body).toEqual({ errors: [expect.objectContaining({ title: 'Not Found' })] });
  });
});

describe('fault injection', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });

  it('answers a status `times` times with Retry-After, then lets requests through', async () => {
    const c = await connect(h, 'v1');
    const fault = await h.http
      .post('/__admin/faults')
      .send({ method: 'get', pathPattern: '^/v4/orders', status: 503, times: 2, retryAfterSeconds: 7 })
      .expect(201);
    const id = (fault.body as { id: string }).id;
    for (let i = 0; i < 2; i++) {
      const res = await h.http.get('/v4/orders').set(...bearer(c.token));
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
    }
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    const log = (await h.http.get('/__admin/requests').expect(200)).body as {
      path: string;
      status: number;
      fault?: string;
    }[];
    expect(log.filter((e) => e.fault === id).map((e) => e.status)).toEqual([503, 503]);
  });

  it('matches method and pathPattern; probability 1 always fires, 0 never', async () => {
    const c = await connect(h, 'v1');
    await h.http
      .post('/__admin/faults')
      .send({ method: 'POST', pathPattern: '^/v4/orders$', status: 500 })
      .expect(201);
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    await h.http.delete('/__admin/faults').expect(204);

    await h.http
      .post('/__admin/faults')
      .send({ pathPattern: 'orders', status: 500, probability: 0 })
      .expect(201);
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    await h.http.delete('/__admin/faults').expect(204);

    await h.http
      .post('/__admin/faults')
      .send({ pathPattern: '/accessToken$', status: 502, probability: 1 })
      .expect(201);
    for (let i = 0; i < 3; i++) {
      const res = await h.http
        .post(`/v1/apps/${h.apps.v1.appId}/installations/${c.installationId}/accessToken`)
        .set(...bearer('whatever'));
      expect(res.status).toBe(502);
    }
    await h.http.delete('/__admin/faults').expect(204);
    expect((await h.http.get('/__admin/faults').expect(200)).body).toEqual([]);
  });

  it('partnerId scopes a fault to that partner’s Bearer tokens; other partners and token-less calls pass', async () => {
    const a = await connect(h, 'v1');
    const b = await connect(h, 'v1');
    const fault = await h.http
      .post('/__admin/faults')
      .send({ pathPattern: '^/v4/orders$', status: 500, times: 1, partnerId: b.partnerId })
      .expect(201);
    expect(fault.body).toMatchObject({ partnerId: b.partnerId, remaining: 1 });
    await h.http
      .get('/v4/orders')
      .set(...bearer(a.token))
      .expect(200);
    expect((await h.http.get('/v4/orders')).status).toBe(401); // no token: not the partner's
    expect((await h.http.get('/__admin/faults').expect(200)).body).toHaveLength(1);
    await h.http
      .get('/v4/orders')
      .set(...bearer(b.token))
      .expect(500);
    await h.http
      .get('/v4/orders')
      .set(...bearer(b.token))
      .expect(200);
    expect((await h.http.get('/__admin/faults').expect(200)).body).toEqual([]);
    const log = (await h.http.get('/__admin/requests').expect(200)).body as {
      partnerId?: string;
      fault?: string;
    }[];
    expect(log.filter((e) => e.fault === (fault.body as { id: string }).id).map((e) => e.partnerId)).toEqual([
      b.partnerId,
    ]);
  });

  it('probability uses the injectable random source', async () => {
    let next = 0.4;
    const r = await harness({ random: () => next });
    await r.http
      .post('/__admin/faults')
      .send({ pathPattern: '^/v4/orders$', status: 500, probability: 0.5 })
      .expect(201);
    expect((await r.http.get('/v4/orders')).status).toBe(500);
    next = 0.6;
    expect((await r.http.get('/v4/orders')).status).toBe(401);
  });

  it('adds latency without changing the answer', async () => {
    const c = await connect(h, 'v1');
    await h.http
      .post('/__admin/faults')
      .send({ pathPattern: '^/v4/orders$', latencyMs: 150, times: 1 })
      .expect(201);
    const started = Date.now();
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const log = (await h.http.get('/__admin/requests').expect(200)).body as {
      path: string;
      durationMs: number;
    }[];
    expect(log.filter((e) => e.path === '/v4/orders').at(-1)?.durationMs).toBeGreaterThanOrEqual(140);
  });

  it('refuses an invalid regular expression', async () => {
    await h.http.post('/__admin/faults').send({ pathPattern: '([' }).expect(400);
  });
});
