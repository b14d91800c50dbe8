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

/** Created when a seller confirms the OPC consent screen of an installation or invitation link. */
export interface Installation {
  installationId: string;
  appId: string;
  partnerId: string;
  scopes: string[];
  createdAt: string;
  /** The OPC user who confirmed. */
  installedBy?: string;
  /** How it was installed. */
  via?: 'installation_link' | 'invitation';
  /**
   * Set by "Zugriff entziehen". Installing again creates a new installation, or (reinstallKeepsInstallationId)
   * brings this one back under its id.
   */
  revokedAt?: string;
}

/** A private app's invitation link: valid invitationTtlSeconds (OTTO: 24 h), used by one confirmation. */
export interface Invitation {
  /** The unguessable last path segment of the link. */
  token: string;
  appId: string;
  createdAt: string;
  /** Epoch ms. */
  expiresAt: number;
  /** Epoch ms of the confirmation that consumed it. */
  usedAt?: number;
  usedByPartnerId?: string;
}

/** `refresh` tokens come with user tokens and are never accepted as Bearer tokens. */
export type TokenKind = 'user' | 'refresh' | 'developer' | 'installation';

export interface IssuedToken {
  token: string;
  kind: TokenKind;
  appId: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  /** User and refresh tokens: the partner of the OPC user who logged in; installation tokens: its partner. */
  partnerId?: string;
  /** Installation tokens only (a user token is tied to no installation). */
  installationId?: string;
  /** User and refresh tokens: the OPC user who logged in. */
  username?: string;
  /** User and refresh tokens: Keycloak's `session_state`, shared by everything one login produced. */
  sessionState?: string;
  /** The authorization code a user token came from, so a replayed code can revoke it (RFC 6749 §4.1.2). */
  fromCode?: string;
  revokedAt?: number;
}

/** Issued by /oauth2/auth after a successful login; single use. */
export interface AuthorizationCode {
  code: string;
  appId: string;
  clientId: string;
  /** The `redirect_uri` parameter of the authorize request; absent when it was defaulted (then not checked). */
  redirectUri?: string;
  codeChallenge?: string;
  scopes: string[];
  partnerId: string;
  username: string;
  expiresAt: number;
  usedAt?: number;
}

/*
 * Seller data (docs/otto-api.md §5). Stored in OTTO's own response models where one exists, so the routes only
 * hide what OTTO hides (see emulator/routes/*-routes.ts); fields marked "internal" never leave the emulator.
 */

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

export type CancellationReason =
  | 'CANCELLED_ON_CUSTOMER_WISH'
  | 'CANCELLED_ON_PARTNER_WISH'
  | 'PAYMENT_ABORTED'
  | 'PAYMENT_FRAUD'
  | 'PARTNER_TERMINATED'
  | 'ILLEGAL_PRODUCT'
  | 'MARKETPLACE_FRAUD'
  | 'CANCELLED_ON_MARKETPLACE_WISH';

export const CANCELLATION_REASONS: CancellationReason[] = [
  'CANCELLED_ON_CUSTOMER_WISH',
  'CANCELLED_ON_PARTNER_WISH',
  'PAYMENT_ABORTED',
  'PAYMENT_FRAUD',
  'PARTNER_TERMINATED',
  'ILLEGAL_PRODUCT',
  'MARKETPLACE_FRAUD',
  'CANCELLED_ON_MARKETPLACE_WISH',
];

export interface Money {
  amount: number;
  currency: string;
}

export interface OrderProduct {
  sku: string;
  articleNumber: string;
  productTitle: string;
  vatRate: number;
  ean?: string;
  shopUrl?: string;
  dimensions?: { type?: string; displayName?: string; value?: string }[];
}

export interface TrackingInfo {
  carrier?: string;
  trackingNumber?: string;
  carrierServiceCode?: string;
}

export interface PositionItem {
  positionItemId: string;
  fulfillmentStatus: FulfillmentStatus;
  itemValueGrossPrice: Money;
  product: OrderProduct;
  processableDate?: string;
  sentDate?: string;
  returnedDate?: string;
  cancellationDate?: string;
  cancellationReason?: CancellationReason;
  expectedDeliveryDate?: string;
  trackingInfo?: TrackingInfo;
}

export type Salutation = 'MR' | 'MS' | 'COMPANY' | 'UNKNOWN';

export interface Address {
  salutation: Salutation;
  firstName: string;
  lastName: string;
  street: string;
  houseNumber: string;
  zipCode: string;
  city: string;
  /** ISO 3166-1 alpha-3. */
  countryCode: string;
  addition?: string;
  email?: string;
  phoneNumber?: string;
}

export interface InitialDeliveryFee {
  name: string;
  deliveryFeeAmount: Money;
  positionItemIds: string[];
  vatRate: number;
}

/**
 * OTTO's PartnerOrder (Orders v4). There is no order-level status: the order's "status" is the bucket its
 * position items put it in. The addresses are held always but only shown once no item is ANNOUNCED.
 */
