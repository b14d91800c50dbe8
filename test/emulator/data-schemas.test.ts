/**
 * Every response of every seller data endpoint the emulator serves (docs/otto-api.md §5), each success and
 * error status it can produce, validated against the zod schemas of emulator/schemas (written from the
 * doc). A final test checks that every (endpoint, status) pair was exercised.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Response } from 'supertest';
import { z } from 'zod';
import * as S from '../../emulator/schemas';
import { bearer, connect, developerToken, harness, type Connected, type Harness } from './helpers';

const covered = new Set<string>();

/** Asserts status and schema, records the pair as covered, returns the parsed body. */
function conforms<T extends z.ZodType>(res: Response, status: number, schema: T, label: string): z.infer<T> {
  if (res.status !== status) {
    throw new Error(`${label}: expected ${status}, got ${res.status}: ${res.text.slice(0, 1000)}`);
  }
  const parsed = schema.safeParse(res.body);
  if (!parsed.success) {
    throw new Error(
      `${label} ${status}: the body does not match its schema\n${z.prettifyError(parsed.error)}\n` +
        JSON.stringify(res.body).slice(0, 2000),
    );
  }
  covered.add(`${label} ${status}`);
  return parsed.data;
}

function noContent(res: Response, label: string): void {
  expect([label, res.status, res.text]).toEqual([label, 204, '']);
  covered.add(`${label} 204`);
}

const EXPECTED = [
  'GET /v4/orders 200',
  'GET /v4/orders 400',
  'GET /v4/orders 401',
  'GET /v4/orders 403',
  'GET /v4/orders 429',
  'GET /v4/orders/{id} 200',
  'GET /v4/orders/{id} 404',
  'POST /v1/availability/quantities 200',
  'POST /v1/availability/quantities 207',
  'POST /v1/availability/quantities 401',
  'POST /v1/availability/quantities 403',
  'POST /v1/availability/quantities 413',
  'POST /v1/availability/quantities 422',
  'POST /v1/availability/quantities 429',
  'GET /v1/availability/quantities 200',
  'GET /v1/availability/quantities 400',
  'GET /v1/availability/quantities/{sku} 200',
  'GET /v1/availability/quantities/{sku} 404',
  'POST /v5/products/prices 202',
  'POST /v5/products/prices 400',
  'POST /v5/products/prices 401',
  'POST /v5/products/prices 403',
  'POST /v5/products/prices 429',
  'GET /v5/products/update-tasks/{uuid} 200',
  'GET /v5/products/update-tasks/{uuid} 404',
  'GET /v5/products/update-tasks/{uuid}/failed 200',
  'GET /v5/products/update-tasks/{uuid}/succeeded 200',
  'GET /v5/products/update-tasks/{uuid}/unchanged 200',
  'GET /v5/products/update-tasks/{uuid}/failed 404',
  'GET /v3/returns 200',
  'GET /v3/returns 400',
  'GET /v3/returns 401',
  'GET /v3/returns 403',
  'GET /v3/returns 404',
  'GET /v3/returns 429',
  'POST /v3/returns/acceptance 200',
  'POST /v3/returns/acceptance 207',
  'POST /v3/returns/acceptance 401',
  'POST /v3/returns/acceptance 403',
  'POST /v3/returns/acceptance 413',
  'POST /v3/returns/acceptance 422',
  'POST /v3/returns/rejection 200',
  'POST /v3/returns/rejection 207',
  'POST /v3/returns/rejection 413',
  'POST /v3/returns/rejection 422',
  'GET /v1/shipping-profiles 200',
  'GET /v1/shipping-profiles 400',
  'GET /v1/shipping-profiles 401',
  'GET /v1/shipping-profiles 403',
  'GET /v1/shipping-profiles 429',
  'POST /v1/shipping-profiles 201',
  'POST /v1/shipping-profiles 400',
  'POST /v1/shipping-profiles 409',
  'GET /v1/shipping-profiles/{id} 200',
  'GET /v1/shipping-profiles/{id} 404',
  'PUT /v1/shipping-profiles/{id} 204',
  'PUT /v1/shipping-profiles/{id} 400',
  'PUT /v1/shipping-profiles/{id} 404',
  'DELETE /v1/shipping-profiles/{id} 204',
  'DELETE /v1/shipping-profiles/{id} 404',
  'DELETE /v1/shipping-profiles/{id} 412',
  'POST /v1/shipments 201',
  'POST /v1/shipments 400',
  'POST /v1/shipments 401',
  'POST /v1/shipments 403',
  'POST /v1/shipments 409',
  'POST /v1/shipments 429',
  'GET /unknown 404',
];

