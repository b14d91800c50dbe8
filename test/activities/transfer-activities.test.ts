/**
 * The data transfers as plain activity functions (MockActivityEnvironment gives them a Context for
 * heartbeats), first against the in-process OTTO emulator over a real socket, then against a scripted
 * fake OTTO for what the emulator cannot be made to do on demand (429 without Retry-After, resuming a
 * price task from a heartbeat, exact paging requests, redirects).
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import request from 'supertest';
import { createOttoDataClient, FOREIGN_ORIGIN_MESSAGE } from '../../activities/otto-data-client';
import { deriveOrderStatus } from '../../activities/order-status';
import {
  createTransferActivities,
  ORDERS_OVERLAP_MS,
  PARKED_ORDERS_MAX,
  progressBasis,
  type TransferActivityDeps,
} from '../../activities/transfer-activities';
import { createSealer, generateSealKey, parseSealKeys } from '../../common/seal';
import { startEmulator, type RunningEmulator } from '../../emulator/start-emulator';
import type { SellerStore } from '../../store/seller-store';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { FailureTypes, type TransferInput, type TransferResult } from '../../workflows/definitions';
import { connect, testClock, type AppInfo, type Connected, type Harness } from '../emulator/helpers';
import { failureOf, hangingRequests, quiet, until } from '../support/activity-helpers';

const sealer = createSealer(parseSealKeys(generateSealKey('k')));

interface Recorded {
  method: string;
  url: string;
  body: unknown;
}

/** A fetch that records every request (full URL and JSON body) before passing it on. */
function recordingFetch(inner: typeof fetch = fetch) {
  const calls: Recorded[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push({ method: init?.method ?? 'GET', url, body });
    return inner(input, init);
  };
  return { calls, fetchFn };
}

/** Expected failures would otherwise be logged as warnings by the mock environment. */
const mockEnv = (info?: ConstructorParameters<typeof MockActivityEnvironment>[0]) =>
  new MockActivityEnvironment(info, quiet());

type Acts = ReturnType<typeof createTransferActivities>;

async function run(
  acts: Acts,
  kind: keyof Acts,
  input: TransferInput,
  env = mockEnv(),
): Promise<TransferResult> {
  return await env.run((i: TransferInput) => acts[kind](i), input);
}

let sellerCounter = 0;

// ---- against the emulator -----------------------------------------------------------------------

