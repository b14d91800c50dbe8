/**
 * Names both sides need, with no dependency: the seller workflow's id prefix and the transfer kinds.
 * `workflows/definitions.ts` re-exports them, so `common/` never imports `workflows/`.
 */
export const WORKFLOW_ID_PREFIX = 'otto-seller:';

export const TRANSFER_KINDS = [
  'ordersImport',
  'stockExport',
  'pricesExport',
  'returnsImport',
  'shippingProfilesSync',
] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];
