/**
 * The shop API (role `shop`) over a real SQLite store: batched, all-or-nothing, idempotent stock and
 * price writes; order and return change feeds with opaque cursors; shipping profiles; transfer runs
 * with the SKUs OTTO refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import Database from 'better-sqlite3';
import request from 'supertest';
import type { App } from 'supertest/types';
import { encodeFeedCursor } from '../../common/feed-cursor';
import type { SellerStore } from '../../store/seller-store';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { freePort } from '../../scripts/temporal-dev-server';
import { storeOrder } from '../support/store-fixtures';
import { ADMIN_KEY, bodyOf, errorOf, SHOP_KEY, SUPPORT_KEY, testApp } from './test-app';

const SELLER = 'shop-seller';
const base = `/api/sellers/${SELLER}`;

const order = storeOrder;

interface FeedPage {
  items: Array<{ changeSeq: number; salesOrderId?: string; positionItemId?: string }>;
  next: string;
  hasMore: boolean;
}
interface Details {
  path: string;
  message: string;
}

describe('shop routes', () => {
  let dir: string;
  let store: SellerStore;
  let app: App;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shop-routes-'));
    store = openSqliteSellerStore(join(dir, 'seller-store.db'));
    app = testApp({ store }).app;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const put = (what: 'stock' | 'prices', body: unknown, key = SHOP_KEY) =>
    request(app)
      .put(`${base}/${what}`)
      .set('Authorization', `Bearer ${key}`)
      .send(body as object);
  const get = (path: string, key = SHOP_KEY) =>
    request(app).get(`${base}${path}`).set('Authorization', `Bearer ${key}`);

  describe('PUT stock and prices', () => {
    it('writes a batch: each item gets the next change number, the next export sees it', async () => {
      const res = await put('stock', [
        { sku: 'A', quantity: 3 },
        { sku: 'B', quantity: 0 },
      ]);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: 2, firstChangeSeq: 1, changeSeq: 2 });
      expect(await store.stockChanges(SELLER, 0)).toEqual([
        { sku: 'A', quantity: 3, changeSeq: 1 },
        { sku: 'B', quantity: 0, changeSeq: 2 },
      ]);
      const prices = await put('prices', [{ sku: 'A', amount: 19.99, currency: 'EUR' }]);
      expect(prices.status).toBe(200);
      expect(prices.body).toEqual({ accepted: 1, firstChangeSeq: 3, changeSeq: 3 });
      expect(await store.priceChanges(SELLER, 2)).toEqual([
        { sku: 'A', amount: 19.99, currency: 'EUR', changeSeq: 3 },
      ]);
    });

    const valid = Array.from({ length: 5 }, (_, i) => ({ sku: `S${i}`, quantity: i }));
    const validPrices = Array.from({ length: 5 }, (_, i) => ({
      sku: `S${i}`,
      amount: 1 + i,
      currency: 'EUR',
    }));
    it.each([
      [
        'too many items',
        'stock',
        Array.from({ length: 1001 }, (_, i) => ({ sku: `S${i}`, quantity: 1 })),
        'body',
      ],
      ['no items', 'stock', [], 'body'],
      ['not an array', 'stock', { sku: 'A', quantity: 1 }, 'body'],
      [
        'a negative quantity',
        'stock',
        valid.map((v, i) => (i === 3 ? { ...v, quantity: -1 } : v)),
        'body.3.quantity',
      ],
      [
        'a fractional quantity',
        'stock',
        valid.map((v, i) => (i === 2 ? { ...v, quantity: 1.5 } : v)),
        'body.2.quantity',
      ],
      [
        'a quantity over 1,000,000',
        'stock',
        valid.map((v, i) => (i === 1 ? { ...v, quantity: 1_000_001 } : v)),
        'body.1.quantity',
      ],
      ['an empty sku', 'stock', valid.map((v, i) => (i === 4 ? { ...v, sku: '' } : v)), 'body.4.sku'],
      [
        'a 51-character sku',
        'stock',
        valid.map((v, i) => (i === 0 ? { ...v, sku: 'x'.repeat(51) } : v)),
        'body.0.sku',
      ],
      [
        'a control character in a sku',
        'stock',
        valid.map((v, i) => (i === 0 ? { ...v, sku: 'a\nb' } : v)),
        'body.0.sku',
      ],
      ['an unknown field', 'stock', valid.map((v, i) => (i === 2 ? { ...v, price: 1 } : v)), 'body.2'],
      ['a duplicate sku', 'stock', [...valid, { sku: 'S1', quantity: 9 }], 'body.5.sku'],
      [
        'an unknown currency',
        'prices',
        validPrices.map((v, i) => (i === 3 ? { ...v, currency: 'USD' } : v)),
        'body.3.currency',
      ],
      [
        '3 decimals',
        'prices',
        validPrices.map((v, i) => (i === 2 ? { ...v, amount: 1.005 } : v)),
        'body.2.amount',
      ],
      [
        'a zero amount',
        'prices',
        validPrices.map((v, i) => (i === 1 ? { ...v, amount: 0 } : v)),
        'body.1.amount',
      ],
      [
        'a negative amount',
        'prices',
        validPrices.map((v, i) => (i === 1 ? { ...v, amount: -5 } : v)),
        'body.1.amount',
      ],
      [
        'a duplicate price sku',
        'prices',
        [...validPrices, { sku: 'S0', amount: 2, currency: 'EUR' }],
        'body.5.sku',
      ],
    ] as const)(
      'refuses a batch with %s, naming the item, and writes nothing',
      async (_name, what, body, path) => {
        await put('stock', [{ sku: 'S1', quantity: 7 }]);
        await put('prices', [{ sku: 'S1', amount: 7, currency: 'EUR' }]);
        const before = [
          await store.allStock(SELLER),
          await store.allPrices(SELLER),
          await store.currentChangeSeq(),
        ];
        const res = await put(what, body);
        expect(res.status).toBe(400);
        expect(errorOf(res).code).toBe('validation_failed');
        expect((errorOf(res).details as Details[]).map((d) => d.path)).toContain(path);
        expect([
          await store.allStock(SELLER),
          await store.allPrices(SELLER),
          await store.currentChangeSeq(),
        ]).toEqual(before);
      },
    );

    it('stores a price with float noise (0.1 + 0.2) as the cents it means; OTTO would refuse the noise', async () => {
      const res = await put('prices', [
        { sku: 'A', amount: 0.1 + 0.2, currency: 'EUR' },
        { sku: 'B', amount: 1.2100000000000002, currency: 'EUR' },
      ]);
      expect(res.status).toBe(200);
      expect((await store.allPrices(SELLER)).map((p) => [p.sku, p.amount])).toEqual([
        ['A', 0.3],
        ['B', 1.21],
      ]);
    });

    it('is all or nothing in the store too: a refused item rolls the whole batch back', async () => {
      await expect(
        store.applyShopBatch(SELLER, {
          kind: 'stock',
          items: [
            { sku: 'A', quantity: 1 },
            { sku: 'B', quantity: -1 },
          ],
        }),
      ).rejects.toThrow();
      expect(await store.allStock(SELLER)).toEqual([]);
      expect(await store.currentChangeSeq()).toBe(0);
    });

    it('needs the shop role: no key 401, admin and support 403, nothing written', async () => {
      const body = [{ sku: 'A', quantity: 1 }];
      expect((await request(app).put(`${base}/stock`).send(body)).status).toBe(401);
      for (const key of [ADMIN_KEY, SUPPORT_KEY]) {
        const res = await put('stock', body, key);
        expect(res.status).toBe(403);
        expect(errorOf(res).code).toBe('forbidden');
        expect((await get('/orders', key)).status).toBe(403);
      }
      expect(await store.allStock(SELLER)).toEqual([]);
    });

    it('takes JSON only and batches of 1,000 items', async () => {
      const form = await request(app)
        .put(`${base}/stock`)
        .set('Authorization', `Bearer ${SHOP_KEY}`)
        .type('form')
        .send('sku=A&quantity=1');
      expect(form.status).toBe(415);
      // No body at all, with the right Content-Type (and without one): it is missing, not of a wrong type.
      // Before, 415 "send the body as application/json" to a client that had declared exactly that.
      for (const type of ['application/json', undefined]) {
        const empty = request(app).put(`${base}/stock`).set('Authorization', `Bearer ${SHOP_KEY}`);
        const res = await (type === undefined ? empty : empty.set('Content-Type', type));
        expect(res.status).toBe(400);
        expect(errorOf(res)).toMatchObject({
          code: 'validation_failed',
          message: 'body: the body must be a JSON array; the request has none',
        });
      }
      const big = Array.from({ length: 1000 }, (_, i) => ({
        sku: `SKU-${String(i).padStart(6, '0')}`,
        quantity: i,
      }));
      const res = await put('stock', big);
      expect(res.status).toBe(200);
      expect(bodyOf<{ accepted: number }>(res).accepted).toBe(1000);
    });

    it('answers a repeated Idempotency-Key with the first answer and refuses it for another body', async () => {
      const body = [{ sku: 'A', quantity: 5 }];
      const first = await put('stock', body).set('Idempotency-Key', 'batch-1');
      expect(first.status).toBe(200);
      const again = await put('stock', body).set('Idempotency-Key', 'batch-1');
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await store.currentChangeSeq()).toBe(1);
      const other = await put('stock', [{ sku: 'A', quantity: 6 }]).set('Idempotency-Key', 'batch-1');
      expect(other.status).toBe(409);
      expect(errorOf(other).code).toBe('idempotency_key_reused');
      const otherRoute = await put('prices', [{ sku: 'A', amount: 5, currency: 'EUR' }]).set(
        'Idempotency-Key',
        'batch-1',
      );
      expect(otherRoute.status).toBe(409);
      expect(await store.allStock(SELLER)).toEqual([{ sku: 'A', quantity: 5, changeSeq: 1 }]);
      // Keys are per seller; a new key writes again.
      expect(
        (await put('stock', [{ sku: 'A', quantity: 6 }]).set('Idempotency-Key', 'batch-2')).body,
      ).toEqual({
        accepted: 1,
        firstChangeSeq: 2,
        changeSeq: 2,
      });
      const bad = await put('stock', body).set('Idempotency-Key', 'x'.repeat(256));
      expect(bad.status).toBe(400);
    });

    it('forgets idempotency keys after 24 hours', async () => {
      const claim = (at: string) => ({ key: 'k', fingerprint: 'f', at, ttlMs: 24 * 3_600_000 });
      const batch = { kind: 'stock' as const, items: [{ sku: 'A', quantity: 1 }] };
      expect((await store.applyShopBatch(SELLER, batch, claim('2025-03-01T10:00:00.000Z'))).outcome).toBe(
        'applied',
      );
      expect((await store.applyShopBatch(SELLER, batch, claim('2025-03-02T09:59:59.000Z'))).outcome).toBe(
        'replayed',
      );
      expect((await store.applyShopBatch('other', batch, claim('2025-03-02T09:59:59.000Z'))).outcome).toBe(
        'applied',
      );
      expect((await store.applyShopBatch(SELLER, batch, claim('2025-03-02T10:00:01.000Z'))).outcome).toBe(
        'applied',
      );
    });
  });

  it('a keyed write deletes every seller’s expired keys, at most every 10 minutes: a seller that writes no more keeps none for good', async () => {
    const DAY = 24 * 3_600_000;
    let t = Date.parse('2025-03-01T10:00:00.000Z');
    const clocked = testApp({ store, now: () => t }).app;
    const keyed = async (key: string) => {
      const res = await request(clocked)
        .put(`${base}/stock`)
        .set('Authorization', `Bearer ${SHOP_KEY}`)
        .set('Idempotency-Key', key)
        .send([{ sku: 'A', quantity: 1 }]);
      expect(res.status).toBe(200);
    };
    const file = new Database(join(dir, 'seller-store.db'), { readonly: true });
    const keys = () =>
      (
        file.prepare('SELECT seller_id, key FROM idempotency_keys ORDER BY 1, 2').all() as Array<{
          seller_id: string;
          key: string;
        }>
      ).map((r) => `${r.seller_id}/${r.key}`);
    const quietKey = (key: string, at: number) =>
      store.applyShopBatch(
        'quiet',
        { kind: 'stock', items: [{ sku: 'A', quantity: 1 }] },
        { key, fingerprint: 'f', at: new Date(at).toISOString(), ttlMs: DAY },
      );
    try {
      // Another seller's key, and that seller writes no more.
      await quietKey('gone', t);
      await keyed('k-1');
      expect(keys()).toEqual(['quiet/gone', `${SELLER}/k-1`]);
      // A day on, both have expired: the next keyed write deletes its own seller's and the quiet one's.
      // Before, the quiet seller's key stayed for good.
      t += DAY + 1_000;
      await keyed('k-2');
      expect(keys()).toEqual([`${SELLER}/k-2`]);
      // A key that expires a minute later waits for the next prune, at most 10 minutes after the last.
      await quietKey('soon', t - DAY + 60_000);
      t += 5 * 60_000;
      await keyed('k-3');
      expect(keys()).toEqual(['quiet/soon', `${SELLER}/k-2`, `${SELLER}/k-3`]);
      t += 6 * 60_000;
      await keyed('k-4');
      expect(keys()).toEqual([`${SELLER}/k-2`, `${SELLER}/k-3`, `${SELLER}/k-4`]);
    } finally {
      file.close();
    }
  });

  describe('feeds', () => {
    it('returns each order once in change order, a changed order once more, and pages with the cursor', async () => {
      await store.upsertOrders(SELLER, [
        order('o1', '2025-03-01T10:00:00Z'),
        order('o2', '2025-03-01T10:01:00Z'),
      ]);
      await store.upsertOrders('another-seller', [order('x1', '2025-03-01T10:00:00Z')]);
      await store.upsertOrders(SELLER, [order('o3', '2025-03-01T10:02:00Z')]);

      const first = await get('/orders?limit=2');
      expect(first.status).toBe(200);
      const p1 = bodyOf<FeedPage>(first);
      expect(p1.items.map((i) => i.salesOrderId)).toEqual(['o1', 'o2']);
      expect(p1.hasMore).toBe(true);
      const p2 = bodyOf<FeedPage>(await get(`/orders?limit=2&after=${p1.next}`));
      expect(p2.items.map((i) => i.salesOrderId)).toEqual(['o3']);
      expect(p2.hasMore).toBe(false);
      // Nothing new: empty, and `next` is the same position to poll with.
      const p3 = bodyOf<FeedPage>(await get(`/orders?after=${p2.next}`));
      expect(p3).toEqual({ items: [], next: p2.next, hasMore: false });

      // The same import again changes nothing; a newer change to o1 brings it once more.
      await store.upsertOrders(SELLER, [
        order('o1', '2025-03-01T10:00:00Z'),
        order('o2', '2025-03-01T10:01:00Z'),
      ]);
      expect(bodyOf<FeedPage>(await get(`/orders?after=${p2.next}`)).items).toEqual([]);
      await store.upsertOrders(SELLER, [order('o1', '2025-03-01T12:00:00Z', 'SENT')]);
      const p4 = bodyOf<FeedPage>(await get(`/orders?after=${p2.next}`));
      expect(p4.items).toEqual([expect.objectContaining({ salesOrderId: 'o1', fulfillmentStatus: 'SENT' })]);
      // From the start: every order once, in change order (o1 now last).
      const all = bodyOf<FeedPage>(await get('/orders'));
      expect(all.items.map((i) => i.salesOrderId)).toEqual(['o2', 'o3', 'o1']);
      expect(all.items.map((i) => i.changeSeq)).toEqual(
        [...all.items.map((i) => i.changeSeq)].sort((a, b) => a - b),
      );
    });

    it('feeds returns the same way', async () => {
      const ret = (id: string, status: string, at: string) => ({
        positionItemId: id,
        salesOrderId: 'o1',
        status,
        occurredTime: at,
        details: null,
      });
      await store.upsertReturns(SELLER, [
        ret('p1', 'ANNOUNCED', '2025-03-01T10:00:00Z'),
        ret('p2', 'ANNOUNCED', '2025-03-01T10:00:00Z'),
      ]);
      const p1 = bodyOf<FeedPage>(await get('/returns'));
      expect(p1.items.map((i) => i.positionItemId)).toEqual(['p1', 'p2']);
      await store.upsertReturns(SELLER, [ret('p1', 'ACCEPTED', '2025-03-02T10:00:00Z')]);
      const p2 = bodyOf<FeedPage>(await get(`/returns?after=${p1.next}`));
      expect(p2.items).toEqual([expect.objectContaining({ positionItemId: 'p1', status: 'ACCEPTED' })]);
      // An orders cursor is not a returns cursor, and another seller's is not this one's.
      expect((await get(`/returns?after=${encodeFeedCursor('orders', 1)}`)).status).toBe(400);
      const others = await get(`/returns?after=${encodeFeedCursor('returns', 1, `${SELLER}-other`)}`);
      expect(others.status).toBe(400);
      expect(errorOf(others)).toMatchObject({ code: 'invalid_cursor' });
      expect(errorOf(others).message).toContain("another seller's returns feed");
    });

    it('a cursor ahead of the store (restored from a backup, replaced) is 409 cursor_ahead, not a silent empty page', async () => {
      await store.upsertOrders(SELLER, [storeOrder('o1', '2025-03-01T10:00:00Z')]);
      const caughtUp = bodyOf<FeedPage>(await get('/orders'));
      // Its own cursor at the end of the feed: an empty page, as ever.
      expect(bodyOf<FeedPage>(await get(`/orders?after=${caughtUp.next}`)).items).toEqual([]);
      const ahead = await get(`/orders?after=${encodeFeedCursor('orders', 1_000_000)}`);
      expect(ahead.status).toBe(409);
      expect(errorOf(ahead)).toMatchObject({ code: 'cursor_ahead' });
      expect(errorOf(ahead).message).toContain('read the feed again from the start');
    });

    it.each([
      ['garbage', 'not-a-cursor!'],
      ['tampered JSON', Buffer.from('{"v":1,"feed":"orders","seq":-1}').toString('base64url')],
      ['another version', Buffer.from('{"v":2,"feed":"orders","seq":1}').toString('base64url')],
      ['extra fields', Buffer.from('{"v":1,"feed":"orders","seq":1,"x":1}').toString('base64url')],
      ['not JSON', Buffer.from('hello').toString('base64url')],
      ['too long', 'a'.repeat(201)],
    ])('refuses a %s cursor with 400', async (_name, cursor) => {
      const res = await get(`/orders?after=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(400);
      expect(['invalid_cursor', 'validation_failed']).toContain(errorOf(res).code);
    });

    it.each(['0', '1001', '-1', '1.5', 'x'])('refuses limit=%s', async (limit) => {
      const res = await get(`/orders?limit=${limit}`);
      expect(res.status).toBe(400);
      expect((errorOf(res).details as Details[])[0]?.path).toBe('query.limit');
    });

    it('serves the current shipping profiles', async () => {
      const p = {
        shippingProfileId: 'sp1',
        shippingProfileName: 'Standard',
        workingDays: ['MONDAY'],
        orderCutoff: '14:00',
        deliveryType: 'PARCEL',
        defaultProcessingTime: 1,
        transportTime: 2,
      };
      await store.upsertShippingProfiles(SELLER, [{ ...p, data: p }]);
      const res = await get('/shipping-profiles');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ profiles: [{ ...p, data: p }] });
    });
  });

  describe('GET transfers', () => {
    it('shows each kind’s last runs and the SKUs OTTO refused', async () => {
      await store.recordExportOutcome(SELLER, 'stock', {
        taken: ['A'],
        refused: [{ sku: 'B', error: 'unknown sku' }],
      });
      await store.recordExportOutcome(SELLER, 'prices', {
        taken: [],
        refused: [{ sku: 'C', error: 'price too low' }],
      });
      for (let i = 0; i < 22; i++)
        await store.recordTransferRun(SELLER, {
          kind: 'stockExport',
          startedAt: `2025-03-01T10:${String(i).padStart(2, '0')}:00.000Z`,
          finishedAt: `2025-03-01T10:${String(i).padStart(2, '0')}:30.000Z`,
          result: i === 21 ? 'failed' : 'ok',
          count: i,
          detail: `run ${i}`,
        });
      const res = await get('/transfers');
      expect(res.status).toBe(200);
      const body = bodyOf<{
        transfers: Record<
          string,
          { lastRuns: Array<{ detail: string; result: string }>; failures?: unknown[] }
        >;
      }>(res);
      const stock = body.transfers.stockExport!;
      expect(stock.lastRuns).toHaveLength(20);
      expect(stock.lastRuns[0]).toMatchObject({ detail: 'run 21', result: 'failed' });
      expect(stock.failures).toEqual([
        expect.objectContaining({ sku: 'B', error: 'unknown sku', attempts: 1 }),
      ]);
      expect(body.transfers.pricesExport!.failures).toEqual([expect.objectContaining({ sku: 'C' })]);
      expect(body.transfers.ordersImport).toEqual({ lastRuns: [] });
      expect((await get('/transfers', SUPPORT_KEY)).status).toBe(403);
    });
  });

  describe('with the store unreachable', () => {
    const routes = [
      ['PUT stock', () => put('stock', [{ sku: 'A', quantity: 1 }])],
      ['PUT prices', () => put('prices', [{ sku: 'A', amount: 1, currency: 'EUR' }])],
      ['GET orders', () => get('/orders')],
      ['GET returns', () => get('/returns')],
      ['GET shipping-profiles', () => get('/shipping-profiles')],
      ['GET transfers', () => get('/transfers')],
    ] as const;

    const expectStoreUnavailable = (res: request.Response) => {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(errorOf(res)).toEqual({
        code: 'store_unavailable',
        message: expect.stringContaining('the seller store cannot be reached right now') as string,
      });
      expect(res.text).not.toMatch(/connection is not open|ECONNREFUSED|57P01|\.ts:\d+/);
    };

    it.each(routes)('%s with the SQLite store closed is a 503 store_unavailable', async (_name, call) => {
      await store.close();
      expectStoreUnavailable(await call());
      // afterEach closes it again: reopen a throwaway one so that close() has something to close.
      store = openSqliteSellerStore(join(dir, 'reopened.db'));
    });

    /** The store as PostgreSQL fails: every method throws `error` (as pg does, asynchronously). */
    const failingStore = (error: Error): SellerStore =>
      new Proxy({} as SellerStore, {
        // Not a thenable: only the store's methods fail.
        get: (_target, name) => (name === 'then' ? undefined : () => Promise.reject(error)),
      });
    const pgError = (message: string, code?: string) => Object.assign(new Error(message), { code });

    it.each([
      ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
      [
        'an administrator shutdown (57P01)',
        pgError('terminating connection due to administrator command', '57P01'),
      ],
      ['a connection failure (08006)', pgError('connection failure', '08006')],
      ['the server starting up (57P03)', pgError('the database system is starting up', '57P03')],
      ['a lost connection', new Error('Connection terminated unexpectedly')],
      ['a pool timeout', new Error('timeout exceeded when trying to connect')],
      [
        'a refused connection on every address',
        Object.assign(new AggregateError([pgError('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')]), {
          message: '',
        }),
      ],
    ])('PostgreSQL: %s is a 503 store_unavailable on every shop route', async (_name, error) => {
      app = testApp({ store: failingStore(error) }).app;
      for (const [, call] of routes) expectStoreUnavailable(await call());
    });

    it('PostgreSQL as pg really fails: a server that refuses connections, and a pool already ended', async () => {
      const pool = new Pool({ connectionString: `postgres://otto@127.0.0.1:${await freePort()}/otto` });
      const refused = await pool.query('SELECT 1').then(
        () => undefined,
        (err: unknown) => err,
      );
      await pool.end();
      const ended = await pool.query('SELECT 1').then(
        () => undefined,
        (err: unknown) => err,
      );
      for (const error of [refused, ended]) {
        // (Node's errors come from another realm than jest's Error: no toBeInstanceOf.)
        expect(error).toHaveProperty('message');
        app = testApp({ store: failingStore(error as Error) }).app;
        for (const [, call] of routes) expectStoreUnavailable(await call());
      }
    });

    it('a store failure that is not about reaching it (a constraint violation, a bug) stays a logged 500', async () => {
      const violation = pgError('duplicate key value violates unique constraint "prices_pkey"', '23505');
      const bare = testApp({ store: failingStore(violation) });
      app = bare.app;
      const res = await put('stock', [{ sku: 'A', quantity: 1 }]);
      expect(res.status).toBe(500);
      expect(errorOf(res).code).toBe('internal_error');
      expect(bare.errors).toHaveLength(1);
    });
  });

  it('answers 503 without a store', async () => {
    const { app: bare } = testApp();
    const res = await request(bare).get(`${base}/orders`).set('Authorization', `Bearer ${SHOP_KEY}`);
    expect(res.status).toBe(503);
    expect(errorOf(res).code).toBe('store_unavailable');
  });
});
