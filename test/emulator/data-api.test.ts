import { bearer, connect, developerToken, harness, type Connected, type Harness } from './helpers';

interface OrdersPage {
  resources: {
    salesOrderId: string;
    lastModifiedDate: string;
    fulfillmentStatus: string;
    positionItems: unknown[];
  }[];
  links: { rel: string; href: string }[];
}

describe('orders', () => {
  let h: Harness;
  let c: Connected;
  beforeEach(async () => {
    h = await harness();
    c = await connect(h, 'v1');
  });

  it('1,000 generated orders come back exactly once through nextcursor paging at limit 128', async () => {
    const created = (
      await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 1000 }).expect(201)
    ).body as { salesOrderId: string }[];
    expect(created).toHaveLength(1000);

    const seen: string[] = [];
    let path: string | undefined = '/v4/orders?limit=128';
    let pages = 0;
    let lastChange = '';
    while (path) {
      const res = await h.http
        .get(path)
        .set(...bearer(c.token))
        .expect(200);
      const page = res.body as OrdersPage;
      pages += 1;
      expect(page.resources.length).toBeLessThanOrEqual(128);
      for (const order of page.resources) {
        // Ordered by last change, so the importer can use the last change date as its cursor.
        expect(order.lastModifiedDate >= lastChange).toBe(true);
        lastChange = order.lastModifiedDate;
        seen.push(order.salesOrderId);
      }
      const next = page.links.find((l) => l.rel === 'next')?.href;
      // With a cursor only limit is honoured: keep passing it.
      path = next ? `${next}&limit=128` : undefined;
    }
    expect(pages).toBe(Math.ceil(1000 / 128));
    expect(seen).toHaveLength(1000);
    expect(new Set(seen).size).toBe(1000);
    expect(new Set(seen)).toEqual(new Set(created.map((o) => o.salesOrderId)));
  });

  it('has OTTO’s order shape and a default limit of 128', async () => {
    await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 130 }).expect(201);
    const page = (
      await h.http
        .get('/v4/orders')
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
    expect(page.resources).toHaveLength(128);
    expect(page.links).toEqual([
      { rel: 'next', href: expect.stringMatching(/^\/v4\/orders\?nextcursor=/) as unknown },
    ]);
    expect(page.resources[0]).toMatchObject({
      salesOrderId: expect.any(String) as unknown,
      orderNumber: expect.any(String) as unknown,
      orderDate: expect.any(String) as unknown,
      lastModifiedDate: expect.any(String) as unknown,
      fulfillmentStatus: 'PROCESSABLE',
      positionItems: expect.arrayContaining([
        expect.objectContaining({
          positionItemId: expect.any(String) as unknown,
          fulfillmentStatus: 'PROCESSABLE',
          itemValueGrossPrice: { amount: expect.any(Number) as unknown, currency: 'EUR' },
          product: expect.objectContaining({
            sku: expect.any(String) as unknown,
            productTitle: expect.any(String) as unknown,
          }) as unknown,
        }),
      ]) as unknown,
    });
  });

  it('refuses limit over 256 and nonsense parameters with 400', async () => {
    await h.http
      .get('/v4/orders?limit=256')
      .set(...bearer(c.token))
      .expect(200);
    for (const q of [
      'limit=257',
      'limit=0',
      'limit=abc',
      'fromDate=yesterday',
      'fulfillmentStatus=LOST',
      'nextcursor=garbage',
    ]) {
      const res = await h.http.get(`/v4/orders?${q}`).set(...bearer(c.token));
      expect([q, res.status]).toEqual([q, 400]);
      expect((res.body as { errors: unknown[] }).errors).toHaveLength(1);
    }
  });

  it('filters by fromDate and fulfillmentStatus, and the cursor keeps the filter while ignoring new ones', async () => {
    await h.http
      .post(`/__admin/partners/${c.partnerId}/orders`)
      .send({ count: 3, fulfillmentStatus: 'SENT' })
      .expect(201);
    h.clock.advance(60_000);
    const from = new Date(h.clock.now()).toISOString();
    await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 5 }).expect(201);

    const recent = (
      await h.http
        .get(`/v4/orders?fromDate=${from}`)
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
    expect(recent.resources).toHaveLength(5);
    const sent = (
      await h.http
        .get('/v4/orders?fulfillmentStatus=SENT&limit=2')
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
    expect(sent.resources.map((o) => o.fulfillmentStatus)).toEqual(['SENT', 'SENT']);
    const next = sent.links[0]?.href ?? '';
    const rest = (
      await h.http
        .get(`${next}&fulfillmentStatus=PROCESSABLE`)
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
    expect(rest.resources.map((o) => o.fulfillmentStatus)).toEqual(['SENT']);
    expect(rest.links).toEqual([]);
  });

  it('a status change bumps lastModifiedDate so the order shows up after the importer’s cursor', async () => {
    const [first] = (
      await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 2 }).expect(201)
    ).body as {
      salesOrderId: string;
      lastModifiedDate: string;
    }[];
    const all = (
      await h.http
        .get('/v4/orders')
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
    const cursor = all.resources[all.resources.length - 1]?.lastModifiedDate ?? '';
    const changed = await h.http
      .post(`/__admin/partners/${c.partnerId}/orders/${first?.salesOrderId}/status`)
      .send({ fulfillmentStatus: 'CANCELLED_BY_MARKETPLACE' })
      .expect(200);
    expect((changed.body as { lastModifiedDate: string }).lastModifiedDate > cursor).toBe(true);
    const since = (
      await h.http
        .get(`/v4/orders?fromDate=${encodeURIComponent(cursor)}`)
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
    expect(since.resources.map((o) => o.salesOrderId)).toContain(first?.salesOrderId);
    expect(since.resources.find((o) => o.salesOrderId === first?.salesOrderId)?.fulfillmentStatus).toBe(
      'CANCELLED_BY_MARKETPLACE',
    );
  });
});

