import type { Response } from 'express';
import type { z } from 'zod';
import type { EmulatorContext } from '../emulator-context';
import { sendAdminError } from '../http-errors';
import type { Partner } from '../state';

/** The body parsed by `schema` (missing body: `{}`), or undefined after a 400 `invalid_body`. */
export function parseAdminBody<T extends z.ZodType>(
  schema: T,
  body: unknown,
  res: Response,
): z.infer<T> | undefined {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  sendAdminError(res, 400, 'invalid_body', 'The request body is invalid', parsed.error.issues);
  return undefined;
}

/** The partner, or undefined after a 404 `unknown_partner`. */
export function partnerOr404(ctx: EmulatorContext, partnerId: string, res: Response): Partner | undefined {
  const partner = ctx.partner(partnerId);
  if (!partner) sendAdminError(res, 404, 'unknown_partner', `No partner ${partnerId}`);
  return partner;
}