interface Order {
  salesOrderId: string;
  orderNumber: string;
  positionItems: { positionItemId: string; fulfillmentStatus: string }[];
  lastModifiedDate?: string;
  deliveryAddress?: unknown;
  invoiceAddress?: unknown;
}

describe('seller data responses match their schemas (docs/otto-api.md §5)', () => {
  let h: Harness;
  let c: Connected;
  let v1: Connected;
  let devToken: string;

  beforeAll(async () => {
    h = await harness();
    c = await connect(h, 'v2');
    v1 = await connect(h, 'v1');
    devToken = await developerToken(h, h.apps.v2);
    const skus = Array.from({ length: 10 }, (_, i) => `SKU-${i}`);
    await h.http.post(`/__admin/partners/${c.partnerId}/products`).send({ skus }).expect(201);
  });

  const get = (path: string, token = c.token) => h.http.get(path).set(...bearer(token));
  const post = (path: string, body: unknown, token = c.token) =>
    h.http
      .post(path)
      .set(...bearer(token))
      .send(body as object);

  it('orders v4: list, single order, 400, 404', async () => {
    const admin = (body: object) =>
      h.http.post(`/__admin/partners/${c.partnerId}/orders`).send(body).expect(201);
    await admin({ count: 5, fulfillmentStatus: 'PROCESSABLE' });
    await admin({ count: 2, fulfillmentStatus: 'ANNOUNCED' });
    await admin({ count: 3, fulfillmentStatus: 'SENT', lastModifiedDate: 'never' });
    await admin({ count: 1, fulfillmentStatus: 'CANCELLED_BY_PARTNER' });
    await admin({ count: 1, fulfillmentStatus: 'RETURNED', lastModifiedDate: 'always' });

    const all: Order[] = [];
    let path: string | undefined = '/v4/orders?limit=5';
    while (path) {
      const page: z.infer<typeof S.partnerOrderListSchema> = conforms(
        await get(path),
        200,
        S.partnerOrderListSchema,
        'GET /v4/orders',
      );
      all.push(...(page.resources as Order[]));
      const next: string | undefined = page.links.find((l) => l.rel === 'next')?.href;
      path = next ? `${next}&limit=5` : undefined;
    }
    expect(all).toHaveLength(12);
    for (const order of all) {
      // ANNOUNCED orders come without address.
      const announced = order.positionItems.some((p) => p.fulfillmentStatus === 'ANNOUNCED');
      expect(order.deliveryAddress === undefined && order.invoiceAddress === undefined).toBe(announced);
      expect(order).not.toHaveProperty('fulfillmentStatus');
    }
    expect(all.filter((o) => o.lastModifiedDate === undefined).length).toBeGreaterThanOrEqual(3);

    const one = all[0]!;
    conforms(await get(`/v4/orders/${one.salesOrderId}`), 200, S.partnerOrderSchema, 'GET /v4/orders/{id}');
    conforms(await get(`/v4/orders/${one.orderNumber}`), 200, S.partnerOrderSchema, 'GET /v4/orders/{id}');
    conforms(await get('/v4/orders/NOPE000000'), 404, S.genericErrorSchema, 'GET /v4/orders/{id}');
    for (const q of [
      'limit=257',
      'fromDate=yesterday',
      'fulfillmentStatus=LOST',
      'mode=ALL',
      'nextcursor=x',
    ]) {
      conforms(await get(`/v4/orders?${q}`), 400, S.genericErrorSchema, 'GET /v4/orders');
    }
  });

  it('availability quantities: 200, 207, 413, 422 and the reads', async () => {
    const label = 'POST /v1/availability/quantities';
    conforms(
      await post('/v1/availability/quantities', [
        { sku: 'SKU-1', quantity: 3 },
        { sku: 'SKU-2', quantity: 0, ignored: true },
      ]),
      200,
      S.quantitiesUpdatedSchema,
      label,
    );
    const partial = conforms(
      await post('/v1/availability/quantities', [
        { sku: 'SKU-3', quantity: 7 },
        { sku: 'NOT-IN-CATALOGUE', quantity: 1 },
      ]),
      207,
      S.quantitiesMultiStatusSchema,
      label,
    );
    expect(partial.results.map((r) => r.sku)).toEqual(['SKU-3']);
    expect(partial.errors).toHaveLength(1);
    const many = Array.from({ length: 201 }, (_, i) => ({ sku: `SKU-${i % 10}`, quantity: 1 }));
    conforms(await post('/v1/availability/quantities', many), 413, S.quantitiesErrorSchema, label);
    for (const bad of [
      [{ sku: 'SKU-1', quantity: -1 }],
      [{ sku: 'SKU-1', quantity: 1.5 }],
      [],
      { sku: 'SKU-1' },
    ]) {
      conforms(await post('/v1/availability/quantities', bad), 422, S.quantitiesErrorSchema, label);
    }

    const list = 'GET /v1/availability/quantities';
    const page = conforms(
      await get('/v1/availability/quantities?limit=2'),
      200,
      S.quantitiesListSchema,
      list,
    );
    expect(page.links).toHaveLength(1);
    conforms(await get(page.links[0]!.href), 200, S.quantitiesListSchema, list);
    conforms(await get('/v1/availability/quantities?page=1&limit=2'), 200, S.quantitiesListSchema, list);
    for (const q of ['limit=201', 'limit=0', 'page=-1', 'cursor=NOT-A-SKU']) {
      conforms(await get(`/v1/availability/quantities?${q}`), 400, S.quantitiesErrorSchema, list);
    }
    const single = 'GET /v1/availability/quantities/{sku}';
    conforms(await get('/v1/availability/quantities/SKU-1'), 200, S.quantitySingleSchema, single);
    conforms(await get('/v1/availability/quantities/SKU-9'), 404, S.quantitiesErrorSchema, single);
  });

  it('prices v5: 202 pending, the task and its result lists before and after settling, 400, 404', async () => {
    const label = 'POST /v5/products/prices';
    const accepted = conforms(
      await post('/v5/products/prices', [
        { sku: 'SKU-1', standardPrice: { amount: 19.99, currency: 'EUR' } },
        { sku: 'SKU-2', standardPrice: { amount: 5, currency: 'USD' } },
        { sku: 'SKU-3', standardPrice: { amount: 1.005, currency: 'EUR' } },
        { sku: 'UNKNOWN', standardPrice: { amount: 5, currency: 'EUR' } },
        {
          sku: 'SKU-4',
          standardPrice: { amount: 30, currency: 'EUR' },
          sale: { salePrice: { amount: 25, currency: 'EUR' }, startDate: '2025-03-01T00:00:00Z' },
        },
      ]),
      202,
      S.priceProgressSchema,
      label,
    );
    expect(accepted.state).toBe('pending');
    expect(accepted).not.toHaveProperty('processUuid');
    const self = accepted.links.find((l) => l.rel === 'self')!.href;
    const task = 'GET /v5/products/update-tasks/{uuid}';
    expect(conforms(await get(self), 200, S.priceProgressSchema, task).state).toBe('pending');
    for (const outcome of ['failed', 'succeeded', 'unchanged']) {
      const list = conforms(
        await get(`${self}/${outcome}`),
        200,
        S.priceTaskResultsSchema,
        `${task}/${outcome}`,
      );
      expect(list.results).toEqual([]);
    }
    h.clock.advance(2000);
    const done = conforms(await get(self), 200, S.priceProgressSchema, task);
    expect(done).toMatchObject({ state: 'done', total: 5, succeeded: 2, failed: 3, unchanged: 0 });
    const failed = conforms(await get(`${self}/failed`), 200, S.priceTaskResultsSchema, `${task}/failed`);
    expect(failed.results.map((r) => r.variation).sort()).toEqual(['SKU-2', 'SKU-3', 'UNKNOWN']);
    conforms(await get(`${self}/succeeded`), 200, S.priceTaskResultsSchema, `${task}/succeeded`);

    const again = conforms(
      await post('/v5/products/prices', [
        { sku: 'SKU-1', standardPrice: { amount: 19.99, currency: 'EUR' } },
      ]),
      202,
      S.priceProgressSchema,
      label,
    );
    h.clock.advance(2000);
    const againSelf = again.links.find((l) => l.rel === 'self')!.href;
    expect(conforms(await get(againSelf), 200, S.priceProgressSchema, task)).toMatchObject({ unchanged: 1 });
    const unchanged = conforms(
      await get(`${againSelf}/unchanged`),
      200,
      S.priceTaskResultsSchema,
      `${task}/unchanged`,
    );
    expect(unchanged.results).toEqual([{ variation: 'SKU-1', errors: [] }]);

    const tooMany = Array.from({ length: 501 }, () => ({
      sku: 'SKU-1',
      standardPrice: { amount: 1, currency: 'EUR' },
    }));
    for (const bad of [tooMany, [], { sku: 'SKU-1' }]) {
      conforms(await post('/v5/products/prices', bad), 400, S.genericErrorSchema, label);
    }
    const unknown = '/v5/products/update-tasks/00000000-0000-0000-0000-000000000000';
    conforms(await get(unknown), 404, S.genericErrorSchema, task);
    conforms(await get(`${unknown}/failed`), 404, S.genericErrorSchema, `${task}/failed`);
  });

  it('returns v3: list, 400, 404; acceptance and rejection with 200, 207, 413, 422', async () => {
    await h.http.post(`/__admin/partners/${c.partnerId}/returns`).send({ count: 6 }).expect(201);
    await h.http
      .post(`/__admin/partners/${c.partnerId}/returns`)
      .send({ count: 1, status: 'MISDIRECTED' })
      .expect(201);
    const list = 'GET /v3/returns';
    const announced = conforms(
      await get('/v3/returns?status=announced&limit=50'),
      200,
      S.returnsListSchema,
      list,
    );
    const items = (announced.positionItems ?? []) as { positionItemId: string; salesOrderId: string }[];
    expect(items).toHaveLength(6);
    conforms(await get('/v3/returns?status=MISDIRECTED'), 200, S.returnsListSchema, list);
    for (const q of ['limit=51', 'status=LOST', 'page=0']) {
      conforms(await get(`/v3/returns?${q}`), 400, S.returnsErrorSchema, list);
    }
    conforms(await get('/v3/returns?page=99'), 404, S.returnsErrorSchema, list);

    const ref = (i: number) => ({
      positionItemId: items[i]!.positionItemId,
      salesOrderId: items[i]!.salesOrderId,
    });
    const acc = 'POST /v3/returns/acceptance';
    const rej = 'POST /v3/returns/rejection';
    conforms(
      await post('/v3/returns/acceptance', {
        positionItems: [{ ...ref(0), condition: 'A', reason: 'RETURN_RECEIVED' }],
      }),
      200,
      S.returnsDecidedSchema,
      acc,
    );
    const partial = conforms(
      await post('/v3/returns/acceptance', {
        positionItems: [
          { ...ref(0), condition: 'A' },
          { ...ref(1), condition: 'B' },
        ],
      }),
      207,
      S.acceptanceMultiStatusSchema,
      acc,
    );
    expect(partial.results.map((r) => r.positionItemId)).toEqual([items[1]!.positionItemId]);
    conforms(
      await post('/v3/returns/rejection', {
        positionItems: [{ ...ref(2), condition: 'C', reason: 'ITEM_DAMAGED' }],
      }),
      200,
      S.returnsDecidedSchema,
      rej,
    );
    conforms(
      await post('/v3/returns/rejection', {
        positionItems: [
          { ...ref(3), condition: 'D', reason: 'WRONG_ITEM' },
          { positionItemId: 'nope', salesOrderId: 'nope', condition: 'D', reason: 'WRONG_ITEM' },
        ],
      }),
      207,
      S.rejectionMultiStatusSchema,
      rej,
    );
    const many = { positionItems: Array.from({ length: 201 }, () => ({ ...ref(4), condition: 'A' })) };
    conforms(await post('/v3/returns/acceptance', many), 413, S.returnsErrorSchema, acc);
    conforms(await post('/v3/returns/rejection', many), 413, S.returnsErrorSchema, rej);
    for (const bad of [
      { positionItems: [{ ...ref(4), condition: 'A/B/C/D/E' }] },
      { positionItems: [{ ...ref(4), condition: 'A', reason: 'DAMAGED' }] },
      { positionItems: [{ positionItemId: items[4]!.positionItemId, condition: 'A' }] },
      { positionItems: [] },
      [],
    ]) {
      conforms(await post('/v3/returns/acceptance', bad), 422, S.returnsErrorSchema, acc);
    }
    conforms(
      await post('/v3/returns/rejection', { positionItems: [{ ...ref(4), condition: 'A' }] }),
      422,
      S.returnsErrorSchema,
      rej,
    );
    const listed = conforms(await get('/v3/returns?limit=50'), 200, S.returnsListSchema, list);
    expect(new Set((listed.positionItems ?? []).map((p) => p.status))).toEqual(
      new Set(['ANNOUNCED', 'ACCEPTED', 'REJECTED', 'MISDIRECTED']),
    );
  });

  it('shipping profiles v1: list (with and without a next link), CRUD and every error', async () => {
    const profile = (name: string, deliveryType = 'PARCEL') => ({
      shippingProfileName: name,
      workingDays: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY'],
      orderCutoff: '14:30',
      deliveryType,
      defaultProcessingTime: 1,
      transportTime: 2,
    });
    const create = 'POST /v1/shipping-profiles';
    const created = conforms(
      await post('/v1/shipping-profiles', { ...profile('Standard'), unknownField: 1 }),
      201,
      S.shippingProfileCreatedSchema,
      create,
    );
    const id = created.shippingProfileId;
    conforms(
      await post('/v1/shipping-profiles', profile('standard')),
      409,
      S.shippingProfileErrorSchema,
      create,
    );
    for (const bad of [
      { ...profile('X'), orderCutoff: '14:15' },
      { ...profile('X'), deliveryType: 'FREIGHT_FORWARDER' },
      { ...profile('X'), transportTime: 0 },
      { shippingProfileName: 'only a name' },
    ]) {
      conforms(await post('/v1/shipping-profiles', bad), 400, S.shippingProfileErrorSchema, create);
    }

    const list = 'GET /v1/shipping-profiles';
    const first = conforms(await get('/v1/shipping-profiles'), 200, S.shippingProfileListSchema, list);
    expect(first.links).toBeUndefined();
    for (let i = 0; i < 200; i++) {
      await post('/v1/shipping-profiles', profile(`P${i}`, 'FORWARDER_CURBSIDE')).expect(201);
    }
    // 200 per page by default, the docs' figure (the spec says 300): the smaller pages are the stricter test.
    const paged = conforms(await get('/v1/shipping-profiles'), 200, S.shippingProfileListSchema, list);
    expect(paged.results).toHaveLength(200);
    expect(paged.links?.rel).toBe('next');
    const rest = conforms(await get(paged.links?.href ?? ''), 200, S.shippingProfileListSchema, list);
    expect(rest.results).toHaveLength(1);
    expect(rest.links).toBeUndefined();
    conforms(await get('/v1/shipping-profiles?cursor=nope'), 400, S.shippingProfileErrorSchema, list);

    const one = 'GET /v1/shipping-profiles/{id}';
    conforms(await get(`/v1/shipping-profiles/${id}`), 200, S.shippingProfileSchema, one);
    conforms(await get('/v1/shipping-profiles/nope'), 404, S.shippingProfileErrorSchema, one);

    const put = 'PUT /v1/shipping-profiles/{id}';
    const putReq = (target: string, body: object) =>
      h.http
        .put(`/v1/shipping-profiles/${target}`)
        .set(...bearer(c.token))
        .send(body);
    noContent(await putReq(id, profile('Express')), put);
    conforms(
      await putReq(id, profile('Express', 'FORWARDER_HEAVYDUTY')),
      400,
      S.shippingProfileErrorSchema,
      put,
    );
    conforms(await putReq(id, profile('P1')), 400, S.shippingProfileErrorSchema, put);
    conforms(await putReq('nope', profile('Express')), 404, S.shippingProfileErrorSchema, put);

    const del = 'DELETE /v1/shipping-profiles/{id}';
    const delReq = (target: string) =>
      h.http.delete(`/v1/shipping-profiles/${target}`).set(...bearer(c.token));
    await h.http
      .post(`/__admin/partners/${c.partnerId}/products`)
      .send({ skus: ['SKU-5'], shippingProfileId: id })
      .expect(201);
    conforms(await delReq(id), 412, S.shippingProfileErrorSchema, del);
    const other = (paged.results[1] ?? paged.results[0])!.shippingProfileId;
    noContent(await delReq(other), del);
    conforms(await delReq(other), 404, S.shippingProfileErrorSchema, del);
  });

  it('shipments v1: 201, 400, 409', async () => {
    const [order] = (
      await h.http
        .post(`/__admin/partners/${c.partnerId}/orders`)
        .send({ count: 1, fulfillmentStatus: 'PROCESSABLE' })
        .expect(201)
    ).body as Order[];
    const shipment = {
      trackingKey: { carrier: 'DHL', trackingNumber: '00340434161094042557' },
      shipDate: '2025-03-01T09:00:00Z',
      shipFromAddress: { city: 'Hamburg', countryCode: 'DEU', zipCode: '22179' },
      positionItems: order!.positionItems.map((p) => ({
        positionItemId: p.positionItemId,
        salesOrderId: order!.salesOrderId,
        returnTrackingKey: { carrier: 'DHL', trackingNumber: 'R123' },
      })),
    };
    const label = 'POST /v1/shipments';
    conforms(await post('/v1/shipments', shipment), 201, S.shipmentCreatedSchema, label);
    conforms(await post('/v1/shipments', shipment), 409, S.shipmentErrorSchema, label);
    for (const bad of [
      { ...shipment, trackingKey: { carrier: 'POSTBOTE', trackingNumber: '1' } },
      { ...shipment, trackingKey: { carrier: 'GLS' } },
      { ...shipment, shipDate: '2025-03-01T10:00:00+01:00' },
      { ...shipment, shipFromAddress: { city: 'Hamburg', countryCode: 'DE', zipCode: '22179' } },
      { ...shipment, positionItems: shipment.positionItems.map(({ returnTrackingKey: _, ...rest }) => rest) },
      {
        ...shipment,
        positionItems: [{ ...shipment.positionItems[0]!, salesOrderId: 'unknown-order' }],
      },
    ]) {
      const res = await post('/v1/shipments', bad);
      const body = conforms(res, 400, S.shipmentErrorSchema, label);
      expect(body.errors).toBeDefined();
    }
  });

  it('gateway errors (401, 403, unknown route 404) use the generic body', async () => {
    const calls: [string, string, unknown?][] = [
      ['GET', '/v4/orders'],
      ['POST', '/v1/availability/quantities', [{ sku: 'SKU-1', quantity: 1 }]],
      ['POST', '/v5/products/prices', []],
      ['GET', '/v3/returns'],
      ['POST', '/v3/returns/acceptance', { positionItems: [] }],
      ['GET', '/v1/shipping-profiles'],
      ['POST', '/v1/shipments', {}],
    ];
    for (const [method, path, body] of calls) {
      const label = `${method} ${path}`;
      const req = () => (method === 'GET' ? h.http.get(path) : h.http.post(path).send(body as object));
      conforms(await req(), 401, S.genericErrorSchema, label);
      if (path.startsWith('/v3/returns')) conforms(await req(), 401, S.returnsErrorSchema, label);
      conforms(await req().set(...bearer(devToken)), 403, S.genericErrorSchema, label);
    }
    // The v1 app has no shipping-profiles scope.
    conforms(
      await get('/v1/shipping-profiles', v1.token),
      403,
      S.genericErrorSchema,
      'GET /v1/shipping-profiles',
    );
    const unknown = await get('/v9/nothing');
    conforms(unknown, 404, S.genericErrorSchema, 'GET /unknown');
  });

  it('429 over the partner limit, without Retry-After, in the generic body', async () => {
    const limited = await harness({ partnerRateLimitPerSecond: 1 });
    const lc = await connect(limited, 'v2');
    // The clock stands still: the one request of this second goes through, every further one is refused.
    await limited.http
      .get('/v4/orders')
      .set(...bearer(lc.token))
      .expect(200);
    const calls: [string, string, unknown?][] = [
      ['GET', '/v4/orders'],
      ['POST', '/v1/availability/quantities', []],
      ['POST', '/v5/products/prices', []],
      ['GET', '/v3/returns'],
      ['GET', '/v1/shipping-profiles'],
      ['POST', '/v1/shipments', {}],
    ];
    for (const [method, path, body] of calls) {
      const res = await (
        method === 'GET' ? limited.http.get(path) : limited.http.post(path).send(body as object)
      ).set(...bearer(lc.token));
      conforms(res, 429, S.genericErrorSchema, `${method} ${path}`);
      expect(res.headers['retry-after']).toBeUndefined();
    }
  });

  it('covers every endpoint and status the emulator can produce', () => {
    expect([...covered].sort()).toEqual([...EXPECTED].sort());
  });
});

describe('import boundaries', () => {
  const root = resolve(__dirname, '../..');
  const files = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) return files(path);
      return path.endsWith('.ts') ? [path] : [];
    });
  const imports = (file: string): string[] =>
    [...readFileSync(join(root, file), 'utf8').matchAll(/(?:from|import|require)\s*\(?\s*'([^']+)'/g)].map(
      (m) => m[1]!,
    );

  it('the connector never imports the emulator (schemas included)', () => {
    const offenders = ['api', 'activities', 'workflows', 'store', 'common', 'worker']
      .flatMap(files)
      .flatMap((file) =>
        imports(file)
          .filter((spec) => /(^|\/)emulator(\/|$)/.test(spec))
          .map((spec) => `${file}: ${spec}`),
      );
    expect(offenders).toEqual([]);
  });

  it('the emulator imports no connector code', () => {
    const offenders = files('emulator').flatMap((file) =>
      imports(file)
        .filter((spec) => spec.startsWith('.'))
        .filter((spec) =>
          relative(join(root, 'emulator'), resolve(join(root, file, '..'), spec)).startsWith('..'),
        )
        .map((spec) => `${file}: ${spec}`),
    );
    expect(offenders).toEqual([]);
  });
});
