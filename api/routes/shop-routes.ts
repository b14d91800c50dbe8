/**
 * The shop API (docs/design.md §4, role `shop`): stock and prices in as batched, idempotent writes, orders and
 * returns out as change feeds with opaque cursors, the current shipping profiles, and each transfer's
 * last runs with the items OTTO refused. Everything goes through the SellerStore; nothing calls Temporal.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler, Router } from 'express';
import { createRouter } from '../routing';
import { decodeFeedCursor, encodeFeedCursor, FeedCursorError, type FeedKind } from '../../common/feed-cursor';
import {
  IDEMPOTENCY_KEY_TTL_MS,
  type FeedEntry,
  type SellerStore,
  type ShopBatch,
  type ShopBatchResult,
} from '../../store/seller-store';
import { expiredRowsPruner } from '../../store/expired-rows';
import { isStoreUnavailable } from '../../store/store-errors';
import { TRANSFER_KINDS, type TransferKind } from '../../workflows/definitions';
import type { Authenticator } from '../auth';
import { HttpError, invalidCursor, serviceUnavailable, validationError } from '../errors';
import {
  feedQuerySchema,
  idempotencyKeySchema,
  priceBatchSchema,
  sellerParamsSchema,
  stockBatchSchema,
} from '../http-schemas';
import { jsonBodyParser } from '../json-body';
import { parse } from '../validate';

export interface ShopRoutesDeps {
  auth: Authenticator;
  /** Without a store every shop route answers 503. */
  store: SellerStore | undefined;
  now?: () => number;
}

/** 1,000 items of about 100 bytes each, with room to spare; the 16 kB of the other routes is too small. */
const SHOP_BODY_LIMIT = '512kb';

/** As json-body.ts's, with the shop's larger limit: a JSON array, required (415 otherwise). */
const shopJsonBody = jsonBodyParser({ shape: 'array', limit: SHOP_BODY_LIMIT, required: true });

/** Which export sends what; their refusals are shown with the transfer. */
const EXPORT_FAILURES: Partial<Record<TransferKind, 'stock' | 'prices'>> = {
  stockExport: 'stock',
  pricesExport: 'prices',
};

/** The request's fingerprint for idempotency: the operation and the parsed body, canonically. */
function fingerprint(batch: ShopBatch): string {
  return createHash('sha256')
    .update(`${batch.kind}\n${JSON.stringify(batch.items)}`)
    .digest('base64url');
}

/** How often a process deletes every seller's expired idempotency keys, at most (one DELETE by age). */
export const IDEMPOTENCY_PRUNE_EVERY_MS = 10 * 60_000;

const answer = (result: ShopBatchResult) => ({
  accepted: result.accepted,
  firstChangeSeq: result.firstChangeSeq,
  changeSeq: result.lastChangeSeq,
});

