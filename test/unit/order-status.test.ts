/**
 * OTTO has no order-level status: the connector derives one from the position items the way OTTO
 * buckets orders (docs/otto-api.md §5.1).
 */
import { deriveOrderStatus } from '../../activities/order-status';

describe('deriveOrderStatus', () => {
  it.each([
    [['ANNOUNCED', 'PROCESSABLE', 'SENT'], 'ANNOUNCED'],
    [['PROCESSABLE', 'SENT', 'CANCELLED_BY_PARTNER'], 'PROCESSABLE'],
    [['SENT', 'RETURNED', 'CANCELLED_BY_MARKETPLACE'], 'SENT'],
    [['RETURNED', 'CANCELLED_BY_PARTNER'], 'RETURNED'],
    [['RETURNED'], 'RETURNED'],
    [['CANCELLED_BY_PARTNER', 'CANCELLED_BY_PARTNER'], 'CANCELLED_BY_PARTNER'],
    [['CANCELLED_BY_MARKETPLACE'], 'CANCELLED_BY_MARKETPLACE'],
    // Both kinds of cancellation: OTTO's bucket order puts the partner's first.
    [['CANCELLED_BY_MARKETPLACE', 'CANCELLED_BY_PARTNER'], 'CANCELLED_BY_PARTNER'],
    [['processable'], 'PROCESSABLE'],
  ])('%j → %s', (items, expected) => {
    expect(deriveOrderStatus(items)).toBe(expected);
  });

  it('is UNKNOWN without items or with only statuses it does not know', () => {
    expect(deriveOrderStatus([])).toBe('UNKNOWN');
    expect(deriveOrderStatus(['SOMETHING_NEW'])).toBe('UNKNOWN');
  });

  it('never calls an order cancelled while an item is in a status it does not know', () => {
    expect(deriveOrderStatus(['CANCELLED_BY_PARTNER', 'SOMETHING_NEW'])).toBe('UNKNOWN');
    // A known open item still decides.
    expect(deriveOrderStatus(['SOMETHING_NEW', 'SENT'])).toBe('SENT');
  });
});
