/**
 * The SellerStore contract: the same cases against the SQLite store and against a real PostgreSQL server
 * (the harness's, POSTGRES_TEST_URL; a fresh database per case). OTTO's models: orders compared by change
 * date, returns v3 by occurredTime, shipping profiles with every field, refused export SKUs kept until
 * OTTO takes them; the shop's change feeds, batch writes with idempotency keys, transfer runs; and two
 * handles on one store (two worker processes) writing at once.
 */
import {
  IDEMPOTENCY_KEY_TTL_MS,
  TRANSFER_RUNS_KEPT,
  type SellerStore,
  type StoreOrder,
  type StoreShippingProfile,
} from '../../store/seller-store';
import { storeOrder } from '../support/store-fixtures';
import { storeBackends, type Backing } from '../support/store-backends';

function order(id: string, changeDate: string, status = 'PROCESSABLE'): StoreOrder {
  return { ...storeOrder(id, changeDate, status), data: { salesOrderId: id, extra: { kept: true } } };
}

function profile(id: string, transportTime = 2): StoreShippingProfile {
  const p = {
    shippingProfileId: id,
    shippingProfileName: `profile ${id}`,
    workingDays: ['MONDAY', 'TUESDAY'],
    orderCutoff: '14:30',
    deliveryType: 'PARCEL',
    defaultProcessingTime: 1,
    transportTime,
  };
  return { ...p, data: { ...p, somethingNew: 'kept' } };
}

const backends = storeBackends('contract');