export function shopRoutes({ auth, store, now = Date.now }: ShopRoutesDeps): Router {
  const router = createRouter();
  const shop = auth.requireRole('shop');
  // A batch write deletes its own seller's expired keys; this, after a keyed write, every seller's
  // (those that write no more kept their last day of keys for good).
  const pruneKeys =
    store &&
    expiredRowsPruner((at) => store.deleteIdempotencyKeysCreatedBefore(at), {
      keepMs: IDEMPOTENCY_KEY_TTL_MS,
      everyMs: IDEMPOTENCY_PRUNE_EVERY_MS,
      now,
    });

  /**
   * Runs `work` on the store. No store, or one that cannot be reached right now (closed, connection
   * refused or lost: store-errors.ts), is a 503 the client may retry; any other failure stays a 500.
   */
  const withStore = async <T>(access: 'read' | 'write', work: (s: SellerStore) => Promise<T>): Promise<T> => {
    if (!store)
      throw serviceUnavailable('store_unavailable', 'the seller store is not configured on this API');
    try {
      return await work(store);
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      throw serviceUnavailable(
        'store_unavailable',
        access === 'read'
          ? 'the seller store cannot be reached right now; please try again shortly'
          : 'the seller store cannot be reached right now; please send the batch again shortly (with the same Idempotency-Key it is written at most once)',
      );
    }
  };

  const write = (kind: ShopBatch['kind']): RequestHandler => {
    return async (req, res) => {
      const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
      const header = req.get('idempotency-key');
      let key: string | undefined;
      if (header !== undefined) {
        const parsed = idempotencyKeySchema.safeParse(header);
        if (!parsed.success)
          throw validationError(
            'headers',
            parsed.error.issues.map((i) => ({ ...i, path: ['Idempotency-Key'] })),
          );
        key = parsed.data;
      }
      // Not parse(): an absent body must fail as "expected array", not be read as {}.
      const schema = kind === 'stock' ? stockBatchSchema : priceBatchSchema;
      const parsed = schema.safeParse(req.body);
      if (!parsed.success) throw validationError('body', parsed.error.issues);
      const batch = (
        kind === 'stock'
          ? { kind, items: parsed.data }
          : // multipleOf(0.01) lets float noise through (0.1 + 0.2 = 0.30000000000000004): OTTO would refuse
            // more than two decimals later, at the export. Stored as the cents it was meant to be.
            {
              kind,
              items: (parsed.data as Array<{ sku: string; amount: number; currency: string }>).map((p) => ({
                ...p,
                amount: Math.round(p.amount * 100) / 100,
              })),
            }
      ) as ShopBatch;
      const outcome = await withStore('write', (s) =>
        s.applyShopBatch(
          sellerId,
          batch,
          key === undefined
            ? undefined
            : {
                key,
                fingerprint: fingerprint(batch),
                at: new Date(now()).toISOString(),
                ttlMs: IDEMPOTENCY_KEY_TTL_MS,
              },
        ),
      );
      // Housekeeping only, not awaited: it never fails the write (the pruner swallows a failed delete), and
      // an answer never waits for it (on PostgreSQL it could wait on another seller's open batch's rows).
      if (key !== undefined) void pruneKeys?.();
      if (outcome.outcome === 'key_reused')
        throw new HttpError(
          409,
          'idempotency_key_reused',
          'this Idempotency-Key was used in the last 24 h with another request; use a new key for a new batch',
        );
      res
        .status(200)
        .set('Cache-Control', 'no-store')
        .set(outcome.outcome === 'replayed' ? { 'Idempotent-Replayed': 'true' } : {})
        .json(answer(outcome.result));
    };
  };

  router.put('/api/sellers/:sellerId/stock', shop, shopJsonBody, write('stock'));
  router.put('/api/sellers/:sellerId/prices', shop, shopJsonBody, write('prices'));

  const feed = <T>(
    kind: FeedKind,
    read: (s: SellerStore, sellerId: string, afterSeq: number, limit: number) => Promise<Array<FeedEntry<T>>>,
  ): RequestHandler => {
    return async (req, res) => {
      const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
      const { after, limit } = parse(feedQuerySchema, req.query, 'query');
      let afterSeq = 0;
      if (after !== undefined) {
        try {
          afterSeq = decodeFeedCursor(kind, after, sellerId);
        } catch (err) {
          if (!(err instanceof FeedCursorError)) throw err;
          throw invalidCursor('after', err.message);
        }
      }
      // One more than asked tells whether more are waiting.
      const entries = await withStore('read', (s) => read(s, sellerId, afterSeq, limit + 1));
      const page = entries.slice(0, limit);
      const last = page[page.length - 1];
      // A cursor past every change number this store ever gave (a store restored from a backup, or
      // replaced) would wait silently until the counter passed it, skipping every change until then.
      if (last === undefined && afterSeq > 0) {
        // An upper bound without waiting for writers (an empty page is what a caught-up shop gets).
        const newest = await withStore('read', (s) => s.changeSeqCeiling());
        if (afterSeq > newest)
          throw new HttpError(
            409,
            'cursor_ahead',
            `this cursor is ahead of the store (change ${afterSeq}, the store's newest is ${newest}): the store was restored or replaced since it was issued; read the feed again from the start (without after)`,
          );
      }
      res.set('Cache-Control', 'no-store').json({
        items: page.map((e) => ({ changeSeq: e.changeSeq, ...e.item })),
        next: encodeFeedCursor(kind, last ? last.changeSeq : afterSeq, sellerId),
        hasMore: entries.length > limit,
      });
    };
  };

  router.get(
    '/api/sellers/:sellerId/orders',
    shop,
    feed('orders', (s, id, after, limit) => s.orderFeed(id, after, limit)),
  );
  router.get(
    '/api/sellers/:sellerId/returns',
    shop,
    feed('returns', (s, id, after, limit) => s.returnFeed(id, after, limit)),
  );

  router.get('/api/sellers/:sellerId/shipping-profiles', shop, async (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    const profiles = await withStore('read', (s) => s.listShippingProfiles(sellerId));
    res.set('Cache-Control', 'no-store').json({ profiles });
  });

  router.get('/api/sellers/:sellerId/transfers', shop, async (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    const transfers = await withStore('read', async (s) => {
      const runs = await s.transferRuns(sellerId);
      const byKind: Record<string, unknown> = {};
      for (const kind of TRANSFER_KINDS) {
        const failuresOf = EXPORT_FAILURES[kind];
        byKind[kind] = {
          lastRuns: runs.filter((r) => r.kind === kind).map(({ kind: _kind, ...run }) => run),
          ...(failuresOf ? { failures: await s.exportFailures(sellerId, failuresOf) } : {}),
        };
      }
      return byKind;
    });
    res.set('Cache-Control', 'no-store').json({ sellerId, transfers });
  });

  return router;
}
