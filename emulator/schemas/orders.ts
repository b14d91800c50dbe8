/** Orders v4 (docs/otto-api.md §5.1): PartnerOrder and the list envelope. */
import { z } from 'zod';
import { countryAlpha3, currencyCode, linkSchema, utcDateTime } from './common';

export const fulfillmentStatusSchema = z.enum([
  'ANNOUNCED',
  'PROCESSABLE',
  'SENT',
  'RETURNED',
  'CANCELLED_BY_PARTNER',
  'CANCELLED_BY_MARKETPLACE',
]);

export const cancellationReasonSchema = z.enum([
  'CANCELLED_ON_CUSTOMER_WISH',
  'CANCELLED_ON_PARTNER_WISH',
  'PAYMENT_ABORTED',
  'PAYMENT_FRAUD',
  'PARTNER_TERMINATED',
  'ILLEGAL_PRODUCT',
  'MARKETPLACE_FRAUD',
  'CANCELLED_ON_MARKETPLACE_WISH',
]);

export const amountSchema = z.strictObject({ amount: z.number(), currency: currencyCode });

export const orderProductSchema = z.strictObject({
  sku: z.string().min(1),
  articleNumber: z.string(),
  productTitle: z.string(),
  vatRate: z.number(),
  ean: z.string().optional(),
  shopUrl: z.string().optional(),
  dimensions: z
    .array(
      z.strictObject({
        type: z.string().optional(),
        displayName: z.string().optional(),
        value: z.string().optional(),
      }),
    )
    .optional(),
});

export const positionItemSchema = z.strictObject({
  positionItemId: z.string().min(1),
  fulfillmentStatus: fulfillmentStatusSchema,
  itemValueGrossPrice: amountSchema,
  product: orderProductSchema,
  itemValueDiscount: amountSchema.optional(),
  itemValueReducedGrossPrice: amountSchema.optional(),
  cancellationDate: utcDateTime.optional(),
  cancellationReason: cancellationReasonSchema.optional(),
  processableDate: utcDateTime.optional(),
  sentDate: utcDateTime.optional(),
  returnedDate: utcDateTime.optional(),
  expectedDeliveryDate: utcDateTime.optional(),
  trackingInfo: z
    .strictObject({
      carrier: z.string().optional(),
      trackingNumber: z.string().optional(),
      carrierServiceCode: z.string().optional(),
    })
    .optional(),
  weeePickup: z.boolean().optional(),
  dealId: z.string().optional(),
  dealName: z.string().optional(),
  returnAcceptedByMarketplace: z.boolean().optional(),
});

export const addressSchema = z.strictObject({
  salutation: z.enum(['MR', 'MS', 'COMPANY', 'UNKNOWN']),
  firstName: z.string(),
  lastName: z.string(),
  street: z.string(),
  houseNumber: z.string(),
  zipCode: z.string(),
  city: z.string(),
  countryCode: countryAlpha3,
  addition: z.string().optional(),
  email: z.string().optional(),
  phoneNumber: z.string().optional(),
});

export const partnerOrderSchema = z.strictObject({
  salesOrderId: z.string().min(1),
  orderNumber: z.string().regex(/^[A-Za-z0-9]{10}$/),
  orderDate: utcDateTime,
  orderLifecycleInformation: z.strictObject({ lifecycleChangeDate: utcDateTime }),
  positionItems: z.array(positionItemSchema).min(1),
  lastModifiedDate: utcDateTime.optional(),
  deliveryAddress: addressSchema.optional(),
  invoiceAddress: addressSchema.optional(),
  payment: z.strictObject({ paymentMethod: z.string() }).optional(),
  initialDeliveryFees: z
    .array(
      z.strictObject({
        name: z.string(),
        deliveryFeeAmount: amountSchema,
        positionItemIds: z.array(z.string()),
        vatRate: z.number(),
      }),
    )
    .optional(),
  initialDiscounts: z
    .array(
      z.strictObject({
        discountAmount: amountSchema,
        discountId: z.string(),
        discountName: z.string(),
        name: z.string(),
        positionItemIds: z.array(z.string()),
        vatRate: z.number(),
      }),
    )
    .optional(),
  links: z.array(linkSchema).optional(),
  suspectedFraudCase: z.boolean().optional(),
});

/** `GET /v4/orders`: `rel: "next"` = next page; no next link at the end. */
export const partnerOrderListSchema = z.strictObject({
  resources: z.array(partnerOrderSchema),
  links: z.array(linkSchema),
});
