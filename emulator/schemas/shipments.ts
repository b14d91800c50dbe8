/** Shipments v1 (docs/otto-api.md §5.6). */
import { z } from 'zod';

/** POST 201 (`shipmentId` optional in the client; the emulator always sends it). */
export const shipmentCreatedSchema = z.strictObject({ shipmentId: z.string().min(1).optional() });

/** 400/409/500: `errors` is one object in both generated clients. */
export const shipmentErrorSchema = z.strictObject({
  errors: z
    .strictObject({
      title: z.string(),
      path: z.string(),
      detail: z.string().optional(),
      jsonPath: z.string().optional(),
    })
    .optional(),
});
