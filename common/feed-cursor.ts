/**
 * The shop's change-feed cursors (GET /api/sellers/:sellerId/orders and …/returns, and the
 * `orders.changed` webhook): opaque to the shop, base64url of a small versioned JSON naming the feed and
 * the last change number the shop has seen. Not signed: a cursor grants nothing (the API key does), so
 * a forged cursor can only skip or repeat the caller's own feed; anything that does not decode to a
 * cursor of this version and feed is refused.
 */
import { z } from 'zod';

export const FEED_KINDS = ['orders', 'returns'] as const;
export type FeedKind = (typeof FEED_KINDS)[number];

/** Longest cursor accepted (real ones are about 40 characters). */
export const MAX_FEED_CURSOR_LENGTH = 200;

const cursorJson = z.strictObject({
  v: z.literal(1),
  feed: z.enum(FEED_KINDS),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export class FeedCursorError extends Error {
  override name = 'FeedCursorError';
}

export function encodeFeedCursor(feed: FeedKind, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`a feed position must be an integer ≥ 0`);
  return Buffer.from(JSON.stringify({ v: 1, feed, seq }), 'utf8').toString('base64url');
}

/** The change number a cursor of `feed` stands for; throws FeedCursorError for anything else. */
export function decodeFeedCursor(feed: FeedKind, cursor: string): number {
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
  if (parsed.data.feed !== feed)
    throw new FeedCursorError(`the cursor belongs to the ${parsed.data.feed} feed, not the ${feed} feed`);
  // Canonical form only: a re-encoded variant (other padding, key order, spacing) is not ours.
  if (encodeFeedCursor(feed, parsed.data.seq) !== cursor)
    throw new FeedCursorError('the cursor is not one this API issued: pass back a `next` value unchanged');
  return parsed.data.seq;
}