describe.each(backends)('%s seller store', (_name, makeBacking) => {
  let backing: Backing;
  let store: SellerStore;
  const others: SellerStore[] = [];
  /** Another handle on the same store, closed after the case. */
  const second = async () => {
    const s = await backing.open();
    others.push(s);
    return s;
  };
  beforeEach(async () => {
    backing = await makeBacking();
    store = await backing.open();
  });
  afterEach(async () => {
    for (const s of others.splice(0)) await s.close();
    await store?.close();
    await backing?.destroy();
  });

  it('applies only newer order changes and keeps positions and the whole order', async () => {
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T10:00:00Z')])).toMatchObject({
      inserted: 1,
      updated: 0,
      unchanged: 0,
    });
    // The same instant with other items (OTTO's times may have whole seconds): the newer read wins …
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T10:00:00.000Z', 'SENT')])).toMatchObject({
      updated: 1,
    });
    // … and the same read again (a re-read overlap) changes nothing.
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T10:00:00Z', 'SENT')])).toMatchObject({
      unchanged: 1,
    });
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T09:00:00Z', 'PROCESSABLE')])).toMatchObject(
      {
        unchanged: 1,
      },
    );
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T11:00:00+01:00', 'SENT')])).toMatchObject({
      unchanged: 1,
    });
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T11:00:00Z', 'SENT')])).toMatchObject({
      updated: 1,
    });
    const [stored] = await store.listOrders('s');
    expect(stored).toMatchObject({
      fulfillmentStatus: 'SENT',
      lastModifiedDate: null,
      positionItems: [{ positionItemId: 'o1-1', fulfillmentStatus: 'SENT', sku: 'SKU-1', amount: 19.99 }],
      data: { extra: { kept: true } },
    });
    expect(stored).toEqual(order('o1', '2025-03-01T11:00:00Z', 'SENT'));
    expect(await store.listOrders('other')).toEqual([]);
  });

  it('lists orders by change date, then id; an order without data has none', async () => {
    const { data: _none, ...bare } = order('b', '2025-03-02T00:00:00Z');
    await store.upsertOrders('s', [
      order('c', '2025-03-03T00:00:00Z'),
      bare,
      order('a', '2025-03-02T00:00:00Z'),
    ]);
    const listed = await store.listOrders('s');
    expect(listed.map((o) => o.salesOrderId)).toEqual(['a', 'b', 'c']);
    expect(listed[1]).toEqual(bare);
    expect('data' in listed[1]!).toBe(false);
  });

  it('never treats an unparseable change date as newer', async () => {
    await store.upsertOrders('s', [order('o1', '2025-03-01T10:00:00Z')]);
    expect(await store.upsertOrders('s', [order('o1', 'not a date', 'SENT')])).toMatchObject({
      unchanged: 1,
    });
    expect((await store.listOrders('s'))[0]?.fulfillmentStatus).toBe('PROCESSABLE');
  });

  it('applies newer return status changes by occurredTime and keeps OTTO’s details', async () => {
    const announced = {
      positionItemId: 'p1',
      salesOrderId: 'o1',
      status: 'ANNOUNCED',
      occurredTime: '2025-03-01T10:00:00Z',
      details: { returnTrackingKey: { carrier: 'DHL', trackingNumbers: ['1'] } },
    };
    expect(await store.upsertReturns('s', [announced])).toMatchObject({ inserted: 1 });
    expect(await store.upsertReturns('s', [announced])).toMatchObject({ unchanged: 1 });
    const accepted = {
      ...announced,
      status: 'ACCEPTED',
      occurredTime: '2025-03-02T10:00:00Z',
      details: { condition: 'A', reason: 'RETURN_RECEIVED' },
    };
    expect(await store.upsertReturns('s', [accepted])).toMatchObject({ updated: 1 });
    expect(await store.upsertReturns('s', [announced])).toMatchObject({ unchanged: 1 });
    expect(await store.listReturns('s')).toEqual([accepted]);
    // The same instant with another status or details (whole-second times): the newer read wins.
    const rejected = { ...accepted, status: 'REJECTED', details: { condition: 'E', reason: 'WRONG_ITEM' } };
    expect(await store.upsertReturns('s', [rejected])).toMatchObject({ updated: 1 });
    expect(await store.upsertReturns('s', [rejected])).toMatchObject({ unchanged: 1 });
    expect(await store.listReturns('s')).toEqual([rejected]);
  });

  it('without a time on either side, a return changes when its status or details differ; timeless ones list last', async () => {
    const untimed = {
      positionItemId: 'p1',
      salesOrderId: 'o1',
      status: 'ANNOUNCED',
      occurredTime: null,
      details: null,
    };
    const timed = { ...untimed, positionItemId: 'p0', occurredTime: '2025-03-01T10:00:00Z' };
    expect(await store.upsertReturns('s', [untimed, timed])).toMatchObject({ inserted: 2 });
    expect(await store.upsertReturns('s', [untimed])).toMatchObject({ unchanged: 1 });
    expect(await store.upsertReturns('s', [{ ...untimed, details: { x: 1 } }])).toMatchObject({ updated: 1 });
    expect(
      await store.upsertReturns('s', [{ ...untimed, status: 'ACCEPTED', details: { x: 1 } }]),
    ).toMatchObject({
      updated: 1,
    });
    expect((await store.listReturns('s')).map((r) => [r.positionItemId, r.status])).toEqual([
      ['p0', 'ANNOUNCED'],
      ['p1', 'ACCEPTED'],
    ]);
  });

  it('the change-number ceiling bounds every number given out, without waiting for writers', async () => {
    expect(await store.changeSeqCeiling()).toBe(await store.currentChangeSeq());
    await store.setStock('s', [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 2 },
    ]);
    const current = await store.currentChangeSeq();
    expect(current).toBeGreaterThan(0);
    expect(await store.changeSeqCeiling()).toBe(current);
  });

  it('numbers stock and price changes monotonically and hands back changes in a range', async () => {
    const start = await store.currentChangeSeq();
    await store.setStock('s', [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 2 },
    ]);
    await store.setPrices('s', [{ sku: 'A', amount: 9.99, currency: 'EUR' }]);
    await store.setStock('s', [{ sku: 'A', quantity: 5 }]);
    const bound = await store.currentChangeSeq();
    expect(bound).toBe(start + 4);
    await store.setStock('s', [{ sku: 'C', quantity: 0 }]);
    expect((await store.stockChanges('s', start, bound)).map((l) => [l.sku, l.quantity])).toEqual([
      ['B', 2],
      ['A', 5],
    ]);
    expect((await store.stockChanges('s', bound)).map((l) => l.sku)).toEqual(['C']);
    expect(await store.allStock('s')).toEqual([
      { sku: 'A', quantity: 5, changeSeq: start + 4 },
      { sku: 'B', quantity: 2, changeSeq: start + 2 },
      { sku: 'C', quantity: 0, changeSeq: start + 5 },
    ]);
    expect(await store.priceChanges('s', start)).toEqual([
      { sku: 'A', amount: 9.99, currency: 'EUR', changeSeq: start + 3 },
    ]);
    expect(await store.allPrices('s')).toEqual(await store.priceChanges('s', 0));
    expect(await store.allStock('other')).toEqual([]);
  });

  it('refuses a negative or fractional quantity and writes nothing of that batch', async () => {
    const before = await store.currentChangeSeq();
    await expect(
      store.setStock('s', [
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: -1 },
      ]),
    ).rejects.toThrow(/B/);
    await expect(store.setStock('s', [{ sku: 'A', quantity: 1.5 }])).rejects.toThrow(/A/);
    expect(await store.allStock('s')).toEqual([]);
    await store.setStock('s', [{ sku: 'A', quantity: 1 }]);
    expect((await store.allStock('s'))[0]?.changeSeq).toBe(before + 1);
  });

  it('keeps refused SKUs until OTTO takes them, and hands their current values back', async () => {
    await store.setStock('s', [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 2 },
    ]);
    await store.recordExportOutcome('s', 'stock', {
      taken: ['A'],
      refused: [{ sku: 'B', error: 'unknown SKU' }],
    });
    await store.recordExportOutcome('s', 'stock', {
      taken: [],
      refused: [{ sku: 'B', error: 'still unknown' }],
    });
    const [failure, ...none] = await store.exportFailures('s', 'stock');
    expect(none).toEqual([]);
    expect(failure).toMatchObject({ sku: 'B', error: 'still unknown', attempts: 2 });
    expect(Date.parse(failure!.firstFailedAt)).toBeLessThanOrEqual(Date.parse(failure!.lastFailedAt));
    expect(failure!.lastFailedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await store.setStock('s', [{ sku: 'B', quantity: 5 }]);
    expect((await store.pendingStock('s')).map((l) => [l.sku, l.quantity])).toEqual([['B', 5]]);
    expect(await store.exportFailures('s', 'prices')).toEqual([]);
    expect(await store.pendingPrices('s')).toEqual([]);

    await store.recordExportOutcome('s', 'stock', { taken: ['B'], refused: [] });
    expect(await store.exportFailures('s', 'stock')).toEqual([]);
    expect(await store.pendingStock('s')).toEqual([]);
  });

  it('hands back pending prices separately from stock', async () => {
    await store.setPrices('s', [{ sku: 'P', amount: 1.005, currency: 'EUR' }]);
    await store.recordExportOutcome('s', 'prices', {
      taken: [],
      refused: [{ sku: 'P', error: '3 decimals' }],
    });
    expect(await store.pendingPrices('s')).toEqual([expect.objectContaining({ sku: 'P', amount: 1.005 })]);
    expect(await store.pendingStock('s')).toEqual([]);
  });

  it('stores every shipping profile field, notices any change, and removes what OTTO dropped', async () => {
    expect(await store.upsertShippingProfiles('s', [profile('1'), profile('2')])).toMatchObject({
      inserted: 2,
    });
    expect(await store.upsertShippingProfiles('s', [profile('1'), profile('2', 3)])).toMatchObject({
      unchanged: 1,
      updated: 1,
    });
    // Another field order is no change.
    const reordered = profile('1');
    reordered.data = Object.fromEntries(Object.entries(reordered.data).reverse());
    expect(await store.upsertShippingProfiles('s', [reordered])).toMatchObject({ unchanged: 1 });
    expect(await store.removeShippingProfilesExcept('s', ['2'])).toBe(1);
    const [kept, ...none] = await store.listShippingProfiles('s');
    expect(none).toEqual([]);
    expect(kept).toEqual(profile('2', 3));
    expect(kept!.data).toMatchObject({ transportTime: 3, somethingNew: 'kept' });
    expect(await store.removeShippingProfilesExcept('s', [])).toBe(1);
  });

  it('feeds orders and returns in change order; an order comes again only when it changed', async () => {
    const first = await store.upsertOrders('s', [
      order('o2', '2025-03-01T10:00:00Z'),
      order('o1', '2025-03-01T10:00:00Z'),
    ]);
    expect(first.changed.map((c) => c.id)).toEqual(['o2', 'o1']);
    expect(first.changed[1]!.changeSeq).toBeGreaterThan(first.changed[0]!.changeSeq);
    const again = await store.upsertOrders('s', [
      order('o2', '2025-03-01T10:00:00Z'),
      order('o1', '2025-03-01T12:00:00Z', 'SENT'),
    ]);
    expect(again).toMatchObject({ inserted: 0, updated: 1, unchanged: 1 });
    expect(again.changed.map((c) => c.id)).toEqual(['o1']);
    const feed = await store.orderFeed('s', 0, 100);
    expect(feed.map((e) => [e.item.salesOrderId, e.item.fulfillmentStatus])).toEqual([
      ['o2', 'PROCESSABLE'],
      ['o1', 'SENT'],
    ]);
    expect(feed[1]!.changeSeq).toBe(again.changed[0]!.changeSeq);
    expect(feed[1]!.item).toEqual(order('o1', '2025-03-01T12:00:00Z', 'SENT'));
    expect(await store.orderFeed('s', feed[1]!.changeSeq, 100)).toEqual([]);
    expect((await store.orderFeed('s', 0, 1)).map((e) => e.item.salesOrderId)).toEqual(['o2']);
    expect(await store.orderFeed('other', 0, 100)).toEqual([]);

    const ret = {
      positionItemId: 'p1',
      salesOrderId: 'o1',
      status: 'ANNOUNCED',
      occurredTime: null,
      details: null,
    };
    const r1 = await store.upsertReturns('s', [ret]);
    expect(r1.changed).toEqual([{ id: 'p1', changeSeq: expect.any(Number) as number }]);
    expect(r1.changed[0]!.changeSeq).toBeGreaterThan(feed[1]!.changeSeq);
    expect((await store.upsertReturns('s', [ret])).changed).toEqual([]);
    expect(await store.returnFeed('s', 0, 10)).toEqual([{ changeSeq: r1.changed[0]!.changeSeq, item: ret }]);
    expect(await store.currentChangeSeq()).toBe(r1.changed[0]!.changeSeq);
  });

  it('writes a shop batch all or nothing with consecutive change numbers, idempotent by key', async () => {
    const at = new Date().toISOString();
    const claim = { key: 'k1', fingerprint: 'f1', at, ttlMs: IDEMPOTENCY_KEY_TTL_MS };
    const items = [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 2 },
    ];
    const applied = await store.applyShopBatch('s', { kind: 'stock', items }, claim);
    expect(applied).toMatchObject({ outcome: 'applied', result: { accepted: 2 } });
    if (applied.outcome !== 'applied') throw new Error('not applied');
    expect(applied.result.lastChangeSeq).toBe(applied.result.firstChangeSeq + 1);
    expect(await store.applyShopBatch('s', { kind: 'stock', items }, claim)).toEqual({
      outcome: 'replayed',
      result: applied.result,
    });
    expect(
      await store.applyShopBatch('s', { kind: 'stock', items }, { ...claim, fingerprint: 'f2' }),
    ).toEqual({
      outcome: 'key_reused',
    });
    // Keys are per seller, and expire.
    expect(await store.applyShopBatch('t', { kind: 'stock', items }, claim)).toMatchObject({
      outcome: 'applied',
    });
    const later = new Date(Date.parse(at) + IDEMPOTENCY_KEY_TTL_MS + 1000).toISOString();
    expect(
      await store.applyShopBatch('s', { kind: 'stock', items }, { ...claim, fingerprint: 'f2', at: later }),
    ).toMatchObject({ outcome: 'applied' });

    const prices = await store.applyShopBatch('s', {
      kind: 'prices',
      items: [{ sku: 'A', amount: 2.5, currency: 'EUR' }],
    });
    expect(prices).toMatchObject({ outcome: 'applied', result: { accepted: 1 } });
    expect(await store.allPrices('s')).toEqual([
      { sku: 'A', amount: 2.5, currency: 'EUR', changeSeq: await store.currentChangeSeq() },
    ]);
    expect(await store.applyShopBatch('s', { kind: 'prices', items: [] })).toEqual({
      outcome: 'applied',
      result: { accepted: 0, firstChangeSeq: 0, lastChangeSeq: 0 },
    });

    // A bad batch writes nothing, and its key stays free.
    const before = await store.allStock('s');
    await expect(
      store.applyShopBatch(
        's',
        {
          kind: 'stock',
          items: [
            { sku: 'A', quantity: 7 },
            { sku: 'B', quantity: -1 },
          ],
        },
        { ...claim, key: 'k2' },
      ),
    ).rejects.toThrow(/B/);
    expect(await store.allStock('s')).toEqual(before);
    expect(
      await store.applyShopBatch(
        's',
        { kind: 'stock', items: [{ sku: 'A', quantity: 7 }] },
        { ...claim, key: 'k2' },
      ),
    ).toMatchObject({ outcome: 'applied' });
  });

  it('keeps the newest transfer runs per seller and kind, newest first', async () => {
    const run = (kind: string, i: number, result: 'ok' | 'failed' = 'ok') => ({
      kind,
      startedAt: new Date(Date.UTC(2025, 2, 1, 0, 0, i)).toISOString(),
      finishedAt: new Date(Date.UTC(2025, 2, 1, 0, 0, i + 1)).toISOString(),
      result,
      count: i,
      detail: result === 'failed' ? 'x'.repeat(2000) : `${i} moved`,
    });
    for (let i = 0; i < TRANSFER_RUNS_KEPT + 3; i++)
      await store.recordTransferRun('s', run('ordersImport', i));
    await store.recordTransferRun('s', run('stockExport', 100, 'failed'));
    await store.recordTransferRun('t', run('stockExport', 1));
    const runs = await store.transferRuns('s');
    expect(runs[0]).toEqual({ ...run('stockExport', 100, 'failed'), detail: 'x'.repeat(1000) });
    const orders = runs.filter((r) => r.kind === 'ordersImport');
    expect(orders).toHaveLength(TRANSFER_RUNS_KEPT);
    expect(orders.map((r) => r.count)).toEqual(
      Array.from({ length: TRANSFER_RUNS_KEPT }, (_, i) => TRANSFER_RUNS_KEPT + 2 - i),
    );
    expect(await store.transferRuns('t')).toHaveLength(1);
  });

  it('two handles importing the same orders at once: none lost, none twice, the newest change wins', async () => {
    const other = await second();
    const ids = Array.from({ length: 60 }, (_, i) => `o${String(i).padStart(3, '0')}`);
    const page = (hour: number, status: string) =>
      ids.map((id) => order(id, `2025-03-01T${String(hour).padStart(2, '0')}:00:00Z`, status));
    const results = await Promise.all([
      store.upsertOrders('s', page(10, 'PROCESSABLE')),
      other.upsertOrders('s', page(10, 'PROCESSABLE')),
      store.upsertOrders('s', page(11, 'SENT')),
      other.upsertOrders('s', page(11, 'SENT')),
    ]);
    const inserted = results.reduce((n, r) => n + r.inserted, 0);
    const updated = results.reduce((n, r) => n + r.updated, 0);
    expect(inserted).toBe(ids.length);
    // Each order: inserted once; updated at most once (to 11:00), by whichever 11:00 page came after.
    expect(updated).toBeLessThanOrEqual(ids.length);
    const stored = await other.listOrders('s');
    expect(stored.map((o) => o.salesOrderId).sort()).toEqual(ids);
    expect(new Set(stored.map((o) => o.fulfillmentStatus))).toEqual(new Set(['SENT']));
    const feed = await store.orderFeed('s', 0, 1000);
    expect(feed.map((e) => e.item.salesOrderId).sort()).toEqual(ids);
    // Every change number handed out is unique.
    const seqs = results.flatMap((r) => r.changed.map((c) => c.changeSeq));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('two handles writing shop batches with the same SKUs in other orders at once: every one applies', async () => {
    const other = await second();
    const skus = Array.from({ length: 8 }, (_, i) => `SKU-${i}`);
    const writes = Array.from({ length: 24 }, (_, i) => {
      const order = i % 2 === 0 ? skus : [...skus].reverse();
      const s = i % 4 < 2 ? store : other;
      return i % 3 === 0
        ? s.applyShopBatch('s', {
            kind: 'prices',
            items: order.map((sku) => ({ sku, amount: i + 1, currency: 'EUR' })),
          })
        : s.applyShopBatch('s', { kind: 'stock', items: order.map((sku) => ({ sku, quantity: i })) });
    });
    // Before: on PostgreSQL about half of such writes failed with a deadlock (40P01) past the retries.
    const outcomes = await Promise.all(writes);
    expect(outcomes.map((o) => o.outcome)).toEqual(writes.map(() => 'applied'));
    expect((await store.allStock('s')).map((l) => l.sku).sort()).toEqual([...skus].sort());
  });

  it('two handles writing stock at once: change numbers unique, and an export bound never skips a change', async () => {
    const other = await second();
    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 20; i++) {
      const s = i % 2 === 0 ? store : other;
      writes.push(
        s.setStock('s', [
          { sku: `S${i}`, quantity: i },
          { sku: `T${i}`, quantity: i },
        ]),
      );
    }
    // An exporter reading "changes up to the current bound" while they run, then the rest: sees each once.
    const seen: string[] = [];
    let after = 0;
    const exporter = (async () => {
      for (let round = 0; round < 10; round++) {
        const bound = await store.currentChangeSeq();
        for (const l of await store.stockChanges('s', after, bound)) seen.push(l.sku);
        after = bound;
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all([...writes, exporter]);
    const bound = await store.currentChangeSeq();
    for (const l of await store.stockChanges('s', after, bound)) seen.push(l.sku);
    expect(seen.sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => [`S${i}`, `T${i}`])
        .flat()
        .sort(),
    );
    const seqs = (await other.allStock('s')).map((l) => l.changeSeq);
    expect(new Set(seqs).size).toBe(40);
  });

  it('two concurrent batch writes with one idempotency key: one applies, the other replays', async () => {
    const other = await second();
    const claim = {
      key: 'same',
      fingerprint: 'f',
      at: new Date().toISOString(),
      ttlMs: IDEMPOTENCY_KEY_TTL_MS,
    };
    const batch = { kind: 'stock' as const, items: [{ sku: 'A', quantity: 3 }] };
    const outcomes = await Promise.all([
      store.applyShopBatch('s', batch, claim),
      other.applyShopBatch('s', batch, claim),
    ]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['applied', 'replayed']);
    expect(outcomes[0]).toEqual({ ...outcomes[1], outcome: outcomes[0].outcome });
    expect((await store.allStock('s')).map((l) => l.changeSeq)).toEqual([
      (outcomes[0] as { result: { firstChangeSeq: number } }).result.firstChangeSeq,
    ]);
  });
  it('deletes every seller’s idempotency keys created before an instant, and no other', async () => {
    const batch = { kind: 'stock' as const, items: [{ sku: 'A', quantity: 1 }] };
    const claim = (key: string, at: string) => ({ key, fingerprint: 'f', at, ttlMs: IDEMPOTENCY_KEY_TTL_MS });
    await store.applyShopBatch('s', batch, claim('old', '2025-03-01T10:00:00.000Z'));
    await store.applyShopBatch('t', batch, claim('old', '2025-03-01T10:00:00.500Z'));
    await store.applyShopBatch('t', batch, claim('new', '2025-03-01T10:00:01.000Z'));
    const other = await second();
    expect(await other.deleteIdempotencyKeysCreatedBefore(Date.parse('2025-03-01T10:00:01.000Z'))).toBe(2);
    expect(await store.deleteIdempotencyKeysCreatedBefore(Date.parse('2025-03-01T10:00:01.000Z'))).toBe(0);
    // The kept key still replays; a deleted one applies anew.
    const at = '2025-03-01T11:00:00.000Z';
    expect((await store.applyShopBatch('t', batch, claim('new', at))).outcome).toBe('replayed');
    expect((await store.applyShopBatch('s', batch, claim('old', at))).outcome).toBe('applied');
  });
  it('keeps each installation’s newest token: a later expiry replaces it, an earlier one never does', async () => {
    const row = (handle: string, expiresAt: number, installationId = 'i-1') => ({
      sellerId: 's',
      installationId,
      handle,
      sealed: `sealed-${handle}`,
      expiresAt,
    });
    expect(await store.getInstallationToken('s', 'i-1')).toBeNull();
    expect(await store.putInstallationToken(row('a', 2_000_000_000_000))).toBe(true);
    expect(await store.getInstallationToken('s', 'i-1')).toEqual(row('a', 2_000_000_000_000));
    // A late write of an older token (an abandoned attempt of an earlier tick) changes nothing.
    expect(await store.putInstallationToken(row('old', 1_999_999_999_000))).toBe(false);
    expect(await store.putInstallationToken(row('b', 2_000_000_001_800))).toBe(true);
    // Another installation of the same seller (an app upgrade) and another handle on the store.
    const other = await second();
    await other.putInstallationToken(row('c', 2_000_000_000_500, 'i-2'));
    expect(await other.getInstallationToken('s', 'i-1')).toEqual(row('b', 2_000_000_001_800));
    expect(await store.getInstallationToken('s', 'i-2')).toEqual(row('c', 2_000_000_000_500, 'i-2'));
    expect(await store.getInstallationToken('t', 'i-1')).toBeNull();
    // Expired tokens are deleted by expiry, whoever's they are.
    expect(await store.deleteInstallationTokensExpiredBefore(2_000_000_001_000)).toBe(1);
    expect(await store.getInstallationToken('s', 'i-2')).toBeNull();
    expect(await other.getInstallationToken('s', 'i-1')).toEqual(row('b', 2_000_000_001_800));
    // A seller whose connection ended: all its tokens go, nobody else's.
    await store.putInstallationToken(row('d', 2_000_000_000_500, 'i-2'));
    await store.putInstallationToken({ ...row('e', 2_000_000_000_500), sellerId: 't' });
    expect(await other.deleteInstallationTokens('s')).toBe(2);
    expect(await store.getInstallationToken('s', 'i-1')).toBeNull();
    expect(await store.getInstallationToken('s', 'i-2')).toBeNull();
    expect(await store.getInstallationToken('t', 'i-1')).toEqual({
      ...row('e', 2_000_000_000_500),
      sellerId: 't',
    });
    expect(await store.deleteInstallationTokens('s')).toBe(0);
  });
  it('spends a one-time id once across handles and at once, per scope, and forgets it only after its expiry', async () => {
    const other = await second();
    expect(await store.spendOneTimeId('link', 'n-1', 2_000_000_000_000)).toBe(true);
    expect(await store.spendOneTimeId('link', 'n-1', 2_000_000_000_000)).toBe(false);
    // Another process (a second API replica, or this one after a restart) sees it spent.
    expect(await other.spendOneTimeId('link', 'n-1', 2_000_000_000_000)).toBe(false);
    // Scopes are apart.
    expect(await other.spendOneTimeId('other-scope', 'n-1', 2_000_000_000_000)).toBe(true);
    // Eight spends of one id at once, from two handles: exactly one wins.
    const race = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? store : other).spendOneTimeId('link', 'n-2', 2_000_000_000_500),
      ),
    );
    expect(race.filter(Boolean)).toHaveLength(1);
    // Pruning deletes by expiry only: n-1 (and its other scope) go, n-2 stays spent.
    expect(await store.deleteSpentIdsExpiredBefore(2_000_000_000_100)).toBe(2);
    expect(await other.spendOneTimeId('link', 'n-2', 2_000_000_000_500)).toBe(false);
    expect(await other.spendOneTimeId('link', 'n-1', 2_000_000_000_000)).toBe(true);
  });
});
