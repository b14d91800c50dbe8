import type { Router, Response } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendShippingProfileError } from '../http-errors';
import { uuid } from '../ids';
import { queryParam } from '../request-params';
import { sellerData } from '../seller-data';
import type { ShippingProfile } from '../state';
import { describeIssue, validate } from '../validation';
import { exactRouter } from './exact-router';

const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export const DELIVERY_TYPES = [
  'PARCEL',
  'FORWARDER_PREFERREDLOCATION',
  'FORWARDER_CURBSIDE',
  'FORWARDER_HEAVYDUTY',
] as const;

// Every field is required (no defaults at OTTO); unknown fields are ignored.
const profileSchema = z.object({
  shippingProfileName: z.string().trim().min(1, 'shippingProfileName must not be empty'),
  workingDays: z
    .array(z.enum(WEEKDAYS))
    .min(1, 'workingDays must name at least one day')
    .refine((days) => new Set(days).size === days.length, 'workingDays must not repeat a day'),
  orderCutoff: z
    .string()
    .regex(/^([01]\d|2[0-3]):(00|30)$/, 'orderCutoff must be HH:MM on the half hour (CET), e.g. "14:30"'),
  deliveryType: z.enum(DELIVERY_TYPES),
  defaultProcessingTime: z.number().int().min(1).max(99),
  transportTime: z.number().int().min(1).max(99),
});

/**
 * Shipping profiles v1 (scope `shipping-profiles` by default, see `dataScopes`). Errors:
 * `{ type, title, status, validationErrors: [{ detail, logref }] }`. The list is `{ results, links }`
 * with `links` one object `{ rel: "next", href }`, present only when there is a next page. PUT and
 * DELETE answer 204 [I: their success codes are unlisted]. PUT may not change `deliveryType` (400) and
 * a name used by another profile is a 400 there (PUT documents no 409); POST answers a duplicate name
 * (case-insensitive [I]) with 409. DELETE of a profile a catalogue SKU is assigned to is a 412 [I].
 */
export function shippingProfilesRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();
  const guard = requireInstallationToken(ctx, 'shippingProfiles');
  const profiles = (res: Response) => sellerData(ctx, caller(res).partnerId).shippingProfiles;

  router.get('/v1/shipping-profiles', guard, (req, res) => {
    const all = profiles(res);
    const cursor = queryParam(req, 'cursor');
    let start = 0;
    if (cursor !== undefined) {
      const index = all.findIndex((p) => p.shippingProfileId === cursor);
      if (index < 0) {
        sendShippingProfileError(res, 400, 'Bad Request', [
          `cursor "${cursor}" is not a cursor this API issued`,
        ]);
        return;
      }
      start = index + 1;
    }
    const page = all.slice(start, start + ctx.options.shippingProfilesPageSize);
    const last = page[page.length - 1];
    const hasNext = last !== undefined && start + page.length < all.length;
    res.json({
      results: page.map(profileView),
      ...(hasNext
        ? {
            links: {
              rel: 'next',
              href: `/v1/shipping-profiles?cursor=${encodeURIComponent(last.shippingProfileId)}`,
            },
          }
        : {}),
    });
  });

  router.post('/v1/shipping-profiles', guard, (req, res) => {
    const parsed = validate(profileSchema, req.body);
    if (!parsed.ok) {
      sendShippingProfileError(res, 400, 'Bad Request', parsed.issues.map(describeIssue));
      return;
    }
    const list = profiles(res);
    if (nameTaken(list, parsed.value.shippingProfileName)) {
      sendShippingProfileError(res, 409, 'Conflict', [
        `A shipping profile named "${parsed.value.shippingProfileName}" exists already`,
      ]);
      return;
    }
    const profile: ShippingProfile = { shippingProfileId: uuid(), ...parsed.value };
    list.push(profile);
    ctx.persist();
    res.status(201).json({
      shippingProfileId: profile.shippingProfileId,
      message: 'Shipping profile created successfully',
    });
  });

  router.get('/v1/shipping-profiles/:id', guard, (req, res) => {
    const profile = profiles(res).find((p) => p.shippingProfileId === req.params.id);
    if (!profile) return notFound(res, String(req.params.id));
    res.json(profileView(profile));
  });

  router.put('/v1/shipping-profiles/:id', guard, (req, res) => {
    const list = profiles(res);
    const index = list.findIndex((p) => p.shippingProfileId === req.params.id);
    const current = list[index];
    if (!current) return notFound(res, String(req.params.id));
    const parsed = validate(profileSchema, req.body);
    if (!parsed.ok) {
      sendShippingProfileError(res, 400, 'Bad Request', parsed.issues.map(describeIssue));
      return;
    }
    if (parsed.value.deliveryType !== current.deliveryType) {
      sendShippingProfileError(res, 400, 'Bad Request', [
        `deliveryType cannot be changed (is ${current.deliveryType}); create a new shipping profile`,
      ]);
      return;
    }
    if (nameTaken(list, parsed.value.shippingProfileName, current.shippingProfileId)) {
      sendShippingProfileError(res, 400, 'Bad Request', [
        `A shipping profile named "${parsed.value.shippingProfileName}" exists already`,
      ]);
      return;
    }
    list[index] = { shippingProfileId: current.shippingProfileId, ...parsed.value };
    ctx.persist();
    res.status(204).end();
  });

  router.delete('/v1/shipping-profiles/:id', guard, (req, res) => {
    const data = sellerData(ctx, caller(res).partnerId);
    const index = data.shippingProfiles.findIndex((p) => p.shippingProfileId === req.params.id);
    if (index < 0) return notFound(res, String(req.params.id));
    const assigned = data.products.filter((p) => p.shippingProfileId === req.params.id);
    if (assigned.length > 0) {
      sendShippingProfileError(res, 412, 'Precondition Failed', [
        `The shipping profile is still assigned to ${assigned.length} SKU(s), e.g. "${assigned[0]?.sku}"`,
      ]);
      return;
    }
    data.shippingProfiles.splice(index, 1);
    ctx.persist();
    res.status(204).end();
  });

  return router;
}

function profileView(p: ShippingProfile): ShippingProfile {
  return {
    shippingProfileId: p.shippingProfileId,
    shippingProfileName: p.shippingProfileName,
    workingDays: [...p.workingDays],
    orderCutoff: p.orderCutoff,
    deliveryType: p.deliveryType,
    defaultProcessingTime: p.defaultProcessingTime,
    transportTime: p.transportTime,
  };
}

function nameTaken(list: ShippingProfile[], name: string, exceptId?: string): boolean {
  const wanted = name.trim().toLowerCase();
  return list.some(
    (p) => p.shippingProfileId !== exceptId && p.shippingProfileName.trim().toLowerCase() === wanted,
  );
}

function notFound(res: Response, id: string): void {
  sendShippingProfileError(res, 404, 'Not Found', [`No shipping profile ${id}`]);
}
