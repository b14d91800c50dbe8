/**
 * The shop's change-feed cursors (GET /api/sellers/:sellerId/orders and …/returns, and the
 * `orders.changed` webhook): opaque to the shop, base64url of a small versioned JSON naming the feed,
 * the last change number the shop has seen and (version 2) a tag of the seller it was issued for. Not
 * signed: a cursor grants nothing (the API key does), so a forged cursor can only skip or repeat the
 * caller's own feed; anything that does not decode to a cursor of this feed (and seller) is refused.
 * Change numbers count across all sellers, so one seller's cursor used for another would silently skip
 * the other's older changes: version 2 names its seller. Version 1 cursors (before the tag) still read.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const FEED_KINDS = ['orders', 'returns'] as const;
export type FeedKind = (typeof FEED_KINDS)[number];

/** Longest cursor accepted (real ones are about 60 characters). */
export const MAX_FEED_CURSOR_LENGTH = 200;

const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const cursorJson = z.union([
  z.strictObject({ v: z.literal(1), feed: z.enum(FEED_KINDS), seq: seqSchema }),
  z.strictObject({ v: z.literal(2), feed: z.enum(FEED_KINDS), seq: seqSchema, s: z.string() }),
]);

export class FeedCursorError extends Error {
  override name = 'FeedCursorError';
}

/** A short, stable tag of a seller id (not secret: it only tells sellers' cursors apart). */
function sellerTag(sellerId: string): string {
  return createHash('sha256').update(sellerId).digest('base64url').slice(0, 12);
}

function encoded(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** A cursor of `feed` at change `seq`, for `sellerId` (version 2; without a seller, version 1). */
export function encodeFeedCursor(feed: FeedKind, seq: number, sellerId?: string): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`a feed position must be an integer ≥ 0`);
  return sellerId === undefined
    ? encoded({ v: 1, feed, seq })
    : encoded({ v: 2, feed, seq, s: sellerTag(sellerId) });
}

/**
 * The change number a cursor of `feed` (issued for `sellerId`, when it names one) stands for; throws
 * FeedCursorError for anything else.
 */
export function decodeFeedCursor(feed: FeedKind, cursor: string, sellerId?: string): number {
  if (cursor.length === 0 || cursor.length > MAX_FEED_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw new FeedCursorError('the cursor is malformed: pass back a `next` value unchanged');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new FeedCursorError('the cursor is malformed: pass back a `next` value unchanged');
  }
  const parsed = cursorJson.safeParse(value);
  if (!parsed.success)
    throw new FeedCursorError('the cursor is not one this API issued: pass back a `next` value unchanged');
  const data = parsed.data;
  if (data.feed !== feed)
    throw new FeedCursorError(`the cursor belongs to the ${data.feed} feed, not the ${feed} feed`);
  if (data.v === 2 && sellerId !== undefined && data.s !== sellerTag(sellerId))
    throw new FeedCursorError(
      `the cursor belongs to another seller's ${feed} feed: use the cursors this seller's feed gave`,
    );
  // Canonical form only: a re-encoded variant (other padding, key order, spacing) is not ours.
  const canonical =
    data.v === 1 ? encoded({ v: 1, feed, seq: data.seq }) : encoded({ v: 2, feed, seq: data.seq, s: data.s });
  if (canonical !== cursor)
    throw new FeedCursorError('the cursor is not one this API issued: pass back a `next` value unchanged');
  return data.seq;
}
