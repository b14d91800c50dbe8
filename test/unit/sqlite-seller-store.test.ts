/**
 * The SQLite seller store with OTTO's real models: orders compared by change date (lastModifiedDate
 * is optional at OTTO), returns v3 by occurredTime, shipping profiles with every field, refused export
 * SKUs kept until OTTO takes them, and the v1 → v2 schema migration of an existing file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SellerStore, StoreOrder, StoreShippingProfile } from '../../store/seller-store';
import { MIGRATIONS, openSqliteSellerStore } from '../../store/sqlite-seller-store';

function order(id: string, changeDate: string, status = 'PROCESSABLE'): StoreOrder {
  return {
    salesOrderId: id,
    orderNumber: `N${id}`,
    orderDate: '2025-03-01T10:00:00.000Z',
    fulfillmentStatus: status,
    changeDate,
    lifecycleChangeDate: changeDate,
    lastModifiedDate: null,
    positionItems: [
      { positionItemId: `${id}-1`, fulfillmentStatus: status, sku: 'SKU-1', amount: 19.99, currency: 'EUR' },
    ],
    data: { salesOrderId: id, extra: { kept: true } },
  };
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

describe('sqlite seller store', () => {
  let store: SellerStore;
  beforeEach(() => {
    store = openSqliteSellerStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('applies only newer order changes and keeps positions and the whole order', async () => {
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T10:00:00Z')])).toEqual({
      inserted: 1,
      updated: 0,
      unchanged: 0,
    });
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T10:00:00.000Z', 'SENT')])).toMatchObject({
      unchanged: 1,
    });
    expect(await store.upsertOrders('s', [order('o1', '2025-03-01T09:00:00Z', 'SENT')])).toMatchObject({
      unchanged: 1,
    });
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
    expect(await store.listOrders('other')).toEqual([]);
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
    expect(await store.exportFailures('s', 'stock')).toEqual([
      expect.objectContaining({ sku: 'B', error: 'still unknown', attempts: 2 }),
    ]);
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
    expect(await store.removeShippingProfilesExcept('s', ['2'])).toBe(1);
    const [kept, ...none] = await store.listShippingProfiles('s');
    expect(none).toEqual([]);
    expect(kept).toEqual(profile('2', 3));
    expect(kept!.data).toMatchObject({ transportTime: 3, somethingNew: 'kept' });
    expect(await store.removeShippingProfilesExcept('s', [])).toBe(1);
  });
});

describe('sqlite seller store migration', () => {
  it('moves a v1 file to OTTO’s models without losing orders, returns or stock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otto-store-migrate-'));
    const file = join(dir, 'seller-store.db');
    try {
      const old = new Database(file);
      old.exec(MIGRATIONS[0]!);
      old.pragma('user_version = 1');
      old
        .prepare(
          `INSERT INTO orders VALUES ('s', 'o1', 'N1', '2025-03-01T10:00:00Z', '2025-03-01T11:00:00Z', 'SENT', '[]', '2025-03-01T11:00:00Z')`,
        )
        .run();
      old
        .prepare(
          `INSERT INTO returns VALUES ('s', 'p1', 'o1', 'ANNOUNCED', '2025-03-01T12:00:00Z', '2025-03-01T12:00:00Z', 'SKU', 'reason')`,
        )
        .run();
      old.prepare(`INSERT INTO stock VALUES ('s', 'A', 3, 1, '2025-03-01T10:00:00Z')`).run();
      old.prepare(`UPDATE change_counter SET value = 1`).run();
      old.close();

      const store = openSqliteSellerStore(file);
      try {
        expect(await store.listOrders('s')).toEqual([
          expect.objectContaining({
            salesOrderId: 'o1',
            fulfillmentStatus: 'SENT',
            changeDate: '2025-03-01T11:00:00Z',
            lifecycleChangeDate: '2025-03-01T11:00:00Z',
          }),
        ]);
        expect(await store.listReturns('s')).toEqual([
          {
            positionItemId: 'p1',
            salesOrderId: 'o1',
            status: 'ANNOUNCED',
            occurredTime: '2025-03-01T12:00:00Z',
            details: null,
          },
        ]);
        expect(await store.allStock('s')).toEqual([{ sku: 'A', quantity: 3, changeSeq: 1 }]);
        await store.setStock('s', [{ sku: 'B', quantity: 1 }]);
        expect(await store.currentChangeSeq()).toBe(2);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
