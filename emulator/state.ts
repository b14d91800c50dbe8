/**
 * What the emulated OTTO holds. Plain objects and arrays only (no Maps), so the whole thing round-trips
 * through JSON for the state file without a custom serializer.
 */

export interface OpcUser {
  username: string;
  password: string;
  admin: boolean;
  dienstleisterFreigaben: boolean;
}

export interface Partner {
  partnerId: string;
  users: OpcUser[];
  createdAt: string;
}

export interface Installation {
  installationId: string;
  appId: string;
  partnerId: string;
  scopes: string[];
  createdAt: string;
  /** Set by "Zugriff entziehen"; a revoked installation never comes back (consent creates a new one). */
  revokedAt?: string;
}

export type TokenKind = 'user' | 'developer' | 'installation';

export interface IssuedToken {
  token: string;
  kind: TokenKind;
  appId: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  partnerId?: string;
  installationId?: string;
  /** The authorization code a user token came from, so a replayed code can revoke it (RFC 6749 §4.1.2). */
  fromCode?: string;
  revokedAt?: number;
}

export interface AuthorizationCode {
  code: string;
  appId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge?: string;
  scopes: string[];
  partnerId: string;
  installationId: string;
  username: string;
  expiresAt: number;
  usedAt?: number;
}

export type FulfillmentStatus =
  'ANNOUNCED' | 'PROCESSABLE' | 'SENT' | 'RETURNED' | 'CANCELLED_BY_PARTNER' | 'CANCELLED_BY_MARKETPLACE';

export const FULFILLMENT_STATUSES: FulfillmentStatus[] = [
  'ANNOUNCED',
  'PROCESSABLE',
  'SENT',
  'RETURNED',
  'CANCELLED_BY_PARTNER',
  'CANCELLED_BY_MARKETPLACE',
];

export interface Money {
  amount: number;
  currency: string;
}

export interface PositionItem {
  positionItemId: string;
  fulfillmentStatus: FulfillmentStatus;
  itemValueGrossPrice: Money;
  product: { sku: string; productTitle: string; articleNumber: string; ean: string };
}

export interface Order {
  salesOrderId: string;
  orderNumber: string;
  orderDate: string;
  lastModifiedDate: string;
  fulfillmentStatus: FulfillmentStatus;
  positionItems: PositionItem[];
  deliveryAddress: {
    firstName: string;
    lastName: string;
    street: string;
    zipCode: string;
    city: string;
    countryCode: string;
  };
}

export interface Quantity {
  sku: string;
  quantity: number;
  lastModified: string;
}

export interface Price {
  sku: string;
  standardPrice: Money;
  lastModified: string;
  processUuid: string;
}

export interface PriceProcess {
  processUuid: string;
  createdAt: string;
  total: number;
}

export type ReturnStatus = 'ANNOUNCED' | 'ACCEPTED' | 'REJECTED';

export interface ReturnItem {
  positionItemId: string;
  salesOrderId: string;
  orderNumber: string;
  status: ReturnStatus;
  announcedAt: string;
  lastModifiedDate: string;
  reason: string;
  product: { sku: string; productTitle: string };
  rejectionReason?: string;
}

export interface ShippingProfile {
  shippingProfileId: string;
  shippingProfileName: string;
  deliveryType: string;
  defaultProcessingTime: number;
  transportTime: number;
  workingDays: string[];
  orderCutoff: string;
  lastModifiedDate: string;
}

export interface Shipment {
  shipmentId: string;
  createdAt: string;
  carrier: string;
  trackingNumber: string;
  shipDate: string;
  positionItems: { positionItemId: string; salesOrderId: string }[];
}

/** Per-partner seller data; created lazily when a partner first needs it. */
export interface PartnerData {
  orders: Order[];
  quantities: Quantity[];
  prices: Price[];
  priceProcesses: PriceProcess[];
  returns: ReturnItem[];
  shippingProfiles: ShippingProfile[];
  shipments: Shipment[];
}

export interface PersistentState {
  partners: Partner[];
  installations: Installation[];
  tokens: IssuedToken[];
  codes: AuthorizationCode[];
  data: Record<string, PartnerData>;
  /** Highest lastModifiedDate handed out, so order change dates are strictly increasing (see orders). */
  lastOrderChangeMs: number;
}

export function emptyPersistentState(): PersistentState {
  return { partners: [], installations: [], tokens: [], codes: [], data: {}, lastOrderChangeMs: 0 };
}

export function emptyPartnerData(): PartnerData {
  return {
    orders: [],
    quantities: [],
    prices: [],
    priceProcesses: [],
    returns: [],
    shippingProfiles: [],
    shipments: [],
  };
}
