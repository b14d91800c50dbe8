import request from 'supertest';
import { createEmulator } from '../../emulator/create-emulator';
import { bearer, connect, harness, testClock } from './helpers';

describe('rate limits', () => {
  it('caps the token endpoints at 10/s by default across all callers, without Retry-After', async () => {
    const clock = testClock(Date.parse('2025-03-01T10:00:00.250Z'));
    const emulator = createEmulator({ now: clock.now });
    const http = request(emulator.app);
    const app = emulator.apps[0]!;
    const form = {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
    };
    // Refused requests count too: OTTO counts requests, not successes.
    await http
      .post('/oauth2/token')
      .type('form')
      .send({ ...form, client_secret: 'wrong' })
      .expect(401);
    for (let i = 0; i < 8; i++) await http.post('/v1/token').type('form').send(form).expect(200);
    await http.post(`/v1/apps/${app.appId}/installations/x/accessToken`).expect(401);

    const limited = await http.post('/v1/token').type('form').send(form);
    expect(limited.status).toBe(429);
    // OTTO documents no Retry-After or rate-limit headers (docs/otto-api.md §5.8): clients back off on their own.
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(Object.keys(limited.headers).filter((name) => /ratelimit|retry/i.test(name))).toEqual([]);
    expect((await http.post('/oauth2/token').type('form').send(form)).status).toBe(429);
    // Data and admin endpoints are not part of this bucket.
    await http.get('/__admin/apps').expect(200);
    expect((await http.get('/v4/orders')).status).toBe(401);

    // A sliding second, not a calendar one: at 11:00:01.000 the requests of 10:00:00.250 still count.
    clock.advance(750);
    expect((await http.post('/v1/token').type('form').send(form)).status).toBe(429);
    clock.advance(249);
    expect((await http.post('/v1/token').type('form').send(form)).status).toBe(429);
    clock.advance(1);
    await http.post('/v1/token').type('form').send(form).expect(200);
  });

  it('counts any 1,000 ms, so a burst across a second boundary is refused (no 2 N in a few ms)', async () => {
    const h = await harness({ partnerRateLimitPerSecond: undefined });
    const a = await connect(h, 'v1');
    const clock = h.clock;
    clock.advance(Date.parse('2025-03-01T10:00:05.999Z') - clock.now());
    const orders = () => h.http.get('/v4/orders').set(...bearer(a.token));
    for (let i = 0; i < 20; i++) await orders().expect(200);
    clock.advance(1);
    expect((await orders()).status).toBe(429);
    clock.advance(998);
    expect((await orders()).status).toBe(429);
    clock.advance(1);
    await orders().expect(200);
  });

  it('is configurable', async () => {
    const h = await harness({ tokenRateLimitPerSecond: 2 });
    const app = h.apps.v1;
    const form = {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
    };
    await h.http.post('/v1/token').type('form').send(form).expect(200);
    await h.http.post('/v1/token').type('form').send(form).expect(200);
    await h.http.post('/v1/token').type('form').send(form).expect(429);
  });

  it('caps data calls at 20/s per partner by default, independently per partner', async () => {
    const h = await harness({ partnerRateLimitPerSecond: undefined });
    const a = await connect(h, 'v1');
    const b = await connect(h, 'v1');
    for (let i = 0; i < 20; i++)
      await h.http
        .get('/v4/orders')
        .set(...bearer(a.token))
        .expect(200);
    const limited = await h.http.get('/v4/orders').set(...bearer(a.token));
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(limited.body).toEqual({
      errors: [
        {
          path: '/v4/orders',
          title: 'Too Many Requests',
          detail: expect.any(String) as unknown,
          logref: expect.any(String) as unknown,
        },
      ],
    });
    // Every data API shares the partner's budget.
    await h.http
      .get('/v3/returns')
      .set(...bearer(a.token))
      .expect(429);
    await h.http
      .get('/v4/orders')
      .set(...bearer(b.token))
      .expect(200);
    h.clock.advance(1000);
    await h.http
      .get('/v4/orders')
      .set(...bearer(a.token))
      .expect(200);
  });

  it('GET /products (the price update tasks) is capped lower, at 10/s per partner, within the 20/s', async () => {
    const h = await harness({
      partnerRateLimitPerSecond: undefined,
      productsReadRateLimitPerSecond: undefined,
    });
    const a = await connect(h, 'v1');
    const b = await connect(h, 'v1');
    const task = (c: typeof a) =>
      h.http.get('/v5/products/update-tasks/3f1c2f8e-0000-4000-8000-000000000000').set(...bearer(c.token));
    // Unknown task: 404, but OTTO's gateway counted it.
    for (let i = 0; i < 10; i++) await task(a).expect(404);
    expect((await task(a)).status).toBe(429);
    // The partner's other APIs still have budget (20/s: 11 used), another partner its own.
    await h.http
      .get('/v4/orders')
      .set(...bearer(a.token))
      .expect(200);
    await task(b).expect(404);
    h.clock.advance(1000);
    await task(a).expect(404);
  });

  it('a 429 carries Retry-After only when a fault asks for it', async () => {
    const h = await harness();
    const c = await connect(h, 'v1');
    await h.http
      .post('/__admin/faults')
      .send({ pathPattern: '^/v4/orders$', status: 429, times: 1, retryAfterSeconds: 3 })
      .expect(201);
    await h.http
      .post('/__admin/faults')
      .send({ pathPattern: '^/v4/orders$', status: 429, times: 1 })
      .expect(201);
    const first = await h.http.get('/v4/orders').set(...bearer(c.token));
    expect([first.status, first.headers['retry-after']]).toEqual([429, '3']);
    const second = await h.http.get('/v4/orders').set(...bearer(c.token));
    expect([second.status, second.headers['retry-after']]).toEqual([429, undefined]);
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
  });
});
