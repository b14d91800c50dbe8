/** Seller-store fixtures shared by the store contract and the shop API tests. */
import type { StoreOrder } from '../../store/seller-store';

/** An order with one position item, both in `status`, changed at `changeDate`. */
export function storeOrder(id: string, changeDate: string, status = 'PROCESSABLE'): StoreOrder {
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
  };
}