export interface Order {
  salesOrderId: string;
  /** 10 alphanumerics. */
  orderNumber: string;
  orderDate: string;
  orderLifecycleInformation: { lifecycleChangeDate: string };
  /** Optional at OTTO and absent on some orders; when present it moves with lifecycleChangeDate. */
  lastModifiedDate?: string;
  positionItems: PositionItem[];
  deliveryAddress: Address;
  invoiceAddress: Address;
  payment: { paymentMethod: string };
  initialDeliveryFees?: InitialDeliveryFee[];
}

/** The partner's product catalogue (the emulator has no product API): stock and prices need a known SKU. */
export interface CatalogueProduct {
  sku: string;
  addedAt: string;
  /** A shipping profile the SKU is assigned to; such a profile cannot be deleted (412). */
  shippingProfileId?: string;
}

export interface Quantity {
  sku: string;
  quantity: number;
  lastModified: string;
}

export interface Sale {
  salePrice?: Money;
  startDate?: string;
  endDate?: string;
}

export interface Price {
  sku: string;
  standardPrice: Money;
  sale?: Sale;
  lastModified: string;
  processUuid: string;
}

export interface PriceTaskError {
  code: string;
  title: string;
  path: string;
  jsonPath: string;
  logref: string;
}

export type PriceTaskOutcome = 'succeeded' | 'failed' | 'unchanged';

export interface PriceTaskResult {
  /** OTTO's `variation` (a string in both generated clients): the SKU, or '' when the item had none. */
  variation: string;
  outcome: PriceTaskOutcome;
  errors: PriceTaskError[];
}

/** A `POST /v5/products/prices` update task: pending until readyAtMs, then settled once. */
export interface PriceTask {
  processUuid: string;
  createdAt: string;
  /** Epoch ms (injectable clock) from which the task counts as done. */
  readyAtMs: number;
  total: number;
  /** The submitted array, validated only when the task settles (internal; dropped then). */
  items?: unknown[];
  doneAt?: string;
  results?: PriceTaskResult[];
}

export type ReturnStatus = 'ANNOUNCED' | 'ACCEPTED' | 'REJECTED' | 'MISDIRECTED';

export const RETURN_STATUSES: ReturnStatus[] = ['ANNOUNCED', 'ACCEPTED', 'REJECTED', 'MISDIRECTED'];

/** Returns v3 `details`; which fields are set depends on the status (docs/otto-api.md §5.4). */
export interface ReturnDetails {
  returnTrackingKey?: { carrier?: string; trackingNumbers?: string[] };
  condition?: string;
  reason?: string;
  orderNumber?: string;
  ottoWarehouseID?: string;
}

export interface ReturnItem {
  positionItemId: string;
  salesOrderId: string;
  status: ReturnStatus;
  occurredTime: string;
  details: ReturnDetails;
  /** Internal: orders status changes that share one clock instant (newest first). */
  changeSeq: number;
}

export interface ShippingProfile {
  shippingProfileId: string;
  shippingProfileName: string;
  workingDays: string[];
  orderCutoff: string;
  deliveryType: string;
  defaultProcessingTime: number;
  transportTime: number;
}

export interface Shipment {
  shipmentId: string;
  createdAt: string;
  trackingKey: { carrier: string; trackingNumber?: string };
  shipDate: string;
  shipFromAddress: { city: string; countryCode: string; zipCode: string };
  positionItems: {
    positionItemId: string;
    salesOrderId: string;
    returnTrackingKey: { carrier: string; trackingNumber: string };
    returnAddressCarrierId?: string;
  }[];
}

/** Per-partner seller data; created lazily when a partner first needs it. */
export interface PartnerData {
  orders: Order[];
  products: CatalogueProduct[];
  quantities: Quantity[];
  prices: Price[];
  priceTasks: PriceTask[];
  returns: ReturnItem[];
  /** Last ReturnItem.changeSeq handed out. */
  returnChangeSeq: number;
  shippingProfiles: ShippingProfile[];
  shipments: Shipment[];
}

export interface PersistentState {
  partners: Partner[];
  installations: Installation[];
  tokens: IssuedToken[];
  codes: AuthorizationCode[];
  invitations: Invitation[];
  data: Record<string, PartnerData>;
  /** Highest order change date handed out (epoch ms), so change dates are strictly increasing (see orders). */
  lastOrderChangeMs: number;
}

export function emptyPersistentState(): PersistentState {
  return {
    partners: [],
    installations: [],
    tokens: [],
    codes: [],
    invitations: [],
    data: {},
    lastOrderChangeMs: 0,
  };
}

export function emptyPartnerData(): PartnerData {
  return {
    orders: [],
    products: [],
    quantities: [],
    prices: [],
    priceTasks: [],
    returns: [],
    returnChangeSeq: 0,
    shippingProfiles: [],
    shipments: [],
  };
}