describe('transfers against the OTTO emulator', () => {
  let running: RunningEmulator;
  let h: Harness;
  let conn: Connected;
  let store: SellerStore;
  let recorder: ReturnType<typeof recordingFetch>;
  let sellerId: string;

  const admin = async <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> => {
    const req =
      method === 'GET'
        ? h.http.get(`/__admin${path}`)
        : h.http[method === 'POST' ? 'post' : 'delete'](`/__admin${path}`);
    const res = await (body === undefined ? req : req.send(body as object));
    if (res.status >= 400)
      throw new Error(`${method} /__admin${path} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as T;
  };
  const data = (method: 'get' | 'post' | 'delete', path: string) =>
    h.http[method](path).set('Authorization', `Bearer ${conn.token}`);

  function activities(extra: Partial<TransferActivityDeps> = {}) {
    const otto = createOttoDataClient({ apiBaseUrl: running.url, sealer, fetch: recorder.fetchFn });
    return createTransferActivities({ store, otto, taskPollMinMs: 50, heartbeatEveryMs: 100, ...extra });
  }
  function input(cursor: TransferInput['cursor'] = {}, full = false): TransferInput {
    return {
      sellerId,
      partnerId: conn.partnerId,
      sealedToken: sealer.seal(conn.token, { purpose: 'installation-token', sellerId }),
      tokenExpiresAt: Date.now() + 25 * 60_000,
      cursor,
      full,
    };
  }

  beforeAll(async () => {
    running = await startEmulator({
      partnerRateLimitPerSecond: 10_000,
      tokenRateLimitPerSecond: 10_000,
      priceProcessingDelayMs: 300,
    });
    const http = request(running.url);
    const list = (await http.get('/__admin/apps').expect(200)).body as AppInfo[];
    const app = (v: string) => list.find((a) => a.version === v)!;
    h = { emulator: running.emulator, http, clock: testClock(), apps: { v1: app('v1'), v2: app('v2') } };
    conn = await connect(h, 'v2');
  });
  afterAll(async () => {
    await running?.close();
  });
  beforeEach(() => {
    store = openSqliteSellerStore(':memory:');
    recorder = recordingFetch();
    sellerCounter += 1;
    sellerId = `seller-${sellerCounter}`;
  });
  afterEach(async () => {
    await admin('DELETE', '/faults');
    await store.close();
  });

  describe('ordersImport', () => {
    interface AdminOrder {
      salesOrderId: string;
      lastModifiedDate?: string;
      positionItems: Array<{ positionItemId: string; fulfillmentStatus: string; product: { sku: string } }>;
    }

    it('imports orders without lastModifiedDate over several pages, stores position statuses and derives the order status', async () => {
      const before = await admin<AdminOrder[]>('GET', `/partners/${conn.partnerId}/orders`);
      await admin('POST', `/partners/${conn.partnerId}/orders`, { count: 150, lastModifiedDate: 'never' });
      await admin('POST', `/partners/${conn.partnerId}/orders`, { count: 150, lastModifiedDate: 'always' });
      const created = (await admin<AdminOrder[]>('GET', `/partners/${conn.partnerId}/orders`)).slice(
        before.length,
      );
      // Mixed item statuses: one order with its first item sent, one fully cancelled, one returned.
      const multi = created.filter((o) => o.positionItems.length >= 2);
      await admin('POST', `/partners/${conn.partnerId}/orders/${multi[0]!.salesOrderId}/status`, {
        fulfillmentStatus: 'SENT',
        positionItemIds: [multi[0]!.positionItems[0]!.positionItemId],
      });
      await admin('POST', `/partners/${conn.partnerId}/orders/${multi[1]!.salesOrderId}/status`, {
        fulfillmentStatus: 'CANCELLED_BY_MARKETPLACE',
      });
      await admin('POST', `/partners/${conn.partnerId}/orders/${multi[2]!.salesOrderId}/status`, {
        fulfillmentStatus: 'RETURNED',
      });

      const acts = activities();
      const result = await run(acts, 'ordersImport', input());
      const atOtto = await admin<AdminOrder[]>('GET', `/partners/${conn.partnerId}/orders`);
      const stored = await store.listOrders(sellerId);
      expect(stored).toHaveLength(atOtto.length);
      expect(result.count).toBe(atOtto.length);
      expect(result.detail).toMatch(/over [3-9] page\(s\)/);
      expect(result.detail).toMatch(/without lastModifiedDate/);

      const byId = new Map(stored.map((o) => [o.salesOrderId, o]));
      for (const o of atOtto) {
        const s = byId.get(o.salesOrderId)!;
        expect(s.positionItems.map((p) => [p.positionItemId, p.fulfillmentStatus, p.sku])).toEqual(
          o.positionItems.map((p) => [p.positionItemId, p.fulfillmentStatus, p.product.sku]),
        );
        expect(s.fulfillmentStatus).toBe(deriveOrderStatus(o.positionItems.map((p) => p.fulfillmentStatus)));
        expect(s.lastModifiedDate).toBe(o.lastModifiedDate ?? null);
        for (const p of s.positionItems) {
          expect(p.currency).toBe('EUR');
          expect(typeof p.amount).toBe('number');
        }
      }
      expect(stored.filter((o) => o.lastModifiedDate === null).length).toBeGreaterThanOrEqual(150);
      // One item sent, the others still processable: the order is PROCESSABLE (OTTO's buckets).
      expect(byId.get(multi[0]!.salesOrderId)!.fulfillmentStatus).toBe('PROCESSABLE');
      expect(byId.get(multi[0]!.salesOrderId)!.positionItems[0]!.fulfillmentStatus).toBe('SENT');
      expect(byId.get(multi[1]!.salesOrderId)!.fulfillmentStatus).toBe('CANCELLED_BY_MARKETPLACE');
      expect(byId.get(multi[2]!.salesOrderId)!.fulfillmentStatus).toBe('RETURNED');

      // Pages after the first carry OTTO's cursor (and the limit), nothing else.
      const gets = recorder.calls.filter((c) => new URL(c.url).pathname === '/v4/orders');
      expect(gets.length).toBeGreaterThanOrEqual(3);
      for (const c of gets.slice(1)) {
        expect([...new URL(c.url).searchParams.keys()].sort()).toEqual(['limit', 'nextcursor']);
      }

      // The cursor is the newest lifecycle change date; a change after it comes in on the next run.
      expect(typeof result.cursor.fromDate).toBe('string');
      await admin('POST', `/partners/${conn.partnerId}/orders/${multi[0]!.salesOrderId}/status`, {
        fulfillmentStatus: 'SENT',
      });
      const next = await run(acts, 'ordersImport', input(result.cursor));
      expect(next.count).toBe(1);
      expect(
        (await store.listOrders(sellerId)).find((o) => o.salesOrderId === multi[0]!.salesOrderId),
      ).toMatchObject({ fulfillmentStatus: 'SENT' });
    });

    it.each([
      ['an absolute URL to another host', 'https://evil.example/v4/orders?nextcursor=x'],
      ['a protocol-relative URL', '//evil.example/v4/orders?nextcursor=x'],
      ['another port on the same host', 'http://127.0.0.1:1/v4/orders?nextcursor=x'],
    ])('fails without sending anything there when a next link is %s', async (_what, href) => {
      await admin('POST', '/faults', {
        method: 'GET',
        pathPattern: '^/v4/orders',
        status: 200,
        times: 1,
        body: { resources: [], links: [{ rel: 'next', href }] },
      });
      const failure = await failureOf(run(activities(), 'ordersImport', input()));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.type).toBe(FailureTypes.requestRejected);
      expect(failure.message).toContain(FOREIGN_ORIGIN_MESSAGE);
      const origin = new URL(running.url).origin;
      expect(recorder.calls.length).toBe(1);
      expect(recorder.calls.every((c) => new URL(c.url).origin === origin)).toBe(true);
    });
  });

  it('cancelling aborts a slow OTTO request on the socket at once and hands back the progress', async () => {
    await admin('POST', '/faults', { method: 'GET', pathPattern: '^/v4/orders', latencyMs: 1_500, times: 1 });
    const env = mockEnv();
    const pending = run(activities(), 'ordersImport', input(), env);
    await until('the orders request is on its way', () => recorder.calls.length === 1);
    const cancelledAt = Date.now();
    env.cancel();
    const stopped = await pending.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(Date.now() - cancelledAt).toBeLessThan(500);
    expect(stopped).toBeInstanceOf(CancelledFailure);
    expect((stopped as CancelledFailure).details[0]).toMatchObject({
      nextPath: '/v4/orders?limit=128',
      pages: 0,
    });
    expect(recorder.calls).toHaveLength(1);
  });

  describe('returnsImport', () => {
    interface AdminReturn {
      positionItemId: string;
      salesOrderId: string;
      status: string;
    }

    it('imports returns v3 with status, occurredTime and details, then only what changed', async () => {
      await admin('POST', `/partners/${conn.partnerId}/returns`, { count: 60 });
      await admin('POST', `/partners/${conn.partnerId}/returns`, { count: 2, status: 'MISDIRECTED' });
      const atOtto = await admin<AdminReturn[]>('GET', `/partners/${conn.partnerId}/returns`);
      const acts = activities();

      const first = await run(acts, 'returnsImport', input());
      const stored = await store.listReturns(sellerId);
      expect(stored).toHaveLength(atOtto.length);
      expect(first.count).toBe(atOtto.length);
      for (const r of stored) {
        expect(r.occurredTime).toEqual(expect.any(String));
        expect(['ANNOUNCED', 'MISDIRECTED']).toContain(r.status);
        expect(r.details).toEqual(expect.any(Object));
      }
      expect(typeof first.cursor['all.since']).toBe('string');

      // Nothing new: one page read, nothing stored.
      const before = recorder.calls.length;
      const again = await run(acts, 'returnsImport', input(first.cursor));
      expect(again.count).toBe(0);
      expect(recorder.calls.length - before).toBe(1);

      // Accept two returns at OTTO: the next run brings exactly those status changes.
      const announced = atOtto.filter((r) => r.status === 'ANNOUNCED').slice(0, 2);
      await data('post', '/v3/returns/acceptance')
        .send({
          positionItems: announced.map((r) => ({
            positionItemId: r.positionItemId,
            salesOrderId: r.salesOrderId,
            condition: 'A',
            reason: 'RETURN_RECEIVED',
          })),
        })
        .expect((res) => expect(res.status).toBeLessThan(300));
      const third = await run(acts, 'returnsImport', input(again.cursor));
      expect(third.count).toBe(2);
      const accepted = (await store.listReturns(sellerId)).filter((r) => r.status === 'ACCEPTED');
      expect(accepted.map((r) => r.positionItemId).sort()).toEqual(
        announced.map((r) => r.positionItemId).sort(),
      );
    });
  });

  describe('shippingProfilesSync', () => {
    it('imports every profile with every field from `results`, and removes the ones OTTO dropped', async () => {
      const ids: string[] = [];
      for (const [i, deliveryType] of ['PARCEL', 'FORWARDER_CURBSIDE', 'PARCEL'].entries()) {
        const res = await data('post', '/v1/shipping-profiles').send({
          shippingProfileName: `Profil ${i}`,
          workingDays: ['MONDAY', 'TUESDAY', 'WEDNESDAY'],
          orderCutoff: '13:30',
          deliveryType,
          defaultProcessingTime: 1 + i,
          transportTime: 2,
        });
        expect(res.status).toBe(201);
        ids.push((res.body as { shippingProfileId: string }).shippingProfileId);
      }
      const acts = activities();
      const result = await run(acts, 'shippingProfilesSync', input());
      const stored = await store.listShippingProfiles(sellerId);
      expect(stored.map((p) => p.shippingProfileId).sort()).toEqual(expect.arrayContaining([...ids].sort()));
      const second = stored.find((p) => p.shippingProfileId === ids[1])!;
      expect(second).toMatchObject({
        shippingProfileName: 'Profil 1',
        workingDays: ['MONDAY', 'TUESDAY', 'WEDNESDAY'],
        orderCutoff: '13:30',
        deliveryType: 'FORWARDER_CURBSIDE',
        defaultProcessingTime: 2,
        transportTime: 2,
      });
      expect(result.detail).toMatch(/new/);

      await data('delete', `/v1/shipping-profiles/${ids[0]}`).expect((res) =>
        expect(res.status).toBeLessThan(300),
      );
      const after = await run(acts, 'shippingProfilesSync', input());
      expect(after.detail).toMatch(/1 removed/);
      expect((await store.listShippingProfiles(sellerId)).map((p) => p.shippingProfileId)).not.toContain(
        ids[0],
      );
    });

    it('fails without sending anything there when the single `links` object points elsewhere', async () => {
      await admin('POST', '/faults', {
        method: 'GET',
        pathPattern: '^/v1/shipping-profiles',
        status: 200,
        times: 1,
        body: {
          results: [],
          links: { rel: 'next', href: 'https://evil.example/v1/shipping-profiles?cursor=x' },
        },
      });
      const failure = await failureOf(run(activities(), 'shippingProfilesSync', input()));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(FOREIGN_ORIGIN_MESSAGE);
      expect(recorder.calls.filter((c) => c.url.includes('evil'))).toEqual([]);
    });
  });

  describe('stockExport', () => {
    it('reports SKUs OTTO refuses (207) per SKU, acknowledges the others, and sends the refused ones again next run', async () => {
      const known = ['ST-K1', 'ST-K2', 'ST-K3'].map((s) => `${s}-${sellerId}`);
      const unknown = ['ST-U1', 'ST-U2'].map((s) => `${s}-${sellerId}`);
      await admin('POST', `/partners/${conn.partnerId}/products`, { skus: known });
      await store.setStock(
        sellerId,
        [...known, ...unknown].map((sku, i) => ({ sku, quantity: i + 1 })),
      );
      const acts = activities();

      const first = await run(acts, 'stockExport', input());
      expect(first.count).toBe(3);
      expect(first.detail).toContain('2 SKU(s) refused');
      expect(first.detail).toContain(unknown[0]);
      const failures = await store.exportFailures(sellerId, 'stock');
      expect(failures.map((f) => f.sku)).toEqual(unknown);
      for (const f of failures) expect(f.error).toContain(f.sku);
      const atOtto = await admin<Array<{ sku: string; quantity: number }>>(
        'GET',
        `/partners/${conn.partnerId}/quantities`,
      );
      expect(
        atOtto
          .filter((q) => known.includes(q.sku))
          .map((q) => q.sku)
          .sort(),
      ).toEqual(known);

      // Next run: nothing changed in the store, but the refused SKUs go out again.
      recorder.calls.length = 0;
      await admin('POST', `/partners/${conn.partnerId}/products`, { skus: [unknown[0]] });
      const second = await run(acts, 'stockExport', input(first.cursor));
      const posted = recorder.calls
        .filter((c) => c.method === 'POST')
        .flatMap((c) => c.body as Array<{ sku: string }>);
      expect(posted.map((p) => p.sku)).toEqual(unknown);
      expect(second.count).toBe(1);
      expect(second.detail).toContain('1 SKU(s) refused');
      expect(await store.exportFailures(sellerId, 'stock')).toEqual([
        expect.objectContaining({ sku: unknown[1], attempts: 2 }),
      ]);
      expect(second.cursor.ackedSeq).toBe(first.cursor.ackedSeq);

      // A change plus the still-refused SKU, in one run.
      recorder.calls.length = 0;
      await store.setStock(sellerId, [{ sku: known[0]!, quantity: 42 }]);
      const third = await run(acts, 'stockExport', input(second.cursor));
      const posted3 = recorder.calls
        .filter((c) => c.method === 'POST')
        .flatMap((c) => c.body as Array<{ sku: string }>);
      expect(posted3.map((p) => p.sku).sort()).toEqual([known[0], unknown[1]].sort());
      expect(third.count).toBe(1);
    });

    it('a 422 naming an entry records that SKU as refused (OTTO’s words) and goes on with the rest', async () => {
      const ok = `ST-OK-${sellerId}`;
      await admin('POST', `/partners/${conn.partnerId}/products`, { skus: [ok] });
      await admin('POST', '/faults', {
        method: 'POST',
        pathPattern: '^/v1/availability/quantities',
        status: 422,
        times: 1,
        body: {
          errors: [
            {
              code: 422,
              title: 'Unprocessable Entity',
              detail: 'quantity must be >= 0',
              path: '/0/quantity',
            },
          ],
        },
      });
      await store.setStock(sellerId, [
        { sku: 'A-bad', quantity: 1 },
        { sku: ok, quantity: 3 },
      ]);
      const result = await run(activities(), 'stockExport', input());
      expect(result.count).toBe(1);
      expect(result.detail).toContain('A-bad (Unprocessable Entity: quantity must be >= 0');
      expect((await store.exportFailures(sellerId, 'stock')).map((f) => f.sku)).toEqual(['A-bad']);
      const posted = recorder.calls.filter((c) => c.method === 'POST').map((c) => c.body);
      expect(posted).toEqual([
        [
          { sku: 'A-bad', quantity: 1 },
          { sku: ok, quantity: 3 },
        ],
        [{ sku: ok, quantity: 3 }],
      ]);
      const atOtto = await admin<Array<{ sku: string; quantity: number }>>(
        'GET',
        `/partners/${conn.partnerId}/quantities`,
      );
      expect(atOtto.find((q) => q.sku === ok)?.quantity).toBe(3);
    });
  });

  describe('pricesExport', () => {
    it('polls the update task to done and records the failed variations per SKU', async () => {
      const skus = ['PR-OK', 'PR-USD', 'PR-DEC'].map((s) => `${s}-${sellerId}`);
      await admin('POST', `/partners/${conn.partnerId}/products`, { skus });
      await store.setPrices(sellerId, [
        { sku: skus[0]!, amount: 19.99, currency: 'EUR' },
        { sku: skus[1]!, amount: 19.99, currency: 'USD' },
        { sku: skus[2]!, amount: 19.999, currency: 'EUR' },
      ]);
      const env = mockEnv();
      const beats: unknown[] = [];
      env.on('heartbeat', (d: unknown) => beats.push(d));
      const result: TransferResult = await run(activities(), 'pricesExport', input(), env);

      expect(result.count).toBe(1);
      expect(result.detail).toContain('2 SKU(s) refused');
      const failures = await store.exportFailures(sellerId, 'prices');
      expect(failures.map((f) => f.sku).sort()).toEqual([skus[1], skus[2]].sort());
      expect(failures.find((f) => f.sku === skus[1])!.error).toMatch(/currency/i);
      expect(failures.find((f) => f.sku === skus[2])!.error).toMatch(/decimal/i);

      const paths = recorder.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`);
      expect(paths.filter((p) => p === 'POST /v5/products/prices')).toHaveLength(1);
      expect(
        paths.filter((p) => /^GET \/v5\/products\/update-tasks\/[^/]+$/.test(p)).length,
      ).toBeGreaterThanOrEqual(1);
      expect(paths.filter((p) => /^GET \/v5\/products\/update-tasks\/[^/]+\/failed$/.test(p))).toHaveLength(
        1,
      );
      // While waiting, the task's href was in the heartbeat (a retried attempt polls it instead of re-posting).
      expect(beats.some((b) => typeof (b as { task?: { href?: string } }).task?.href === 'string')).toBe(
        true,
      );

      const prices = await admin<Array<{ sku: string }>>('GET', `/partners/${conn.partnerId}/prices`);
      expect(prices.map((p) => p.sku)).toContain(skus[0]);

      // Next run: the refused SKUs go out again (fixed in the shop: taken, the failures clear).
      await store.setPrices(sellerId, [{ sku: skus[1]!, amount: 19.99, currency: 'EUR' }]);
      const next = await run(activities(), 'pricesExport', input(result.cursor));
      expect(next.count).toBe(1);
      expect((await store.exportFailures(sellerId, 'prices')).map((f) => f.sku)).toEqual([skus[2]]);
    });
  });
});

