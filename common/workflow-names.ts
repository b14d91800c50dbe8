/**
 * Names both sides need, with no dependency: the seller workflow's id prefix, its public states, the app
 * versions, the transfer kinds and the webhook event types. `workflows/definitions.ts` (the messages) and
 * `common/status-schema.ts` (the status view's schema) build on these lists, so `common/` never imports
 * `workflows/` and no list is written twice.
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

export const APP_VERSIONS = ['v1', 'v2'] as const;

export const CONNECTION_STATES = [
  'new',
  'pending_consent',
  'authorizing',
  'active',
  'degraded',
  'paused',
  'revoked',
  'disconnected',
  'consent_expired',
] as const;

export const WEBHOOK_EVENT_TYPES = [
  'connection.state_changed',
  'orders.changed',
  'transfer.failed',
  'consent.completed',
] as const;
