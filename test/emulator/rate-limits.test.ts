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

    clock.advance(750);
    await http.post('/v1/token').type('form').send(form).expect(200);
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
