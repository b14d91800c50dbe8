import type { EmulatorContext } from './emulator-context';
import type { Order, PartnerData, ReturnItem } from './state';

const upgraded = new WeakSet<PartnerData>();

/**
 * A partner's seller data, always through here: state files written before the docs/otto-api.md §5 models
 * lack some collections (they start empty) and hold entries of the old shapes (they are dropped, rather
 * than served in a shape OTTO never sends).
 */
export function sellerData(ctx: EmulatorContext, partnerId: string): PartnerData {
  const data = ctx.partnerData(partnerId);
  if (upgraded.has(data)) return data;
  const loose = data as Partial<PartnerData> & { priceProcesses?: unknown };
  loose.orders = (loose.orders ?? []).filter(
    (o: Partial<Order>) => typeof o.orderLifecycleInformation?.lifecycleChangeDate === 'string',
  );
  loose.products ??= [];
  loose.quantities ??= [];
  loose.prices ??= [];
  loose.priceTasks ??= [];
  delete loose.priceProcesses;
  loose.returns = (loose.returns ?? []).filter(
    (r: Partial<ReturnItem>) => typeof r.occurredTime === 'string' && typeof r.changeSeq === 'number',
  );
  loose.returnChangeSeq ??= 0;
  loose.shippingProfiles = (loose.shippingProfiles ?? []).map((p) => ({
    shippingProfileId: p.shippingProfileId,
    shippingProfileName: p.shippingProfileName,
    workingDays: p.workingDays,
    orderCutoff: p.orderCutoff,
    deliveryType: p.deliveryType,
    defaultProcessingTime: p.defaultProcessingTime,
    transportTime: p.transportTime,
  }));
  loose.shipments = (loose.shipments ?? []).filter((s) => typeof s.trackingKey === 'object');
  upgraded.add(data);
  return data;
}

/** The SKUs of the partner's product catalogue (`POST /__admin/partners/:id/products`). */
export function catalogue(data: PartnerData): Set<string> {
  return new Set(data.products.map((p) => p.sku));
}

/** Adds SKUs to the catalogue (idempotent); returns how many were new. */
export function addProducts(
  data: PartnerData,
  skus: string[],
  at: string,
  shippingProfileId?: string,
): number {
  const bySku = new Map(data.products.map((p) => [p.sku, p]));
  let added = 0;
  for (const sku of skus) {
    const existing = bySku.get(sku);
    if (existing) {
      if (shippingProfileId !== undefined) existing.shippingProfileId = shippingProfileId;
      continue;
    }
    const product = { sku, addedAt: at, ...(shippingProfileId !== undefined ? { shippingProfileId } : {}) };
    data.products.push(product);
    bySku.set(sku, product);
    added += 1;
  }
  return added;
}

/** Ascending code-unit order, like a database sorting SKUs. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
