/** The shop's feed cursors: opaque, versioned, per feed; anything not issued by us is refused. */
import { decodeFeedCursor, encodeFeedCursor, FeedCursorError } from '../../common/feed-cursor';

describe('feed cursor', () => {
  it('round-trips and stays URL-safe', () => {
    for (const seq of [0, 1, 42, Number.MAX_SAFE_INTEGER]) {
      const cursor = encodeFeedCursor('orders', seq);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeFeedCursor('orders', cursor)).toBe(seq);
    }
  });

  it.each([
    ['another feed', encodeFeedCursor('returns', 3)],
    ['a padded variant', `${encodeFeedCursor('orders', 3)}=`],
    ['reordered keys', Buffer.from('{"seq":3,"v":1,"feed":"orders"}').toString('base64url')],
    ['a fractional number', Buffer.from('{"v":1,"feed":"orders","seq":1.5}').toString('base64url')],
    ['empty', ''],
  ])('refuses %s', (_name, cursor) => {
    expect(() => decodeFeedCursor('orders', cursor)).toThrow(FeedCursorError);
  });

  it('names its seller: another seller’s cursor is refused (change numbers count across sellers); version 1 still reads', () => {
    const a = encodeFeedCursor('orders', 42, 's-a');
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a.length).toBeLessThan(100);
    expect(decodeFeedCursor('orders', a, 's-a')).toBe(42);
    // Before: read as change 42 of seller B's feed, skipping B's changes 1–42 without a word.
    expect(() => decodeFeedCursor('orders', a, 's-b')).toThrow(/another seller's orders feed/);
    expect(decodeFeedCursor('orders', encodeFeedCursor('orders', 7), 's-b')).toBe(7);
    const tampered = Buffer.from(
      JSON.stringify({ v: 2, feed: 'orders', seq: 42, s: 'x', extra: 1 }),
    ).toString('base64url');
    expect(() => decodeFeedCursor('orders', tampered, 's-a')).toThrow(FeedCursorError);
  });

  it('refuses to encode a negative position', () => {
    expect(() => encodeFeedCursor('orders', -1)).toThrow(RangeError);
  });
});
