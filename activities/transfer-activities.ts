/**
 * The interval data transfers (otto-api.md §5–§6), one activity per kind. Imports upsert every page
 * before heartbeating its cursor, so a retried activity resumes at the last page; exports send only
 * what changed since OTTO last acknowledged it, in batches within OTTO's limits. Writes are idempotent.
 */
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { SellerStore, StoreOrder, StoreReturn } from '../store/seller-store';
import type { TransferInput, TransferResult } from '../workflows/definitions';
import { noMetrics, type ActivityMetrics } from './activity-metrics';
import type { CallContext, OttoDataClient } from './otto-data-client';

export const ORDERS_PAGE_LIMIT = 128; // OTTO default; max 256
export const STOCK_BATCH = 200; // OTTO: ≤ 200 SKUs per POST
export const PRICES_BATCH = 500; // OTTO: ≤ 500 per POST
export const RETURNS_PAGE_LIMIT = 50; // OTTO: ≤ 50

export interface TransferActivityDeps {
  store: SellerStore;
  otto: OttoDataClient;
  metrics?: ActivityMetrics;
}

// OTTO adds fields at will: parse what we use, ignore the rest.
const links = z.array(z.object({ rel: z.string(), href: z.string() })).default([]);
const ordersPage = z.object({
  resources: z
    .array(
      z.object({
        salesOrderId: z.string(),
        orderNumber: z.string().default(''),
        orderDate: z.string(),
        lastModifiedDate: z.string(),
        fulfillmentStatus: z.string().default('UNKNOWN'),
        positionItems: z
          .array(
            z.object({
              positionItemId: z.string(),
              fulfillmentStatus: z.string(),
              itemValueGrossPrice: z.object({ amount: z.number(), currency: z.string() }).optional(),
              product: z.object({ sku: z.string() }),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  links,
});
const returnsPage = z.object({
  positionItems: z
    .array(
      z.object({
        positionItemId: z.string(),
        salesOrderId: z.string().default(''),
        status: z.string(),
        announcedAt: z.string().optional(),
        lastModifiedDate: z.string(),
        reason: z.string().default(''),
        product: z.object({ sku: z.string() }).optional(),
      }),
    )
    .default([]),
  links,
});
const shippingProfiles = z.object({
  resources: z
    .array(
      z.looseObject({
        shippingProfileId: z.string(),
        shippingProfileName: z.string().default(''),
        lastModifiedDate: z.string().default(''),
      }),
    )
    .default([]),
});
const anything = z.unknown();

const ordersProgress = z.object({
  nextPath: z.string(),
  maxModified: z.string().nullable(),
  count: z.number(),
  pages: z.number(),
});
const returnsProgress = z.object({ nextPath: z.string(), count: z.number(), pages: z.number() });

function nextLink(l: Array<{ rel: string; href: string }>): string | undefined {
  return l.find((x) => x.rel === 'next')?.href;
}

function withLimit(path: string, limit: number): string {
  return /[?&]limit=/.test(path) ? path : `${path}${path.includes('?') ? '&' : '?'}limit=${limit}`;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function seqOf(cursor: TransferInput['cursor'], key: string): number {
  const v = cursor[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function createTransferActivities(deps: TransferActivityDeps) {
  const { store, otto } = deps;
  const metrics = deps.metrics ?? noMetrics;

  const callContext = (input: TransferInput, progress: () => unknown): CallContext => ({
    partnerId: input.partnerId,
    sealedToken: input.sealedToken,
    tokenExpiresAt: input.tokenExpiresAt,
    onWait: () => Context.current().heartbeat(progress()),
  });

  async function measured(kind: string, run: () => Promise<TransferResult>): Promise<TransferResult> {
    try {
      const result = await run();
      metrics.transfer(kind, 'ok', result.count);
      return result;
    } catch (err) {
      metrics.transfer(kind, 'failed', 0);
      throw err;
    }
  }

  /**
   * Sends what changed after the acknowledged change number (everything when `full`), up to a snapshot
   * taken first, in OTTO-sized batches. Values are absolute, so a retried batch is harmless; changes
   * after the snapshot go out next time.
   */
  async function exportChanges<T>(
    input: TransferInput,
    how: {
      all: () => Promise<T[]>;
      changes: (afterSeq: number, upToSeq: number) => Promise<T[]>;
      batchSize: number;
      path: string;
      toBody: (item: T) => unknown;
    },
  ): Promise<{ count: number; ackedSeq: number }> {
    const acked = seqOf(input.cursor, 'ackedSeq');
    const upTo = await store.currentChangeSeq();
    const items = input.full ? await how.all() : await how.changes(acked, upTo);
    let sent = 0;
    for (const batch of chunks(items, how.batchSize)) {
      await otto.call(
        callContext(input, () => ({ sent })),
        { method: 'POST', path: how.path, json: batch.map(how.toBody) },
        anything,
      );
      sent += batch.length;
      Context.current().heartbeat({ sent });
    }
    return { count: sent, ackedSeq: Math.max(upTo, acked) };
  }

  return {
    /** OTTO → store: orders changed since the cursor, page by page; resumes at the last heartbeated page. */
    async ordersImport(input: TransferInput): Promise<TransferResult> {
      return await measured('ordersImport', async () => {
        const ctx = Context.current();
        const saved = ordersProgress.safeParse(ctx.info.heartbeatDetails);
        const fromDate = typeof input.cursor.fromDate === 'string' ? input.cursor.fromDate : null;
        let progress = saved.success
          ? saved.data
          : {
              nextPath: `/v4/orders?limit=${ORDERS_PAGE_LIMIT}${fromDate ? `&fromDate=${encodeURIComponent(fromDate)}` : ''}`,
              maxModified: fromDate,
              count: 0,
              pages: 0,
            };
        let inserted = 0;
        for (;;) {
          const page = await otto.call(
            callContext(input, () => progress),
            { method: 'GET', path: progress.nextPath },
            ordersPage,
          );
          const orders: StoreOrder[] = page.resources.map((o) => ({
            salesOrderId: o.salesOrderId,
            orderNumber: o.orderNumber,
            orderDate: o.orderDate,
            lastModifiedDate: o.lastModifiedDate,
            fulfillmentStatus: o.fulfillmentStatus,
            positionItems: o.positionItems.map((p) => ({
              positionItemId: p.positionItemId,
              fulfillmentStatus: p.fulfillmentStatus,
              sku: p.product.sku,
              amount: p.itemValueGrossPrice?.amount ?? 0,
              currency: p.itemValueGrossPrice?.currency ?? 'EUR',
            })),
          }));
          const upserted = await store.upsertOrders(input.sellerId, orders);
          inserted += upserted.inserted;
          let maxModified = progress.maxModified;
          for (const o of orders)
            if (maxModified === null || Date.parse(o.lastModifiedDate) > Date.parse(maxModified))
              maxModified = o.lastModifiedDate;
          const next = nextLink(page.links);
          progress = {
            nextPath: next ? withLimit(next, ORDERS_PAGE_LIMIT) : progress.nextPath,
            maxModified,
            count: progress.count + upserted.inserted + upserted.updated,
            pages: progress.pages + 1,
          };
          // Stored first, then heartbeated: a retry resumes after the last page that is surely in the store.
          ctx.heartbeat(progress);
          if (!next) break;
        }
        return {
          count: progress.count,
          // OTTO's fromDate is inclusive: the boundary order comes again next time and is a no-op upsert.
          cursor: { fromDate: progress.maxModified },
          detail: `${progress.count} orders imported or updated (${inserted} new in this attempt) over ${progress.pages} page(s)`,
        };
      });
    },

    /** Store → OTTO: stock changed since the last acknowledged change (or everything, daily), ≤ 200 per POST. */
    async stockExport(input: TransferInput): Promise<TransferResult> {
      return await measured('stockExport', async () => {
        const sent = await exportChanges(input, {
          all: () => store.allStock(input.sellerId),
          changes: (after, upTo) => store.stockChanges(input.sellerId, after, upTo),
          batchSize: STOCK_BATCH,
          path: '/v1/availability/quantities',
          toBody: (i) => ({ sku: i.sku, quantity: i.quantity }),
        });
        return {
          count: sent.count,
          cursor: {
            ackedSeq: sent.ackedSeq,
            lastFullAt: input.full ? Date.now() : (input.cursor.lastFullAt ?? null),
          },
          detail: `${sent.count} stock level(s) sent${input.full ? ' (full daily resync)' : ''}`,
        };
      });
    },

    /** Store → OTTO: prices changed since the last acknowledged change, ≤ 500 per POST (answered 202). */
    async pricesExport(input: TransferInput): Promise<TransferResult> {
      return await measured('pricesExport', async () => {
        const sent = await exportChanges(input, {
          all: () => store.allPrices(input.sellerId),
          changes: (after, upTo) => store.priceChanges(input.sellerId, after, upTo),
          batchSize: PRICES_BATCH,
          path: '/v5/products/prices',
          toBody: (p) => ({ sku: p.sku, standardPrice: { amount: p.amount, currency: p.currency } }),
        });
        return {
          count: sent.count,
          cursor: { ackedSeq: sent.ackedSeq },
          detail: `${sent.count} price(s) sent`,
        };
      });
    },

    /** OTTO → store: return announcements, page by page (idempotent upsert by position item). */
    async returnsImport(input: TransferInput): Promise<TransferResult> {
      return await measured('returnsImport', async () => {
        const ctx = Context.current();
        const saved = returnsProgress.safeParse(ctx.info.heartbeatDetails);
        let progress = saved.success
          ? saved.data
          : { nextPath: `/v3/returns?limit=${RETURNS_PAGE_LIMIT}`, count: 0, pages: 0 };
        for (;;) {
          const page = await otto.call(
            callContext(input, () => progress),
            { method: 'GET', path: progress.nextPath },
            returnsPage,
          );
          const returns: StoreReturn[] = page.positionItems.map((r) => ({
            positionItemId: r.positionItemId,
            salesOrderId: r.salesOrderId,
            status: r.status,
            announcedAt: r.announcedAt ?? r.lastModifiedDate,
            lastModifiedDate: r.lastModifiedDate,
            sku: r.product?.sku ?? '',
            reason: r.reason,
          }));
          const upserted = await store.upsertReturns(input.sellerId, returns);
          const next = nextLink(page.links);
          progress = {
            nextPath: next ?? progress.nextPath,
            count: progress.count + upserted.inserted + upserted.updated,
            pages: progress.pages + 1,
          };
          ctx.heartbeat(progress);
          if (!next) break;
        }
        return {
          count: progress.count,
          cursor: {},
          detail: `${progress.count} return(s) new or changed over ${progress.pages} page(s)`,
        };
      });
    },

    /** OTTO → store: shipping profiles (scope `shipping-profiles`, v2 app; the workflow skips it otherwise). */
    async shippingProfilesSync(input: TransferInput): Promise<TransferResult> {
      return await measured('shippingProfilesSync', async () => {
        const page = await otto.call(
          callContext(input, () => undefined),
          { method: 'GET', path: '/v1/shipping-profiles' },
          shippingProfiles,
        );
        const upserted = await store.upsertShippingProfiles(
          input.sellerId,
          page.resources.map((p) => ({
            shippingProfileId: p.shippingProfileId,
            name: p.shippingProfileName,
            lastModifiedDate: p.lastModifiedDate,
            data: p,
          })),
        );
        return {
          count: upserted.inserted + upserted.updated,
          cursor: {},
          detail: `${page.resources.length} profile(s) at OTTO, ${upserted.inserted} new, ${upserted.updated} changed`,
        };
      });
    },
  };
}

export type TransferActivities = ReturnType<typeof createTransferActivities>;