// ---- against a scripted OTTO --------------------------------------------------------------------

/** `hang`: no answer until the request's signal aborts (then it rejects with the abort reason, as fetch does). */
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

/** A fake OTTO: replies by "METHOD /path" (a list is served in order, the last one repeats). */
function scriptedOtto(script: Record<string, Reply[]>) {
  const replies = (key: string): Reply | undefined => {
    const list = script[key];
    return list && list.length > 1 ? list.shift() : list?.[0];
  };
  const { hung, hanging, hang } = hangingRequests();
  const recorded = recordingFetch((input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    return Promise.resolve().then(() => {
      const reply = replies(`${url.pathname}${url.search}`) ?? replies(url.pathname);
      if (!reply) return new Response('{}', { status: 404 });
      if (reply === 'hang') return hang(init);
      return new Response(reply.body === undefined ? '' : JSON.stringify(reply.body), {
        status: reply.status,
        headers: reply.headers,
      });
    });
  });
  return { ...recorded, hung, hanging };
}

describe('transfers against a scripted OTTO', () => {
  const API = 'https://api.otto.test';
  let store: SellerStore;
  beforeEach(() => {
    store = openSqliteSellerStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  function setup(
    script: Record<string, Reply[]>,
    extra: Partial<TransferActivityDeps> = {},
    client: Partial<Parameters<typeof createOttoDataClient>[0]> = {},
  ) {
    const otto = scriptedOtto(script);
    const waits: number[] = [];
    const dataClient = createOttoDataClient({
      apiBaseUrl: API,
      sealer,
      fetch: otto.fetchFn,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      ...client,
    });
    const acts = createTransferActivities({
      store,
      otto: dataClient,
      taskPollMinMs: 1,
      heartbeatEveryMs: 5,
      ...extra,
    });
    return { acts, calls: otto.calls, waits, hung: otto.hung, hanging: otto.hanging };
  }
  const input = (cursor: TransferInput['cursor'] = {}): TransferInput => ({
    sellerId: 's',
    partnerId: 'p',
    sealedToken: sealer.seal('inst-token', { purpose: 'installation-token', sellerId: 's' }),
    tokenExpiresAt: Date.now() + 25 * 60_000,
    cursor,
  });

  it.each([
    [
      'sealed for another seller',
      sealer.seal('inst-token', { purpose: 'installation-token', sellerId: 'other' }),
    ],
    ['sealed as another secret', sealer.seal('inst-token', { purpose: 'user-token', sellerId: 's' })],
    ['sealed by the v1 format', `v1.k.${'A'.repeat(16)}.${'A'.repeat(30)}`],
  ])(
    'a token %s is TokenRejected (non-retryable, the workflow re-mints); nothing is sent to OTTO',
    async (_what, sealedToken) => {
      const { acts, calls } = setup({ '/v4/orders': [{ status: 200, body: { resources: [], links: [] } }] });
      const failure = await failureOf(run(acts, 'ordersImport', { ...input(), sealedToken }));
      expect(failure).toMatchObject({ type: FailureTypes.tokenRejected, nonRetryable: true });
      expect(failure.message).toMatch(/installation-token/);
      expect(failure.message).toContain('nothing was sent to OTTO');
      expect(calls).toEqual([]);
    },
  );

  const order = (id: string, lifecycle: string, statuses: string[], extra: Record<string, unknown> = {}) => ({
    salesOrderId: id,
    orderNumber: `A${id.padStart(9, '0')}`,
    orderDate: '2025-03-01T08:00:00Z',
    orderLifecycleInformation: { lifecycleChangeDate: lifecycle },
    positionItems: statuses.map((fulfillmentStatus, i) => ({
      positionItemId: `${id}-${i}`,
      fulfillmentStatus,
      itemValueGrossPrice: { amount: 10.5, currency: 'EUR' },
      product: { sku: `SKU-${i}`, articleNumber: `ART-${i}`, productTitle: 'Ding', vatRate: 19, brand: 'x' },
      somethingOttoAddedLater: true,
    })),
    suspectedFraudCase: false,
    ...extra,
  });

  it('reads PartnerOrders leniently, pages with only nextcursor + limit, and keeps fromDate as the cursor', async () => {
    const { acts, calls } = setup({
      '/v4/orders': [
        {
          status: 200,
          body: {
            resources: [order('1', '2025-03-01T10:00:00Z', ['SENT', 'PROCESSABLE'])],
            links: [{ rel: 'next', href: '/v4/orders?nextcursor=abc%3D&fromDate=ignored&limit=999' }],
          },
        },
        {
          status: 200,
          body: {
            resources: [
              order('2', '2025-03-01T11:00:00Z', ['CANCELLED_BY_PARTNER'], {
                lastModifiedDate: '2025-03-01T12:00:00Z',
              }),
            ],
            links: [],
          },
        },
      ],
    });
    const result = await run(acts, 'ordersImport', input({ fromDate: '2025-03-01T09:00:00Z' }));
    expect(calls.map((c) => c.url)).toEqual([
      `${API}/v4/orders?limit=128&fromDate=2025-03-01T09%3A00%3A00Z`,
      `${API}/v4/orders?limit=128&nextcursor=abc%3D`,
    ]);
    expect(result.cursor).toEqual({ fromDate: '2025-03-01T11:00:00Z' });
    const stored = await store.listOrders('s');
    expect(
      stored.map((o) => [o.salesOrderId, o.fulfillmentStatus, o.lastModifiedDate, o.changeDate]),
    ).toEqual([
      ['1', 'PROCESSABLE', null, '2025-03-01T10:00:00Z'],
      ['2', 'CANCELLED_BY_PARTNER', '2025-03-01T12:00:00Z', '2025-03-01T12:00:00Z'],
    ]);
    expect(stored[0]!.data).toMatchObject({ suspectedFraudCase: false });
  });

  it('an order that does not match OTTO’s model is kept aside, the rest imported; read again by id each run until it does', async () => {
    const broken = order('2', '2025-03-01T10:30:00Z', ['PROCESSABLE']);
    broken.positionItems[0]!.product.vatRate = null as unknown as number;
    const { acts, calls } = setup({
      '/v4/orders': [
        {
          status: 200,
          body: {
            resources: [
              order('1', '2025-03-01T10:00:00Z', ['SENT']),
              broken,
              order('3', '2025-03-01T11:00:00Z', ['SENT']),
            ],
            links: [],
          },
        },
        { status: 200, body: { resources: [], links: [] } },
      ],
      '/v4/orders/2': [
        { status: 200, body: broken },
        { status: 200, body: order('2', '2025-03-01T12:00:00Z', ['PROCESSABLE']) },
      ],
    });
    const first = await run(acts, 'ordersImport', input());
    expect((await store.listOrders('s')).map((o) => o.salesOrderId)).toEqual(['1', '3']);
    expect(first.cursor).toEqual({ fromDate: '2025-03-01T11:00:00Z', parked: '["2"]' });
    expect(first.detail).toContain(
      '1 order(s) OTTO sent do not match its documented model, kept aside and read again each run: 2 (positionItems.0.product.vatRate',
    );
    expect(calls.filter((c) => c.url.includes('/v4/orders/'))).toEqual([]);

    // Next run: read again by id, still broken (kept aside); then fixed (stored, no longer aside).
    const second = await run(acts, 'ordersImport', input(first.cursor));
    expect(second.cursor).toEqual({ fromDate: '2025-03-01T11:00:00Z', parked: '["2"]' });
    expect(second.detail).toContain('kept aside');
    const third = await run(acts, 'ordersImport', input(second.cursor));
    expect(third.cursor).toEqual({ fromDate: '2025-03-01T11:00:00Z' });
    expect(third.count).toBe(1);
    expect(third.changedOrderIds).toEqual(['2']);
    expect((await store.listOrders('s')).map((o) => o.salesOrderId).sort()).toEqual(['1', '2', '3']);
    expect(calls.filter((c) => c.url.includes('/v4/orders/')).map((c) => c.url)).toEqual([
      `${API}/v4/orders/2`,
      `${API}/v4/orders/2`,
    ]);
  });

  it('an order kept aside that OTTO no longer knows (404) is dropped; one without a salesOrderId is named in the detail', async () => {
    const nameless = order('x', '2025-03-01T10:30:00Z', ['SENT']) as Record<string, unknown>;
    delete nameless.salesOrderId;
    const { acts } = setup({
      '/v4/orders': [{ status: 200, body: { resources: [nameless], links: [] } }],
      '/v4/orders/gone': [{ status: 404, body: { errors: [{ title: 'Not Found' }] } }],
    });
    const result = await run(
      acts,
      'ordersImport',
      input({ fromDate: '2025-03-01T09:00:00Z', parked: '["gone"]' }),
    );
    expect(result.cursor).toEqual({ fromDate: '2025-03-01T09:00:00Z' });
    expect(result.detail).toContain('1 order(s) without a salesOrderId do not match OTTO');
  });

  it('more orders off the model than can be kept aside is a changed model: the import fails clearly', async () => {
    const broken = (i: number) => {
      const o = order(String(i), '2025-03-01T10:00:00Z', ['SENT']) as Record<string, unknown>;
      delete o.orderLifecycleInformation;
      return o;
    };
    const { acts } = setup({
      '/v4/orders': [
        {
          status: 200,
          body: { resources: Array.from({ length: PARKED_ORDERS_MAX + 1 }, (_, i) => broken(i)), links: [] },
        },
      ],
    });
    const failure = await failureOf(run(acts, 'ordersImport', input()));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('orderLifecycleInformation');
    expect(failure.message).toContain(`${PARKED_ORDERS_MAX + 1} orders OTTO sent do not match`);
  });

  it('the next fromDate never lies later than the overlap before the run began (an order read early may change meanwhile)', async () => {
    const startedAt = Date.parse('2025-03-01T11:05:00Z');
    const { acts } = setup(
      {
        '/v4/orders': [
          {
            status: 200,
            body: { resources: [order('1', '2025-03-01T11:04:00Z', ['SENT'])], links: [] },
          },
        ],
      },
      { now: () => startedAt },
    );
    const result = await run(acts, 'ordersImport', input({ fromDate: '2025-03-01T10:00:00Z' }));
    expect(result.cursor).toEqual({ fromDate: new Date(startedAt - ORDERS_OVERLAP_MS).toISOString() });
    // Changes older than the overlap: the newest one seen, as OTTO wrote it.
    const later = setup(
      {
        '/v4/orders': [
          { status: 200, body: { resources: [order('1', '2025-03-01T10:30:00Z', ['SENT'])], links: [] } },
        ],
      },
      { now: () => startedAt },
    );
    expect((await run(later.acts, 'ordersImport', input())).cursor).toEqual({
      fromDate: '2025-03-01T10:30:00Z',
    });
  });

  it('shipping profiles: a listing that ends oddly (no results list, a next link back to a read page) removes nothing', async () => {
    const profile = (id: string) => ({
      shippingProfileId: id,
      shippingProfileName: `Profil ${id}`,
      workingDays: ['MONDAY'],
      orderCutoff: '12:00',
      deliveryType: 'PARCEL',
      defaultProcessingTime: 1,
      transportTime: 2,
    });
    const { acts } = setup({
      '/v1/shipping-profiles': [
        { status: 200, body: { results: [profile('p1'), profile('p2'), profile('p3')] } },
        // An envelope without `results` (another name, an empty body): no proof the profiles are gone.
        { status: 200, body: { shippingProfiles: [] } },
        // Page 2 links back to page 1: p3 was never listed, but the listing did not end.
        {
          status: 200,
          body: { results: [profile('p1')], links: { rel: 'next', href: '/v1/shipping-profiles?cursor=2' } },
        },
        // A listing that ends as OTTO ends one: p2 and p3 are gone.
        { status: 200, body: { results: [profile('p1')] } },
      ],
      '/v1/shipping-profiles?cursor=2': [
        {
          status: 200,
          body: { results: [profile('p2')], links: { rel: 'next', href: '/v1/shipping-profiles' } },
        },
      ],
    });
    const ids = async () => (await store.listShippingProfiles('s')).map((p) => p.shippingProfileId).sort();
    await run(acts, 'shippingProfilesSync', input());
    expect(await ids()).toEqual(['p1', 'p2', 'p3']);
    const empty = await run(acts, 'shippingProfilesSync', input());
    expect(empty.detail).toContain(
      "0 removed; none removed: OTTO's listing ended oddly (page 1 held no results list)",
    );
    expect(await ids()).toEqual(['p1', 'p2', 'p3']);
    const loop = await run(acts, 'shippingProfilesSync', input());
    expect(loop.detail).toContain('pointed back to a page already read');
    expect(await ids()).toEqual(['p1', 'p2', 'p3']);
    const ended = await run(acts, 'shippingProfilesSync', input());
    expect(ended.detail).toContain('2 removed');
    expect(await ids()).toEqual(['p1']);
  });

  it('waits out 429s without Retry-After with its own exponential backoff', async () => {
    const { acts, waits } = setup({
      '/v4/orders': [{ status: 429 }, { status: 429 }, { status: 200, body: { resources: [], links: [] } }],
    });
    await run(acts, 'ordersImport', input());
    expect(waits).toEqual([1_000, 2_000]);
  });

  it('does not follow a redirect from OTTO (the token stays on OTTO’s origin)', async () => {
    const { acts, calls } = setup({
      '/v1/shipping-profiles': [{ status: 302, headers: { location: 'https://evil.example/steal' } }],
    });
    const failure = await failureOf(run(acts, 'shippingProfilesSync', input()));
    expect(failure.nonRetryable).toBe(true);
    expect(calls.map((c) => new URL(c.url).origin)).toEqual([API]);
  });

  it('refuses a `self` link to another origin too', async () => {
    const { acts, calls } = setup({
      '/v3/returns': [
        {
          status: 200,
          body: { positionItems: [], links: [{ rel: 'self', href: 'https://evil.example/x' }] },
        },
      ],
    });
    const failure = await failureOf(run(acts, 'returnsImport', input()));
    expect(failure.message).toContain(FOREIGN_ORIGIN_MESSAGE);
    expect(calls).toHaveLength(1);
  });

  it('pages returns newest first and stops at items older than the cursor (ids at the cursor time skipped)', async () => {
    const item = (id: string, at: string, status = 'ANNOUNCED') => ({
      positionItemId: id,
      salesOrderId: `o-${id}`,
      status,
      occurredTime: at,
      details: { returnTrackingKey: { carrier: 'DHL', trackingNumbers: [`T${id}`] } },
    });
    const full = (from: number) =>
      Array.from({ length: 50 }, (_, i) =>
        item(`n${from + i}`, new Date(Date.parse('2025-03-02T00:00:00Z') - (from + i) * 1000).toISOString()),
      );
    const { acts, calls } = setup({
      '/v3/returns?limit=50&page=1': [
        {
          status: 200,
          body: { positionItems: full(0), links: [{ rel: 'next', href: '/v3/returns?page=2' }] },
        },
      ],
      '/v3/returns?limit=50&page=2': [
        {
          status: 200,
          body: {
            positionItems: [
              item('x', '2025-03-01T10:00:00Z'), // new, at the cursor's time
              item('seen', '2025-03-01T10:00:00Z'), // already imported at the cursor's time
              item('old', '2025-03-01T09:00:00Z'), // older: paging stops after this page
            ],
            links: [{ rel: 'next', href: '/v3/returns?page=3' }],
          },
        },
      ],
    });
    const result = await run(
      acts,
      'returnsImport',
      input({ 'all.since': '2025-03-01T10:00:00Z', 'all.seen': JSON.stringify(['seen|ANNOUNCED']) }),
    );
    expect(calls.map((c) => new URL(c.url).searchParams.get('page'))).toEqual(['1', '2']);
    const stored = await store.listReturns('s');
    expect(stored.map((r) => r.positionItemId)).toContain('x');
    expect(stored.map((r) => r.positionItemId)).not.toContain('seen');
    expect(stored.map((r) => r.positionItemId)).not.toContain('old');
    expect(stored).toHaveLength(51);
    expect(result.cursor['all.since']).toBe('2025-03-02T00:00:00.000Z');
    expect(JSON.parse(result.cursor['all.seen'] as string)).toEqual(['n0|ANNOUNCED']);
  });

  it('with a pass per status, the ANNOUNCED list is read whole each run: a return that moved up a page meanwhile is not lost', async () => {
    const at = (i: number) => new Date(Date.parse('2025-03-02T00:00:00Z') - i * 1000).toISOString();
    const item = (i: number) => ({
      positionItemId: `r${i}`,
      salesOrderId: `o${i}`,
      status: 'ANNOUNCED',
      occurredTime: at(i),
      details: null,
    });
    const ids = (from: number, to: number, without: number[] = []) =>
      Array.from({ length: to - from }, (_, k) => from + k)
        .filter((i) => !without.includes(i))
        .map(item);
    const page = (n: number) => `/v3/returns?limit=50&page=${n}&status=ANNOUNCED`;
    const { acts } = setup(
      {
        // Run 1: page 1 read, then r10 was accepted at OTTO: r50 moved up onto page 1, page 2 starts at r51.
        // Run 2: the list as it is now.
        [page(1)]: [
          { status: 200, body: { positionItems: ids(0, 50) } },
          { status: 200, body: { positionItems: ids(0, 51, [10]) } },
        ],
        [page(2)]: [
          { status: 200, body: { positionItems: ids(51, 60) } },
          { status: 200, body: { positionItems: ids(51, 60) } },
        ],
      },
      { returnStatuses: ['ANNOUNCED'] },
    );
    const first = await run(acts, 'returnsImport', input());
    expect((await store.listReturns('s')).map((r) => r.positionItemId)).not.toContain('r50');
    // Before: the second run stopped at the cursor (r0's time) and r50 was never imported.
    await run(acts, 'returnsImport', input(first.cursor));
    expect((await store.listReturns('s')).map((r) => r.positionItemId)).toContain('r50');
    expect(await store.listReturns('s')).toHaveLength(60);
  });

  it('queries one pass per status when configured, each with its own cursor', async () => {
    const { acts, calls } = setup(
      {
        '/v3/returns': [
          {
            status: 200,
            body: {
              positionItems: [
                {
                  positionItemId: 'a',
                  salesOrderId: 'o',
                  status: 'ACCEPTED',
                  occurredTime: '2025-03-01T10:00:00Z',
                  details: { condition: 'A' },
                },
              ],
            },
          },
        ],
      },
      { returnStatuses: ['ANNOUNCED', 'ACCEPTED'] },
    );
    const result = await run(acts, 'returnsImport', input());
    expect(calls.map((c) => new URL(c.url).searchParams.get('status'))).toEqual(['ANNOUNCED', 'ACCEPTED']);
    expect(Object.keys(result.cursor).sort()).toEqual([
      'accepted.seen',
      'accepted.since',
      'announced.seen',
      'announced.since',
    ]);
  });

  it('sends a refused stock SKU again with the next run and clears it once OTTO takes it', async () => {
    await store.setStock('s', [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 2 },
    ]);
    const { acts, calls } = setup({
      '/v1/availability/quantities': [
        {
          status: 207,
          body: {
            results: [{ sku: 'A', quantity: 1, lastModified: '2025-03-01T10:00:00Z', links: [] }],
            errors: [
              { code: 404, title: 'Not Found', detail: 'SKU "B" is unknown', path: '/1', logref: 'l1' },
            ],
          },
        },
        { status: 200, body: {} },
      ],
    });
    const first = await run(acts, 'stockExport', input());
    expect(first.count).toBe(1);
    expect(first.detail).toContain('B (Not Found: SKU "B" is unknown');
    const second = await run(acts, 'stockExport', input(first.cursor));
    expect(calls[1]!.body).toEqual([{ sku: 'B', quantity: 2 }]);
    expect(second.count).toBe(1);
    expect(await store.exportFailures('s', 'stock')).toEqual([]);
  });

  /** An attempt resuming a prices export whose update task `task` an earlier attempt left in flight. */
  const resumingTask = async (task: { href: string; skus: string[]; postedAt?: number }) => {
    const upTo = await store.currentChangeSeq();
    const heartbeatDetails = { upTo, afterSku: null, taken: 0, refused: 0, sample: [], batches: 0, task };
    return { env: mockEnv({ heartbeatDetails }), upTo };
  };

  it('resumes polling the price update task from the heartbeat instead of posting again', async () => {
    await store.setPrices('s', [
      { sku: 'P1', amount: 1, currency: 'EUR' },
      { sku: 'P2', amount: 2, currency: 'USD' },
    ]);
    const task = `${API}/v5/products/update-tasks/t-1`;
    const { acts, calls } = setup({
      '/v5/products/update-tasks/t-1': [
        {
          status: 200,
          body: { state: 'pending', pingAfter: new Date(Date.now() + 2).toISOString(), links: [] },
        },
        {
          status: 200,
          body: {
            state: 'done',
            total: 2,
            succeeded: 1,
            failed: 1,
            unchanged: 0,
            links: [
              { rel: 'self', href: '/v5/products/update-tasks/t-1' },
              { rel: 'failed', href: '/v5/products/update-tasks/t-1/failed' },
            ],
          },
        },
      ],
      '/v5/products/update-tasks/t-1/failed': [
        {
          status: 200,
          body: {
            results: [
              { variation: 'P2', errors: [{ code: 'INVALID_CURRENCY', title: 'currency must be EUR' }] },
            ],
          },
        },
      ],
    });
    const { env, upTo } = await resumingTask({ href: task, skus: ['P1', 'P2'] });
    const result = await run(acts, 'pricesExport', input(), env);
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
    expect(result.count).toBe(1);
    expect(result.detail).toContain('P2 (INVALID_CURRENCY currency must be EUR)');
    expect(result.cursor).toEqual({ ackedSeq: upTo });
    expect((await store.exportFailures('s', 'prices')).map((f) => f.sku)).toEqual(['P2']);
  });

  it('gives up a price update task OTTO never finishes: its prices refused (sent again next run), the export goes on', async () => {
    await store.setPrices('s', [
      { sku: 'P1', amount: 1, currency: 'EUR' },
      { sku: 'P2', amount: 2, currency: 'EUR' },
    ]);
    let clock = Date.parse('2025-03-01T10:00:00Z');
    const postedAt = clock - 29 * 60_000; // posted by an earlier run, 29 minutes ago
    const { acts, calls } = setup(
      {
        // Forever pending; every reading of the clock moves it on by 30 s.
        '/v5/products/update-tasks/t-1': [
          { status: 200, body: { state: 'pending', links: [] } },
          { status: 200, body: { state: 'pending', links: [] } },
          { status: 200, body: { state: 'pending', links: [] } },
        ],
      },
      {
        now: () => (clock += 30_000),
        taskGiveUpMs: 30 * 60_000,
      },
    );
    const { env, upTo } = await resumingTask({
      href: `${API}/v5/products/update-tasks/t-1`,
      skus: ['P1', 'P2'],
      postedAt,
    });
    // Before: "still pending … the retry polls the same task", on every attempt and every later run.
    const result = await run(acts, 'pricesExport', input(), env);
    expect(result.cursor).toEqual({ ackedSeq: upTo });
    expect(result.detail).toContain('did not finish within 30 min; sent again next run');
    expect((await store.exportFailures('s', 'prices')).map((f) => f.sku)).toEqual(['P1', 'P2']);
    expect(calls.filter((c) => c.method === 'POST')).toEqual([]);
    // The next run sends them again (the store's values), as refused prices are.
    expect((await store.pendingPrices('s')).map((p) => p.sku)).toEqual(['P1', 'P2']);
  });

  it('reads the task from the `self` link of the 202 and refuses one on another origin', async () => {
    await store.setPrices('s', [{ sku: 'P1', amount: 1, currency: 'EUR' }]);
    const { acts, calls } = setup({
      '/v5/products/prices': [
        {
          status: 202,
          body: {
            state: 'pending',
            links: [{ rel: 'self', href: 'https://evil.example/v5/products/update-tasks/t' }],
          },
        },
      ],
    });
    const failure = await failureOf(run(acts, 'pricesExport', input()));
    expect(failure.message).toContain(FOREIGN_ORIGIN_MESSAGE);
    expect(calls.map((c) => new URL(c.url).origin)).toEqual([API]);
    expect(await store.exportFailures('s', 'prices')).toEqual([]);
  });
  // ---- stopping and resuming ------------------------------------------------------------------------

  /** The failure an activity run rejects with (CancelledFailure or ApplicationFailure). */
  async function rejection(p: Promise<unknown>): Promise<CancelledFailure | ApplicationFailure> {
    try {
      await p;
    } catch (err) {
      if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
      throw err;
    }
    throw new Error('expected a failure');
  }

  /** The progress a stopped transfer hands back (its failure's details[0]). */
  const progressOf = (f: CancelledFailure | ApplicationFailure): unknown => (f.details ?? [])[0];

  const page = (orders: unknown[], next?: string) => ({
    status: 200,
    body: { resources: orders, links: next ? [{ rel: 'next', href: next }] : [] },
  });

  it('cancelling aborts the OTTO request in flight and hands back the progress heartbeated last; the next schedule resumes there', async () => {
    const { acts, hung, hanging } = setup({
      '/v4/orders': [
        page([order('1', '2025-03-01T10:00:00Z', ['PROCESSABLE'])], '/v4/orders?nextcursor=p2'),
        'hang',
      ],
    });
    const env = mockEnv();
    const pending = run(acts, 'ordersImport', input(), env);
    await hanging;
    env.cancel();
    const stopped = await rejection(pending);
    expect(stopped).toBeInstanceOf(CancelledFailure);
    expect(hung[0]!.aborted).toBe(true);
    const progress = progressOf(stopped);
    expect(progress).toMatchObject({ nextPath: '/v4/orders?limit=128&nextcursor=p2', pages: 1, count: 1 });
    expect((await store.listOrders('s')).map((o) => o.salesOrderId)).toEqual(['1']);
    // Cancelled is not failed: no failed run recorded for the shop.
    expect(await store.transferRuns('s')).toEqual([]);

    const next = setup({
      '/v4/orders': [page([order('2', '2025-03-01T11:00:00Z', ['SENT'])])],
    });
    const result = await run(next.acts, 'ordersImport', { ...input(), resume: progress });
    expect(next.calls.map((c) => c.url)).toEqual([`${API}/v4/orders?limit=128&nextcursor=p2`]);
    expect(result).toMatchObject({ count: 2, cursor: { fromDate: '2025-03-01T11:00:00Z' } });
    expect(result.detail).toContain('over 2 page(s)');
  });

  it('a token that turns out to expire too soon mid-run stops with TokenExpiring carrying the progress', async () => {
    let sent = 0;
    const { acts, calls } = setup(
      {
        '/v4/orders': [
          page([order('1', '2025-03-01T10:00:00Z', ['PROCESSABLE'])], '/v4/orders?nextcursor=p2'),
          page([]),
        ],
      },
      {},
      // After the first page the clock has moved: the token would expire within the safety margin.
      { now: () => Date.now() + (sent > 0 ? 24 * 60_000 + 58_000 : 0) },
    );
    const env = mockEnv();
    env.on('heartbeat', () => (sent = calls.length));
    const stopped = await rejection(run(acts, 'ordersImport', input(), env));
    expect(stopped).toBeInstanceOf(ApplicationFailure);
    expect(stopped).toMatchObject({ type: FailureTypes.tokenExpiring, nonRetryable: true });
    expect(progressOf(stopped)).toMatchObject({
      nextPath: '/v4/orders?limit=128&nextcursor=p2',
      pages: 1,
      count: 1,
    });
    expect(calls).toHaveLength(1);
  });

  it('a 401 mid-run stops with TokenRejected carrying the progress', async () => {
    const { acts, calls } = setup({
      '/v4/orders': [
        page([order('1', '2025-03-01T10:00:00Z', ['PROCESSABLE'])], '/v4/orders?nextcursor=p2'),
        { status: 401, body: { errors: [{ title: 'Unauthorized' }] } },
      ],
    });
    const stopped = await rejection(run(acts, 'ordersImport', input()));
    expect(stopped).toMatchObject({ type: FailureTypes.tokenRejected, nonRetryable: true });
    expect(progressOf(stopped)).toMatchObject({ nextPath: '/v4/orders?limit=128&nextcursor=p2', pages: 1 });
    expect(calls).toHaveLength(2);
  });

  /** Where the earlier progress comes from: the workflow's `input.resume`, or this schedule's heartbeat. */
  const from = (how: 'resume' | 'heartbeat', progress: unknown, base: TransferInput) =>
    how === 'resume'
      ? { input: { ...base, resume: progress }, env: mockEnv() }
      : { input: base, env: mockEnv({ heartbeatDetails: progress }) };

  describe.each(['resume', 'heartbeat'] as const)('resuming from %s', (how) => {
    it('ordersImport goes on at the page it had reached', async () => {
      const base = input({ fromDate: '2025-03-01T09:00:00Z' });
      const progress = {
        basis: progressBasis(base),
        nextPath: '/v4/orders?limit=128&nextcursor=c3',
        maxLifecycle: '2025-03-01T10:00:00Z',
        count: 7,
        pages: 2,
        changedIds: ['x'],
        maxChangeSeq: 0,
      };
      const { acts, calls } = setup({ '/v4/orders': [page([order('2', '2025-03-01T11:00:00Z', ['SENT'])])] });
      const start = from(how, progress, base);
      const result = await run(acts, 'ordersImport', start.input, start.env);
      expect(calls.map((c) => c.url)).toEqual([`${API}/v4/orders?limit=128&nextcursor=c3`]);
      expect(result).toMatchObject({ count: 8, cursor: { fromDate: '2025-03-01T11:00:00Z' } });
      expect(result.detail).toContain('over 3 page(s)');
    });

    it('returnsImport goes on at its page (reading the last page done once more), not at page 1', async () => {
      const base = input();
      const progress = {
        basis: progressBasis(base, [null]),
        pass: 0,
        page: 3,
        newestTime: '2025-03-02T00:00:00.000Z',
        newestSeen: ['n0|ANNOUNCED'],
        cursor: {},
        count: 100,
        pages: 2,
        skipped: 0,
      };
      const item = (id: string, at: string) => ({
        positionItemId: id,
        salesOrderId: `o-${id}`,
        status: 'ANNOUNCED',
        occurredTime: at,
      });
      const { acts, calls } = setup({
        '/v3/returns?limit=50&page=2': [
          {
            status: 200,
            body: {
              positionItems: Array.from({ length: 50 }, (_, i) => item(`p2-${i}`, '2025-03-01T12:00:00Z')),
            },
          },
        ],
        '/v3/returns?limit=50&page=3': [
          { status: 200, body: { positionItems: [item('p3-0', '2025-03-01T11:00:00Z')] } },
        ],
      });
      const start = from(how, progress, base);
      const beats: Array<{ pass: number; page: number }> = [];
      start.env.on('heartbeat', (d: { pass: number; page: number }) => beats.push(d));
      const result = await run(acts, 'returnsImport', start.input, start.env);
      expect(calls.map((c) => new URL(c.url).searchParams.get('page'))).toEqual(['2', '3']);
      // The overlap is not heartbeated: a retry would not step back another page.
      const inPass = beats.filter((b) => b.pass === 0).map((b) => b.page);
      expect(inPass.length).toBeGreaterThan(1);
      expect(new Set(inPass)).toEqual(new Set([3]));
      expect(beats.at(-1)).toMatchObject({ pass: 1, page: 1 });
      expect(result.count).toBe(100 + 51);
      // The pass completes with the newest change of the whole pass, seen on page 1 before the stop.
      expect(result.cursor['all.since']).toBe('2025-03-02T00:00:00.000Z');
      expect(JSON.parse(result.cursor['all.seen'] as string)).toEqual(['n0|ANNOUNCED']);
    });

    it('stockExport (a full resync) goes on after the last SKU done, against the same snapshot', async () => {
      await store.setStock(
        's',
        ['A', 'B', 'C', 'D', 'E'].map((sku, i) => ({ sku, quantity: i })),
      );
      const base = { ...input({ ackedSeq: 0, lastFullAt: null }), full: true };
      const progress = {
        basis: progressBasis(base),
        upTo: await store.currentChangeSeq(),
        afterSku: 'B',
        taken: 2,
        refused: 0,
        sample: [],
        batches: 1,
        task: null,
      };
      const { acts, calls } = setup({ '/v1/availability/quantities': [{ status: 200, body: {} }] });
      const start = from(how, progress, base);
      const result = await run(acts, 'stockExport', start.input, start.env);
      expect(calls.flatMap((c) => (c.body as Array<{ sku: string }>).map((i) => i.sku))).toEqual([
        'C',
        'D',
        'E',
      ]);
      expect(result.count).toBe(5);
      expect(result.detail).toContain('full daily resync');
      expect(result.cursor.ackedSeq).toBe(progress.upTo);
    });

    it('pricesExport goes on after the last SKU done', async () => {
      await store.setPrices('s', [
        { sku: 'P1', amount: 1, currency: 'EUR' },
        { sku: 'P2', amount: 2, currency: 'EUR' },
        { sku: 'P3', amount: 3, currency: 'EUR' },
      ]);
      const base = input();
      const progress = {
        basis: progressBasis(base),
        upTo: await store.currentChangeSeq(),
        afterSku: 'P1',
        taken: 1,
        refused: 0,
        sample: [],
        batches: 1,
        task: null,
      };
      const { acts, calls } = setup({
        '/v5/products/prices': [
          {
            status: 202,
            body: { state: 'done', total: 2, succeeded: 2, failed: 0, unchanged: 0, links: [] },
          },
        ],
      });
      const start = from(how, progress, base);
      const result = await run(acts, 'pricesExport', start.input, start.env);
      expect(calls.flatMap((c) => (c.body as Array<{ sku: string }>).map((i) => i.sku))).toEqual([
        'P2',
        'P3',
      ]);
      expect(result.count).toBe(3);
    });
  });

  it('heartbeat details win over input.resume; progress for another cursor, or invalid, starts over', async () => {
    const base = input({ fromDate: '2025-03-01T09:00:00Z' });
    const at = (nextcursor: string, basis = progressBasis(base)) => ({
      basis,
      nextPath: `/v4/orders?limit=128&nextcursor=${nextcursor}`,
      maxLifecycle: null,
      count: 0,
      pages: 1,
      changedIds: [],
      maxChangeSeq: 0,
    });
    const firstUrl = async (resume: unknown, heartbeatDetails?: unknown) => {
      const { acts, calls } = setup({ '/v4/orders': [page([])] });
      await run(acts, 'ordersImport', { ...base, resume }, mockEnv({ heartbeatDetails }));
      return calls[0]!.url;
    };
    const fresh = `${API}/v4/orders?limit=128&fromDate=2025-03-01T09%3A00%3A00Z`;
    expect(await firstUrl(at('from-resume'), at('from-heartbeat'))).toContain('nextcursor=from-heartbeat');
    expect(
      await firstUrl(at('other-cursor', progressBasis(input({ fromDate: '2025-02-01T00:00:00Z' })))),
    ).toBe(fresh);
    expect(await firstUrl({ nextPath: 'https://evil.example/v4/orders', pages: 'many' })).toBe(fresh);
    expect(await firstUrl({ ...at('x'), nextPath: '/v1/shipping-profiles' })).toBe(fresh);
  });

  it('a full stock resync cancelled part-way resumes in the next schedule instead of starting from zero', async () => {
    const skus = Array.from({ length: 450 }, (_, i) => `S${String(i).padStart(4, '0')}`);
    await store.setStock(
      's',
      skus.map((sku, i) => ({ sku, quantity: i })),
    );
    const base = { ...input({ ackedSeq: 0, lastFullAt: null }), full: true };
    const first = setup({ '/v1/availability/quantities': [{ status: 200, body: {} }, 'hang'] });
    const env = mockEnv();
    const pending = run(first.acts, 'stockExport', base, env);
    await first.hanging;
    env.cancel();
    const stopped = await rejection(pending);
    expect(stopped).toBeInstanceOf(CancelledFailure);
    expect(first.hung[0]!.aborted).toBe(true);
    expect(progressOf(stopped)).toMatchObject({ afterSku: skus[199], taken: 200, batches: 1 });

    const second = setup({ '/v1/availability/quantities': [{ status: 200, body: {} }] });
    const result = await run(second.acts, 'stockExport', { ...base, resume: progressOf(stopped) });
    const sent = second.calls.flatMap((c) => (c.body as Array<{ sku: string }>).map((i) => i.sku));
    expect(sent).toEqual(skus.slice(200));
    expect(result.count).toBe(450);
  });

  it('a wait for a price update task ends at once when cancelled, handing back the task to poll', async () => {
    await store.setPrices('s', [{ sku: 'P1', amount: 1, currency: 'EUR' }]);
    const { acts } = setup(
      {
        '/v5/products/prices': [
          {
            status: 202,
            body: {
              state: 'pending',
              pingAfter: new Date(Date.now() + 20_000).toISOString(),
              links: [{ rel: 'self', href: '/v5/products/update-tasks/t-1' }],
            },
          },
        ],
      },
      { heartbeatEveryMs: 50 },
    );
    const env = mockEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const pending = run(acts, 'pricesExport', input(), env);
    // Heartbeating while it waits for the price task.
    await until('three heartbeats while waiting', () => beats.length > 2);
    const cancelledAt = Date.now();
    env.cancel();
    const stopped = await rejection(pending);
    expect(Date.now() - cancelledAt).toBeLessThan(200);
    expect(stopped).toBeInstanceOf(CancelledFailure);
    expect(progressOf(stopped)).toMatchObject({
      task: { href: `${API}/v5/products/update-tasks/t-1`, skus: ['P1'] },
    });
  });

  it('a Retry-After wait ends at once when cancelled, heartbeating while it lasts', async () => {
    const { acts } = setup(
      { '/v4/orders': [{ status: 429, headers: { 'retry-after': '5' } }] },
      {},
      { sleep: undefined, heartbeatEveryMs: 50 },
    );
    const env = mockEnv();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const pending = run(acts, 'ordersImport', input(), env);
    await until('heartbeats while the Retry-After wait lasts', () => beats > 3);
    const cancelledAt = Date.now();
    env.cancel();
    const stopped = await rejection(pending);
    expect(Date.now() - cancelledAt).toBeLessThan(200);
    expect(stopped).toBeInstanceOf(CancelledFailure);
    expect(progressOf(stopped)).toMatchObject({ nextPath: '/v4/orders?limit=128', pages: 0 });
  });
});