describe('token checks on data endpoints', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ tokenTtlSeconds: 1800 });
  });

  async function lastLog(path: string) {
    const log = (await h.http.get('/__admin/requests').expect(200)).body as {
      path: string;
      token?: string;
      status: number;
      partnerId?: string;
    }[];
    return log.filter((e) => e.path === path).at(-1);
  }

  it('expired token → 401, logged as "expired"', async () => {
    const c = await connect(h, 'v1');
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    expect(await lastLog('/v4/orders')).toMatchObject({
      token: 'valid',
      status: 200,
      partnerId: c.partnerId,
    });
    h.clock.advance(1800 * 1000);
    const res = await h.http.get('/v4/orders').set(...bearer(c.token));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
    expect(await lastLog('/v4/orders')).toMatchObject({
      token: 'expired',
      status: 401,
      partnerId: c.partnerId,
    });
  });

  it('revoked installation → its tokens get 401, logged as "revoked"', async () => {
    const c = await connect(h, 'v1');
    await h.http.post(`/__admin/partners/${c.partnerId}/revoke`).send({}).expect(200);
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(401);
    expect(await lastLog('/v4/orders')).toMatchObject({ token: 'revoked', status: 401 });
  });

  it('with revokedTokensValidUntilExpiry, issued tokens keep working until they expire', async () => {
    const lenient = await harness({ revokedTokensValidUntilExpiry: true });
    const c = await connect(lenient, 'v1');
    await lenient.http.post(`/__admin/partners/${c.partnerId}/revoke`).send({}).expect(200);
    await lenient.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    lenient.clock.advance(1800 * 1000);
    await lenient.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(401);
  });

  it('missing or unknown token → 401; developer token → 403', async () => {
    await h.http.get('/v4/orders').expect(401);
    expect(await lastLog('/v4/orders')).toMatchObject({ token: 'missing' });
    await h.http
      .get('/v4/orders')
      .set(...bearer('made-up'))
      .expect(401);
    expect(await lastLog('/v4/orders')).toMatchObject({ token: 'invalid' });
    const dev = await developerToken(h, h.apps.v1);
    await h.http
      .get('/v4/orders')
      .set(...bearer(dev))
      .expect(403);
    expect(await lastLog('/v4/orders')).toMatchObject({ token: 'wrong_scope' });
  });

  it('missing scope → 403 with a clear message, logged as "wrong_scope"', async () => {
    const c = await connect(h, 'v1');
    const res = await h.http.get('/v1/shipping-profiles').set(...bearer(c.token));
    expect(res.status).toBe(403);
    expect(JSON.stringify(res.body)).toMatch(/shipping-profiles.*v2 app/);
    expect(await lastLog('/v1/shipping-profiles')).toMatchObject({ token: 'wrong_scope', status: 403 });
  });

  it('never logs a client secret, code or token', async () => {
    const c = await connect(h, 'v1');
    await h.http
      .get(`/v4/orders?access_token=${c.token}`)
      .set(...bearer(c.token))
      .expect(200);
    const log = JSON.stringify((await h.http.get('/__admin/requests').expect(200)).body);
    expect(log).not.toContain(h.apps.v1.clientSecret);
    expect(log).not.toContain(c.token);
    expect(log).toContain('access_token=%5Bredacted%5D');
    expect(log).toContain('"durationMs"');
  });
});

