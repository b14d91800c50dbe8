/**
 * Behaviour of the emulator's seller data endpoints (docs/otto-api.md §5). Response shapes are checked in
 * data-schemas.test.ts; this file checks what the endpoints do.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearer, connect, developerToken, harness, type Connected, type Harness } from './helpers';

interface PositionItem {
  positionItemId: string;
  fulfillmentStatus: string;
  sentDate?: string;
  cancellationDate?: string;
  cancellationReason?: string;
  returnedDate?: string;
  trackingInfo?: { carrier?: string; trackingNumber?: string };
  product: { sku: string };
}

interface Order {
  salesOrderId: string;
  orderNumber: string;
  orderDate: string;
  orderLifecycleInformation: { lifecycleChangeDate: string };
  lastModifiedDate?: string;
  positionItems: PositionItem[];
  deliveryAddress?: { countryCode: string };
  invoiceAddress?: unknown;
}

interface OrdersPage {
  resources: Order[];
  links: { rel: string; href: string }[];
}

const changeDate = (o: Order) => o.orderLifecycleInformation.lifecycleChangeDate;
const items = (n: number, f: (i: number) => object) => Array.from({ length: n }, (_, i) => f(i));

describe('orders v4', () => {
  let h: Harness;
  let c: Connected;
  beforeEach(async () => {
    h = await harness();
    c = await connect(h, 'v1');
  });

  const createOrders = async (body: object): Promise<Order[]> =>
    (await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send(body).expect(201)).body as Order[];
  const list = async (query: string): Promise<OrdersPage> =>
    (
      await h.http
        .get(`/v4/orders${query}`)
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
  const setStatus = async (order: Order, body: object): Promise<Order> =>
    (
      await h.http
        .post(`/__admin/partners/${c.partnerId}/orders/${order.salesOrderId}/status`)
        .send(body)
        .expect(200)
    ).body as Order;
  const ids = (page: OrdersPage) => page.resources.map((o) => o.salesOrderId);

  it('1,000 generated orders come back exactly once through nextcursor paging at limit 128', async () => {
    const created = await createOrders({ count: 1000 });
    expect(created).toHaveLength(1000);

    const seen: string[] = [];
    let path: string | undefined = '?limit=128';
    let pages = 0;
    let lastChange = '';
    while (path !== undefined) {
      const page = await list(path);
      pages += 1;
      expect(page.resources.length).toBeLessThanOrEqual(128);
      for (const order of page.resources) {
        // Ordered by lifecycle change date, strictly increasing: a usable "last change seen" cursor.
        expect(changeDate(order) > lastChange).toBe(true);
        lastChange = changeDate(order);
        seen.push(order.salesOrderId);
      }
      const next = page.links.find((l) => l.rel === 'next')?.href;
      // With a cursor only limit is honoured: keep passing it.
      path = next ? `${next.replace('/v4/orders', '')}&limit=128` : undefined;
    }
    expect(pages).toBe(Math.ceil(1000 / 128));
    expect(seen).toHaveLength(1000);
    expect(new Set(seen)).toEqual(new Set(created.map((o) => o.salesOrderId)));
  });

  it('PartnerOrder: no order-level status, default limit 128, next link only while more exist', async () => {
    await createOrders({ count: 130 });
    const page = await list('');
    expect(page.resources).toHaveLength(128);
    expect(page.links).toEqual([
      { rel: 'next', href: expect.stringMatching(/^\/v4\/orders\?nextcursor=[^&]+$/) as unknown },
    ]);
    const order = page.resources[0]!;
    expect(order).not.toHaveProperty('fulfillmentStatus');
    expect(order.orderNumber).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(order.positionItems[0]).toMatchObject({
      fulfillmentStatus: 'PROCESSABLE',
      itemValueGrossPrice: { amount: expect.any(Number) as unknown, currency: 'EUR' },
      product: {
        sku: expect.any(String) as unknown,
        articleNumber: expect.any(String) as unknown,
        productTitle: expect.any(String) as unknown,
        vatRate: expect.any(Number) as unknown,
      },
      processableDate: expect.any(String) as unknown,
    });
    expect(order.deliveryAddress?.countryCode).toBe('DEU');
    const rest = await list(`?${page.links[0]!.href.split('?')[1]}`);
    expect(rest.resources).toHaveLength(2);
    expect(rest.links).toEqual([]);
  });

  it('lastModifiedDate is optional: absent on every fifth generated order, or forced either way', async () => {
    const sometimes = await createOrders({ count: 10 });
    expect(sometimes.map((o) => o.lastModifiedDate === undefined)).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
    const never = await createOrders({ count: 3, lastModifiedDate: 'never' });
    expect(never.every((o) => o.lastModifiedDate === undefined)).toBe(true);
    const always = await createOrders({ count: 6, lastModifiedDate: 'always' });
    expect(always.every((o) => o.lastModifiedDate === changeDate(o))).toBe(true);
  });

  it('ANNOUNCED orders come without address; it appears once no item is announced', async () => {
    const [announced] = await createOrders({ count: 1, fulfillmentStatus: 'ANNOUNCED' });
    expect(announced).not.toHaveProperty('deliveryAddress');
    expect(announced).not.toHaveProperty('invoiceAddress');
    const processable = await setStatus(announced!, { fulfillmentStatus: 'PROCESSABLE' });
    expect(processable.deliveryAddress).toMatchObject({ countryCode: 'DEU' });
    expect(processable.invoiceAddress).toBeDefined();
  });

  it('refuses limit over 128 (the stricter of OTTO’s two texts) and nonsense parameters with 400', async () => {
    await list('?limit=128');
    for (const q of [
      'limit=129',
      'limit=256',
      'limit=0',
      'limit=abc',
      'limit=',
      'fromDate=yesterday',
      'fromDate=2025-03-01T10:00:00', // no zone
      'fromDate=2025-03-01T10:00:00%2001:00', // an unencoded "+" arrives as a space
      'fromOrderDate=2025-13-01T00:00:00Z',
      'fulfillmentStatus=LOST',
      'fulfillmentStatus=SENT,PROCESSABLE',
      'orderDirection=asc',
      'orderColumnType=LAST_MODIFIED',
      'mode=ALL',
      'nextcursor=garbage',
    ]) {
      const res = await h.http.get(`/v4/orders?${q}`).set(...bearer(c.token));
      expect([q, res.status]).toEqual([q, 400]);
      expect((res.body as { errors: unknown[] }).errors).toHaveLength(1);
    }
    await list(`?fromDate=${encodeURIComponent('2025-03-01T10:00:00+01:00')}`);

    // The other reading of OTTO's texts is an option.
    const wide = await harness({ ordersMaxLimit: 256 });
    const w = await connect(wide, 'v1');
    await wide.http
      .get('/v4/orders?limit=256')
      .set(...bearer(w.token))
      .expect(200);
    expect((await wide.http.get('/v4/orders?limit=257').set(...bearer(w.token))).status).toBe(400);
  });

  it('fulfillmentStatus buckets (default) and AT_LEAST_ONE, repeatable without duplicates', async () => {
    // Generated orders have 1, 2, 3, 1, 2, 3, … position items.
    const [single, two, three] = await createOrders({ count: 3 });
    const pos = (o: Order, i: number) => o.positionItems[i]!.positionItemId;
    await setStatus(two!, { fulfillmentStatus: 'ANNOUNCED', positionItemIds: [pos(two!, 0)] }); // ANNOUNCED + PROCESSABLE
    await setStatus(three!, { fulfillmentStatus: 'SENT', positionItemIds: [pos(three!, 0), pos(three!, 1)] });
    await setStatus(three!, { fulfillmentStatus: 'CANCELLED_BY_PARTNER', positionItemIds: [pos(three!, 2)] }); // SENT + CANCELLED
    await setStatus(single!, { fulfillmentStatus: 'RETURNED' });

    const bucket = async (query: string) => new Set(ids(await list(query)));
    expect(await bucket('?fulfillmentStatus=ANNOUNCED')).toEqual(new Set([two!.salesOrderId]));
    expect(await bucket('?fulfillmentStatus=PROCESSABLE')).toEqual(new Set());
    expect(await bucket('?fulfillmentStatus=PROCESSABLE&mode=AT_LEAST_ONE')).toEqual(
      new Set([two!.salesOrderId]),
    );
    expect(await bucket('?fulfillmentStatus=SENT')).toEqual(new Set([three!.salesOrderId]));
    expect(await bucket('?fulfillmentStatus=CANCELLED_BY_PARTNER')).toEqual(new Set([three!.salesOrderId]));
    expect(await bucket('?fulfillmentStatus=RETURNED')).toEqual(new Set([single!.salesOrderId]));
    const union = await list(
      '?fulfillmentStatus=SENT&fulfillmentStatus=CANCELLED_BY_PARTNER&fulfillmentStatus=RETURNED',
    );
    expect(ids(union).sort()).toEqual([three!.salesOrderId, single!.salesOrderId].sort());
    expect((await list('')).resources).toHaveLength(3);
  });

  it('fromDate (change date), fromOrderDate/toOrderDate (exclusive), direction and column', async () => {
    const old = await createOrders({ count: 2, orderDate: '2025-01-10T08:00:00Z' });
    h.clock.advance(60_000);
    const from = new Date(h.clock.now()).toISOString();
    const recent = await createOrders({ count: 3, orderDate: '2025-02-10T08:00:00Z' });

    expect(new Set(ids(await list(`?fromDate=${from}`)))).toEqual(new Set(recent.map((o) => o.salesOrderId)));
    // An old order that changes shows up after fromDate again.
    await setStatus(old[0]!, { fulfillmentStatus: 'SENT' });
    expect(ids(await list(`?fromDate=${from}`))).toContain(old[0]!.salesOrderId);

    expect(ids(await list('?fromOrderDate=2025-01-10T08:00:00Z'))).toHaveLength(3);
    expect(ids(await list('?toOrderDate=2025-02-10T08:00:00Z'))).toHaveLength(2);
    expect(
      ids(await list('?fromOrderDate=2025-01-01T00:00:00Z&toOrderDate=2025-03-01T00:00:00Z')),
    ).toHaveLength(5);

    const asc = (await list('')).resources.map(changeDate);
    expect(asc).toEqual([...asc].sort());
    const desc = (await list('?orderDirection=DESC')).resources.map(changeDate);
    expect(desc).toEqual([...asc].reverse());
    const byOrderDate = (await list('?orderColumnType=ORDER_DATE')).resources;
    expect(byOrderDate.slice(0, 2).map((o) => o.orderDate)).toEqual([
      '2025-01-10T08:00:00.000Z',
      '2025-01-10T08:00:00.000Z',
    ]);
  });

  it('the cursor keeps the original query and ignores new filters; DESC pages continue downwards', async () => {
    await createOrders({ count: 3, fulfillmentStatus: 'SENT' });
    await createOrders({ count: 5 });
    const sent = await list('?fulfillmentStatus=SENT&limit=2');
    expect(sent.resources).toHaveLength(2);
    const next = sent.links[0]!.href.split('?')[1];
    const rest = await list(`?${next}&fulfillmentStatus=PROCESSABLE&limit=5`);
    expect(rest.resources).toHaveLength(1);
    expect(rest.resources[0]!.positionItems.every((p) => p.fulfillmentStatus === 'SENT')).toBe(true);
    expect(rest.links).toEqual([]);

    const all: Order[] = [];
    let query: string | undefined = '?orderDirection=DESC&limit=3';
    while (query !== undefined) {
      const page = await list(query);
      all.push(...page.resources);
      const href = page.links[0]?.href;
      query = href ? `?${href.split('?')[1]}&limit=3` : undefined;
    }
    expect(all.map(changeDate)).toEqual(all.map(changeDate).sort().reverse());
    expect(new Set(all.map((o) => o.salesOrderId)).size).toBe(8);
  });

  it('a status change bumps lifecycleChangeDate and lastModifiedDate (where present), with dates per status', async () => {
    const [withDate, withoutDate] = await createOrders({ count: 1, lastModifiedDate: 'always' }).then(
      async (a) => [...a, ...(await createOrders({ count: 1, lastModifiedDate: 'never' }))],
    );
    const all = await list('');
    const cursor = changeDate(all.resources[all.resources.length - 1]!);
    const cancelled = await setStatus(withDate!, {
      fulfillmentStatus: 'CANCELLED_BY_MARKETPLACE',
      cancellationReason: 'PAYMENT_FRAUD',
    });
    expect(changeDate(cancelled) > cursor).toBe(true);
    expect(cancelled.lastModifiedDate).toBe(changeDate(cancelled));
    expect(cancelled.positionItems[0]).toMatchObject({
      fulfillmentStatus: 'CANCELLED_BY_MARKETPLACE',
      cancellationDate: changeDate(cancelled),
      cancellationReason: 'PAYMENT_FRAUD',
    });
    const sent = await setStatus(withoutDate!, { fulfillmentStatus: 'SENT' });
    expect(sent).not.toHaveProperty('lastModifiedDate');
    expect(sent.positionItems[0]!.sentDate).toBe(changeDate(sent));

    const since = await list(`?fromDate=${encodeURIComponent(cursor)}`);
    expect(ids(since)).toEqual([withDate!.salesOrderId, withoutDate!.salesOrderId]);
    await h.http
      .post(`/__admin/partners/${c.partnerId}/orders/${withDate!.salesOrderId}/status`)
      .send({ fulfillmentStatus: 'SENT', positionItemIds: ['nope'] })
      .expect(400);
  });

  it('a single order by salesOrderId or orderNumber; 404 otherwise', async () => {
    const [order] = await createOrders({ count: 1 });
    for (const id of [order!.salesOrderId, order!.orderNumber]) {
      const res = await h.http
        .get(`/v4/orders/${id}`)
        .set(...bearer(c.token))
        .expect(200);
      expect((res.body as Order).salesOrderId).toBe(order!.salesOrderId);
    }
    await h.http
      .get('/v4/orders/UNKNOWN123')
      .set(...bearer(c.token))
      .expect(404);
    const other = await connect(h, 'v1');
    await h.http
      .get(`/v4/orders/${order!.salesOrderId}`)
      .set(...bearer(other.token))
      .expect(404);
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

  it('paths match exactly: another case or a trailing slash is a 404, at the data and the token endpoints', async () => {
    const c = await connect(h, 'v1');
    const app = h.apps.v1;
    await h.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    for (const path of ['/V4/orders', '/v4/Orders', '/v4/orders/'])
      expect([path, (await h.http.get(path).set(...bearer(c.token))).status]).toEqual([path, 404]);
    const form = {
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
    };
    await h.http.post('/v1/token').type('form').send(form).expect(200);
    for (const path of ['/V1/TOKEN', '/v1/token/', '/oauth2/token/'])
      expect([path, (await h.http.post(path).type('form').send(form)).status]).toEqual([path, 404]);
    expect((await h.http.get(`/v1/apps/${app.appId}/installation/`)).status).toBe(404);
  });

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

  it('dataScopes changes the scope an API requires', async () => {
    const custom = await harness({
      dataScopes: { shippingProfiles: 'receipts', availability: 'quantities' },
    });
    const c = await connect(custom, 'v1');
    await custom.http
      .get('/v1/shipping-profiles')
      .set(...bearer(c.token))
      .expect(200);
    const strict = await harness({ dataScopes: { orders: 'orders-v2' } });
    const s = await connect(strict, 'v2');
    await strict.http
      .get('/v4/orders')
      .set(...bearer(s.token))
      .expect(403);
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

  const register = async (skus: string[], extra: object = {}) =>
    (
      await h.http
        .post(`/__admin/partners/${c.partnerId}/products`)
        .send({ skus, ...extra })
        .expect(201)
    ).body as {
      added: number;
      total: number;
    };
  const post = (path: string, body: unknown) =>
    h.http
      .post(path)
      .set(...bearer(c.token))
      .send(body as object);
  const get = (path: string) => h.http.get(path).set(...bearer(c.token));
  const sku = (i: number) => `SKU-${String(i).padStart(3, '0')}`;

  it('the product catalogue: idempotent registration, read back', async () => {
    expect(await register(['A', 'B'])).toEqual({ added: 2, total: 2 });
    expect(await register(['B', 'C'])).toEqual({ added: 1, total: 3 });
    const held = (await h.http.get(`/__admin/partners/${c.partnerId}/products`).expect(200)).body as {
      sku: string;
    }[];
    expect(held.map((p) => p.sku)).toEqual(['A', 'B', 'C']);
    await h.http.post(`/__admin/partners/${c.partnerId}/products`).send({ skus: [] }).expect(400);
    await h.http
      .post('/__admin/partners/nobody/products')
      .send({ skus: ['A'] })
      .expect(404);
  });

  it('quantities: 200 for known SKUs, 207 for unknown ones (not applied), 413 over 200, 422 for bad items', async () => {
    await register(items(200, (i) => ({ i })).map((_, i) => sku(i)));
    const ok = await post(
      '/v1/availability/quantities',
      items(200, (i) => ({ sku: sku(i), quantity: i, ignored: 'field' })),
    ).expect(200);
    expect(ok.body).toEqual({});

    const partial = await post('/v1/availability/quantities', [
      { sku: sku(0), quantity: 42 },
      { sku: 'NEVER-REGISTERED', quantity: 1 },
    ]).expect(207);
    expect(partial.body).toMatchObject({
      results: [{ sku: sku(0), quantity: 42 }],
      errors: [{ code: 404, detail: expect.stringContaining('NEVER-REGISTERED') as unknown }],
    });

    const tooMany = await post(
      '/v1/availability/quantities',
      items(201, (i) => ({ sku: sku(i % 200), quantity: 1 })),
    );
    expect(tooMany.status).toBe(413);
    expect(JSON.stringify(tooMany.body)).toMatch(/200/);

    for (const bad of [-1, 1.5, '3', null]) {
      const res = await post('/v1/availability/quantities', [
        { sku: sku(1), quantity: 999 },
        { sku: sku(2), quantity: bad },
      ]);
      expect(res.status).toBe(422);
      expect((res.body as { errors: { detail: string }[] }).errors[0]?.detail).toMatch(/^\$\[1\]\.quantity/);
    }
    await post('/v1/availability/quantities', { sku: sku(1), quantity: 1 }).expect(422);
    await post('/v1/availability/quantities', []).expect(422);

    const held = (await h.http.get(`/__admin/partners/${c.partnerId}/quantities`).expect(200)).body as {
      sku: string;
      quantity: number;
    }[];
    expect(held).toHaveLength(200);
    expect(held.find((q) => q.sku === sku(0))?.quantity).toBe(42);
    expect(held.find((q) => q.sku === sku(1))?.quantity).toBe(1); // the refused 999 was not applied
    expect(held.some((q) => q.sku === 'NEVER-REGISTERED')).toBe(false);
    expect(held[0]).not.toHaveProperty('ignored');
  });

  it('quantities read-back: sorted by SKU, cursor (= last SKU) and page paging, single SKU', async () => {
    const skus = items(130, (i) => ({ i })).map((_, i) => sku(129 - i));
    await register(skus);
    await post(
      '/v1/availability/quantities',
      skus.map((s, i) => ({ sku: s, quantity: i })),
    ).expect(200);

    const seen: string[] = [];
    let path: string | undefined = '/v1/availability/quantities?limit=50';
    while (path) {
      const page = (await get(path).expect(200)).body as {
        resources: { variations: { sku: string }[] };
        links: { rel: string; href: string }[];
      };
      seen.push(...page.resources.variations.map((v) => v.sku));
      path = page.links.find((l) => l.rel === 'next')?.href;
    }
    expect(seen).toEqual([...skus].sort());

    const defaultPage = (await get('/v1/availability/quantities').expect(200)).body as {
      resources: { variations: unknown[] };
      links: unknown[];
    };
    expect(defaultPage.resources.variations).toHaveLength(130);
    expect(defaultPage.links).toEqual([]);
    const page2 = (await get('/v1/availability/quantities?limit=50&page=2').expect(200)).body as {
      resources: { variations: { sku: string }[] };
    };
    expect(page2.resources.variations.map((v) => v.sku)).toEqual(seen.slice(100));
    // With a cursor only limit counts.
    const afterCursor = (await get(`/v1/availability/quantities?cursor=${sku(127)}&page=7`).expect(200))
      .body as {
      resources: { variations: { sku: string }[] };
    };
    expect(afterCursor.resources.variations.map((v) => v.sku)).toEqual([sku(128), sku(129)]);

    expect((await get(`/v1/availability/quantities/${sku(5)}`).expect(200)).body).toEqual({
      sku: sku(5),
      quantity: 124,
      lastModified: expect.any(String) as unknown,
    });
    await get('/v1/availability/quantities/UNKNOWN').expect(404);
    await get('/v1/availability/quantities?limit=201').expect(400);
  });

  it('prices: 202 pending; validated and applied only after the processing delay', async () => {
    await register(items(500, (i) => ({ i })).map((_, i) => `P${i}`));
    const res = await post(
      '/v5/products/prices',
      items(500, (i) => ({
        sku: `P${i}`,
        standardPrice: { amount: Number((10 + i / 100).toFixed(2)), currency: 'EUR' },
      })),
    ).expect(202);
    const body = res.body as { state: string; pingAfter: string; links: { rel: string; href: string }[] };
    expect(body).not.toHaveProperty('processUuid');
    expect(body).toMatchObject({
      state: 'pending',
      total: 500,
      progress: 0,
      succeeded: 0,
      failed: 0,
      unchanged: 0,
    });
    expect(body.pingAfter).toBe(new Date(h.clock.now() + 2000).toISOString());
    const self = body.links.find((l) => l.rel === 'self')!.href;
    expect(self).toMatch(/^\/v5\/products\/update-tasks\/[0-9a-f-]{36}$/);

    h.clock.advance(1999);
    expect((await get(self).expect(200)).body).toMatchObject({ state: 'pending' });
    expect((await h.http.get(`/__admin/partners/${c.partnerId}/prices`).expect(200)).body).toEqual([]);
    h.clock.advance(1);
    expect((await get(self).expect(200)).body).toMatchObject({
      state: 'done',
      total: 500,
      progress: 500,
      succeeded: 500,
      failed: 0,
      unchanged: 0,
    });
    expect((await h.http.get(`/__admin/partners/${c.partnerId}/prices`).expect(200)).body).toHaveLength(500);

    const tooMany = await post(
      '/v5/products/prices',
      items(501, (i) => ({ sku: `P${i}`, standardPrice: { amount: 1, currency: 'EUR' } })),
    );
    expect(tooMany.status).toBe(400);
  });

  it('prices: invalid entries fail one by one, identical prices are unchanged; delay configurable', async () => {
    const quick = await harness({ priceProcessingDelayMs: 10_000 });
    const qc = await connect(quick, 'v2');
    await quick.http
      .post(`/__admin/partners/${qc.partnerId}/products`)
      .send({ skus: ['A', 'B', 'C'] })
      .expect(201);
    const send = async (body: object[]) => {
      const res = await quick.http
        .post('/v5/products/prices')
        .set(...bearer(qc.token))
        .send(body)
        .expect(202);
      return (res.body as { links: { rel: string; href: string }[] }).links.find((l) => l.rel === 'self')!
        .href;
    };
    const read = async (path: string) =>
      (
        await quick.http
          .get(path)
          .set(...bearer(qc.token))
          .expect(200)
      ).body as Record<string, unknown>;

    await send([{ sku: 'A', standardPrice: { amount: 10, currency: 'EUR' } }]);
    const second = await send([
      { sku: 'A', standardPrice: { amount: 10, currency: 'EUR' } }, // unchanged (after the first task)
      { sku: 'B', standardPrice: { amount: 10.999, currency: 'EUR' } },
      { sku: 'C', standardPrice: { amount: 10, currency: 'CHF' } },
      { sku: 'C', standardPrice: { amount: 0, currency: 'EUR' } },
      { sku: 'D', standardPrice: { amount: 10, currency: 'EUR' } },
      { sku: 'C', standardPrice: { amount: '10', currency: 'EUR' } },
      { standardPrice: { amount: 10, currency: 'EUR' } },
      { sku: 'B', standardPrice: { amount: 12.5, currency: 'EUR' } },
    ]);
    quick.clock.advance(9_999);
    expect(await read(second)).toMatchObject({ state: 'pending' });
    quick.clock.advance(1);
    expect(await read(second)).toMatchObject({
      state: 'done',
      total: 8,
      succeeded: 1,
      failed: 6,
      unchanged: 1,
    });
    const failed = (await read(`${second}/failed`)) as {
      results: { variation: string; errors: { code: string; jsonPath: string }[] }[];
    };
    expect(failed.results.map((r) => [r.variation, r.errors[0]?.jsonPath])).toEqual([
      ['B', '$.standardPrice.amount'],
      ['C', '$.standardPrice.currency'],
      ['C', '$.standardPrice.amount'],
      ['D', '$.sku'],
      ['C', '$.standardPrice.amount'],
      ['', '$.sku'],
    ]);
    expect((await read(`${second}/unchanged`)).results).toEqual([{ variation: 'A', errors: [] }]);
    expect((await read(`${second}/succeeded`)).results).toEqual([{ variation: 'B', errors: [] }]);
    const prices = (await quick.http.get(`/__admin/partners/${qc.partnerId}/prices`).expect(200)).body as {
      sku: string;
      standardPrice: { amount: number };
    }[];
    expect(prices.map((p) => [p.sku, p.standardPrice.amount])).toEqual([
      ['A', 10],
      ['B', 12.5],
    ]);
    // Another partner cannot read the task.
    await quick.http
      .get(second)
      .set(...bearer((await connect(quick, 'v2')).token))
      .expect(404);
  });

  it('returns: limit ≤ 50, newest status change first, next-link paging, acceptance and rejection', async () => {
    await h.http.post(`/__admin/partners/${c.partnerId}/returns`).send({ count: 60 }).expect(201);
    await get('/v3/returns?limit=51').expect(400);
    await get('/v3/returns?status=LOST').expect(400);
    type Page = {
      positionItems: { positionItemId: string; salesOrderId: string; status: string; occurredTime: string }[];
      links: { rel: string; href: string }[];
    };
    expect(((await get('/v3/returns').expect(200)).body as Page).positionItems).toHaveLength(10);

    const seen: Page['positionItems'] = [];
    let path: string | undefined = '/v3/returns?status=announced&limit=50';
    while (path) {
      const page = (await get(path).expect(200)).body as Page;
      seen.push(...page.positionItems);
      path = page.links.find((l) => l.rel === 'next')?.href;
    }
    expect(new Set(seen.map((p) => p.positionItemId)).size).toBe(60);
    await get('/v3/returns?status=ANNOUNCED&limit=50&page=3').expect(404);

    const ref = (i: number) => ({
      positionItemId: seen[i]!.positionItemId,
      salesOrderId: seen[i]!.salesOrderId,
    });
    h.clock.advance(1000);
    await post('/v3/returns/acceptance', {
      positionItems: [
        { ...ref(0), condition: 'A', reason: 'RETURN_RECEIVED' },
        { ...ref(1), condition: 'B' },
      ],
    }).expect(200);
    await post('/v3/returns/rejection', {
      positionItems: [{ ...ref(2), condition: 'E', reason: 'ITEM_DAMAGED' }],
    }).expect(200);

    const newest = ((await get('/v3/returns?limit=3').expect(200)).body as Page).positionItems;
    expect(newest.map((p) => [p.positionItemId, p.status])).toEqual([
      [seen[2]!.positionItemId, 'REJECTED'],
      [seen[1]!.positionItemId, 'ACCEPTED'],
      [seen[0]!.positionItemId, 'ACCEPTED'],
    ]);
    expect(newest[0]).toMatchObject({ details: { condition: 'E', reason: 'ITEM_DAMAGED' } });
    expect(newest[0]!.occurredTime).toBe(new Date(h.clock.now()).toISOString());

    // An accepted return makes the position item RETURNED, visible as an order change.
    const order = (await get(`/v4/orders/${seen[0]!.salesOrderId}`).expect(200)).body as Order;
    expect(order.positionItems.find((p) => p.positionItemId === seen[0]!.positionItemId)).toMatchObject({
      fulfillmentStatus: 'RETURNED',
      returnedDate: expect.any(String) as unknown,
    });

    const twice = await post('/v3/returns/acceptance', {
      positionItems: [
        { ...ref(0), condition: 'A' },
        { ...ref(3), condition: 'A' },
      ],
    });
    expect(twice.status).toBe(207);
    expect(twice.body).toMatchObject({
      results: [{ positionItemId: seen[3]!.positionItemId }],
      errors: [{ detail: expect.stringContaining('ACCEPTED') as unknown }],
    });
    await post('/v3/returns/acceptance', {
      positionItems: [{ ...ref(4), salesOrderId: seen[5]!.salesOrderId, condition: 'A' }],
    }).expect(seen[4]!.salesOrderId === seen[5]!.salesOrderId ? 200 : 207);

    await post('/v3/returns/acceptance', {
      positionItems: items(201, () => ({ ...ref(6), condition: 'A' })),
    }).expect(413);
    for (const bad of [
      { positionItems: [{ positionItemId: seen[6]!.positionItemId, condition: 'A' }] }, // no salesOrderId
      { positionItems: [{ ...ref(6), condition: 'A/B/C/D/E' }] },
      { positionItems: [{ ...ref(6), condition: 'A', reason: 'damaged' }] },
    ]) {
      await post('/v3/returns/acceptance', bad).expect(422);
    }
    await post('/v3/returns/rejection', { positionItems: [{ ...ref(6), condition: 'A' }] }).expect(422); // reason required
    const still = ((await get('/v3/returns?status=ANNOUNCED&limit=50').expect(200)).body as Page)
      .positionItems;
    expect(still.map((p) => p.positionItemId)).toContain(seen[6]!.positionItemId);
  });

  it('shipping profiles: create, list, read, replace, delete; names unique; deliveryType fixed; 412 while assigned', async () => {
    const profile = (name: string, extra: object = {}) => ({
      shippingProfileName: name,
      workingDays: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'],
      orderCutoff: '14:00',
      deliveryType: 'PARCEL',
      defaultProcessingTime: 2,
      transportTime: 3,
      ...extra,
    });
    const created = await post('/v1/shipping-profiles', {
      ...profile('Standard'),
      unknownField: true,
    }).expect(201);
    const id = (created.body as { shippingProfileId: string }).shippingProfileId;
    expect(created.body).toEqual({ shippingProfileId: id, message: expect.any(String) as unknown });
    await post('/v1/shipping-profiles', profile(' STANDARD ')).expect(409);
    // No defaults: every field is required.
    await post('/v1/shipping-profiles', { shippingProfileName: 'Minimal' }).expect(400);

    const listed = (await get('/v1/shipping-profiles').expect(200)).body as {
      results: unknown[];
      links?: unknown;
    };
    expect(listed).toEqual({ results: [{ shippingProfileId: id, ...profile('Standard') }] });

    const put = (target: string, body: object) =>
      h.http
        .put(`/v1/shipping-profiles/${target}`)
        .set(...bearer(c.token))
        .send(body);
    await put(id, profile('Express', { transportTime: 1 })).expect(204);
    expect((await get(`/v1/shipping-profiles/${id}`).expect(200)).body).toMatchObject({
      shippingProfileName: 'Express',
      transportTime: 1,
    });
    await put(id, profile('Express', { deliveryType: 'FORWARDER_CURBSIDE' })).expect(400);
    await post('/v1/shipping-profiles', profile('Other')).expect(201);
    await put(id, profile('other')).expect(400);
    await put('nope', profile('X')).expect(404);

    await h.http
      .post(`/__admin/partners/${c.partnerId}/products`)
      .send({ skus: ['A'], shippingProfileId: id })
      .expect(201);
    await h.http
      .delete(`/v1/shipping-profiles/${id}`)
      .set(...bearer(c.token))
      .expect(412);
    const other = (await get('/v1/shipping-profiles').expect(200)).body as {
      results: { shippingProfileId: string }[];
    };
    const otherId = other.results[1]!.shippingProfileId;
    await h.http
      .delete(`/v1/shipping-profiles/${otherId}`)
      .set(...bearer(c.token))
      .expect(204);
    await get(`/v1/shipping-profiles/${otherId}`).expect(404);
    await h.http
      .delete(`/v1/shipping-profiles/${otherId}`)
      .set(...bearer(c.token))
      .expect(404);
  });

  it('shipments set the position items SENT with sentDate and tracking info; 409 when not PROCESSABLE', async () => {
    const [order] = (
      await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 2 }).expect(201)
    ).body as Order[];
    const [announced] = (
      await h.http
        .post(`/__admin/partners/${c.partnerId}/orders`)
        .send({ count: 1, fulfillmentStatus: 'ANNOUNCED' })
        .expect(201)
    ).body as Order[];
    const positionItems = (o: Order) =>
      o.positionItems.map((p) => ({
        positionItemId: p.positionItemId,
        salesOrderId: o.salesOrderId,
        returnTrackingKey: { carrier: 'HERMES', trackingNumber: 'H-1' },
      }));
    const body = {
      trackingKey: { carrier: 'DHL', trackingNumber: '0034' },
      shipDate: '2025-03-01T09:30:00.000Z',
      shipFromAddress: { city: 'Hamburg', countryCode: 'DEU', zipCode: '22179' },
      positionItems: positionItems(order!),
    };
    const before = changeDate(order!);
    const res = await post('/v1/shipments', body).expect(201);
    expect(res.body).toEqual({ shipmentId: expect.any(String) as unknown });
    const shipped = (await get(`/v4/orders/${order!.salesOrderId}`).expect(200)).body as Order;
    expect(changeDate(shipped) > before).toBe(true);
    expect(shipped.positionItems[0]).toMatchObject({
      fulfillmentStatus: 'SENT',
      sentDate: '2025-03-01T09:30:00.000Z',
      trackingInfo: { carrier: 'DHL', trackingNumber: '0034' },
    });

    const again = await post('/v1/shipments', body);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      errors: {
        title: 'Conflict',
        path: '/v1/shipments',
        detail: expect.stringContaining('SENT') as unknown,
        jsonPath: '$.positionItems[0].positionItemId',
      },
    });
    await post('/v1/shipments', { ...body, positionItems: positionItems(announced!) }).expect(409);
    // A forwarder needs no tracking number; a parcel carrier does.
    const [forwarded] = (
      await h.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 1 }).expect(201)
    ).body as Order[];
    await post('/v1/shipments', {
      ...body,
      trackingKey: { carrier: 'GLS' },
      positionItems: positionItems(forwarded!),
    }).expect(400);
    await post('/v1/shipments', {
      ...body,
      trackingKey: { carrier: 'DACHSER' },
      positionItems: positionItems(forwarded!),
    }).expect(201);
  });
});

describe('seller data in the state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'otto-emulator-data-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the catalogue and a pending price task survive a restart; the task settles afterwards', async () => {
    const stateFile = join(dir, 'state.json');
    const first = await harness({ stateFile });
    const c = await connect(first, 'v2');
    await first.http
      .post(`/__admin/partners/${c.partnerId}/products`)
      .send({ skus: ['A'] })
      .expect(201);
    const accepted = await first.http
      .post('/v5/products/prices')
      .set(...bearer(c.token))
      .send([{ sku: 'A', standardPrice: { amount: 9.99, currency: 'EUR' } }])
      .expect(202);
    const self = (accepted.body as { links: { rel: string; href: string }[] }).links[0]!.href;

    const second = await harness({ stateFile });
    expect(
      (await second.http.get(`/__admin/partners/${c.partnerId}/products`).expect(200)).body,
    ).toHaveLength(1);
    second.clock.advance(2000);
    expect(
      (
        await second.http
          .get(self)
          .set(...bearer(c.token))
          .expect(200)
      ).body,
    ).toMatchObject({ state: 'done', succeeded: 1 });
    expect((await second.http.get(`/__admin/partners/${c.partnerId}/prices`).expect(200)).body).toEqual([
      expect.objectContaining({ sku: 'A', standardPrice: { amount: 9.99, currency: 'EUR' } }),
    ]);
  });

  it('a state file with seller data of the old shapes loads; the old entries are dropped', async () => {
    const stateFile = join(dir, 'state.json');
    const first = await harness({ stateFile });
    const c = await connect(first, 'v1');
    await first.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 2 }).expect(201);
    const doc = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      state: { data: Record<string, Record<string, unknown>> };
    };
    const data = doc.state.data[c.partnerId]!;
    (data.orders as unknown[]).push({ salesOrderId: 'old', lastModifiedDate: '2024-01-01T00:00:00Z' });
    data.priceProcesses = [{ processUuid: 'x', createdAt: '2024-01-01T00:00:00Z', total: 1 }];
    delete data.products;
    delete data.priceTasks;
    writeFileSync(stateFile, JSON.stringify(doc));

    const second = await harness({ stateFile });
    const page = (
      await second.http
        .get('/v4/orders')
        .set(...bearer(c.token))
        .expect(200)
    ).body as OrdersPage;
    expect(page.resources).toHaveLength(2);
    await second.http
      .post(`/__admin/partners/${c.partnerId}/products`)
      .send({ skus: ['A'] })
      .expect(201);
  });
});
