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

  it('refuses to encode a negative position', () => {
    expect(() => encodeFeedCursor('orders', -1)).toThrow(RangeError);
  });
});