describe('stock, prices, returns, shipping profiles, shipments', () => {
  let h: Harness;
  let c: Connected;
  beforeEach(async () => {
    h = await harness();
    c = await connect(h, 'v2');
  });

  const items = (n: number, f: (i: number) => object) => Array.from({ length: n }, (_, i) => f(i));

  it('quantities: 200 SKUs accepted, 201 refused, bad quantities refused with the item path; cursor read-back', async () => {
    await h.http
      .post('/v1/availability/quantities')
      .set(...bearer(c.token))
      .send(items(200, (i) => ({ sku: `SKU-${String(i).padStart(3, '0')}`, quantity: i, ignored: 'field' })))
      .expect(200);
    const tooMany = await h.http
      .post('/v1/availability/quantities')
      .set(...bearer(c.token))
      .send(items(201, (i) => ({ sku: `S${i}`, quantity: 1 })));
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toMatch(/200/);

    for (const bad of [-1, 1.5, '3']) {
      const res = await h.http
        .post('/v1/availability/quantities')
        .set(...bearer(c.token))
        .send([
          { sku: 'OK', quantity: 1 },
          { sku: 'BAD', quantity: bad },
        ]);
      expect(res.status).toBe(400);
      expect((res.body as { errors: { path: string }[] }).errors[0]?.path).toBe('[1].quantity');
    }

    const held = (await h.http.get(`/__admin/partners/${c.partnerId}/quantities`).expect(200))
      .body as unknown[];
    expect(held).toHaveLength(200);
    expect(held[0]).not.toHaveProperty('ignored');

    const seen: string[] = [];
    let path: string | undefined = '/v1/availability/quantities?limit=64';
    while (path) {
      const page = (
        await h.http
          .get(path)
          .set(...bearer(c.token))
          .expect(200)
      ).body as {
        resources: { sku: string }[];
        links: { href: string }[];
      };
      seen.push(...page.resources.map((r) => r.sku));
      path = page.links[0]?.href;
    }
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
  });

  it('prices: 500 → 202 with a process id, 501 → 400', async () => {
    const res = await h.http
      .post('/v5/products/prices')
      .set(...bearer(c.token))
      .send(items(500, (i) => ({ sku: `P${i}`, standardPrice: { amount: 10 + i, currency: 'EUR' } })));
    expect(res.status).toBe(202);
    const { processUuid, links } = res.body as { processUuid: string; links: { href: string }[] };
    expect(processUuid).toMatch(/^[0-9a-f-]{36}$/);
    const task = await h.http
      .get(links[0]?.href ?? '')
      .set(...bearer(c.token))
      .expect(200);
    expect(task.body).toMatchObject({ state: 'done', total: 500 });
    expect((await h.http.get(`/__admin/partners/${c.partnerId}/prices`).expect(200)).body).toHaveLength(500);

    const tooMany = await h.http
      .post('/v5/products/prices')
      .set(...bearer(c.token))
      .send(items(501, (i) => ({ sku: `P${i}`, standardPrice: { amount: 1, currency: 'EUR' } })));
    expect(tooMany.status).toBe(400);
  });

  it('returns: limit ≤ 50, next-link paging, acceptance and rejection', async () => {
    await h.http.post(`/__admin/partners/${c.partnerId}/returns`).send({ count: 60 }).expect(201);
    await h.http
      .get('/v3/returns?limit=51')
      .set(...bearer(c.token))
      .expect(400);
    const seen: string[] = [];
    let path: string | undefined = '/v3/returns?status=ANNOUNCED&limit=50';
    while (path) {
      const page = (
        await h.http
          .get(path)
          .set(...bearer(c.token))
          .expect(200)
      ).body as {
        positionItems: { positionItemId: string; salesOrderId: string }[];
        links: { rel: string; href: string }[];
      };
      seen.push(...page.positionItems.map((p) => p.positionItemId));
      path = page.links.find((l) => l.rel === 'next')?.href;
    }
    expect(new Set(seen).size).toBe(60);

    await h.http
      .post('/v3/returns/acceptance')
      .set(...bearer(c.token))
      .send({ positionItems: seen.slice(0, 2).map((positionItemId) => ({ positionItemId })) })
      .expect(200);
    await h.http
      .post('/v3/returns/rejection')
      .set(...bearer(c.token))
      .send({ positionItems: [{ positionItemId: seen[2], reason: 'damaged' }] })
      .expect(200);
    const twice = await h.http
      .post('/v3/returns/acceptance')
      .set(...bearer(c.token))
      .send({ positionItems: [{ positionItemId: seen[0] }] });
    expect(twice.status).toBe(400);
    const tooMany = await h.http
      .post('/v3/returns/acceptance')
      .set(...bearer(c.token))
      .send({ positionItems: items(201, () => ({ positionItemId: 'x' })) });
    expect(tooMany.status).toBe(400);
    const announced = (
      await h.http
        .get('/v3/returns?status=ANNOUNCED&limit=50&page=2')
        .set(...bearer(c.token))
        .expect(200)
    ).body as { positionItems: unknown[] };
    expect(announced.positionItems).toHaveLength(7);
  });

  it('shipping profiles: create, list, read, replace, delete (v2 app)', async () => {
    const created = await h.http
      .post('/v1/shipping-profiles')
      .set(...bearer(c.token))
      .send({ shippingProfileName: 'Standard', defaultProcessingTime: 2, unknownField: true })
      .expect(201);
    const id = (created.body as { shippingProfileId: string }).shippingProfileId;
    expect(created.body).toMatchObject({
      shippingProfileName: 'Standard',
      deliveryType: 'PARCEL',
      orderCutoff: '14:00',
    });
    const list = (
      await h.http
        .get('/v1/shipping-profiles')
        .set(...bearer(c.token))
        .expect(200)
    ).body as { resources: unknown[] };
    expect(list.resources).toHaveLength(1);
    await h.http
      .put(`/v1/shipping-profiles/${id}`)
      .set(...bearer(c.token))
      .send({ shippingProfileName: 'Express', deliveryType: 'PARCEL' })
      .expect(200);
    const read = await h.http
      .get(`/v1/shipping-profiles/${id}`)
      .set(...bearer(c.token))
      .expect(200);
    expect(read.body).toMatchObject({ shippingProfileId: id, shippingProfileName: 'Express' });
    await h.http
      .post('/v1/shipping-profiles')
      .set(...bearer(c.token))
      .send({ orderCutoff: '25:00' })
      .expect(400);
    await h.http
      .delete(`/v1/shipping-profiles/${id}`)
      .set(...bearer(c.token))
      .expect(204);
    await h.http
      .get(`/v1/shipping-profiles/${id}`)
      .set(...bearer(c.token))
      .expect(404);
    expect((await h.http.get(`/__admin/partners/${c.partnerId}/shipping-profiles`).expect(200)).body).toEqual(
      [],
    );
  });

  it('shipments set the position items (and the order) to SENT', async () => {
    const [order] = (
      await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 1 }).expect(201)
    ).body as {
      salesOrderId: string;
      positionItems: { positionItemId: string }[];
    }[];
    const positionItems = (order?.positionItems ?? []).map((p) => ({
      positionItemId: p.positionItemId,
      salesOrderId: order?.salesOrderId,
    }));
    const body = {
      trackingKey: { carrier: 'DHL', trackingNumber: '0034' },
      shipDate: '2025-03-01T10:00:00.000Z',
      positionItems,
    };
    const res = await h.http
      .post('/v1/shipments')
      .set(...bearer(c.token))
      .send(body)
      .expect(201);
    expect(res.body).toEqual({ shipmentId: expect.any(String) as unknown });
    const held = (await h.http.get(`/__admin/partners/${c.partnerId}/orders`).expect(200)).body as {
      fulfillmentStatus: string;
    }[];
    expect(held[0]?.fulfillmentStatus).toBe('SENT');
    await h.http
      .post('/v1/shipments')
      .set(...bearer(c.token))
      .send(body)
      .expect(400);
  });
});
