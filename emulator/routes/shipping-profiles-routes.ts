import { Router } from 'express';
import { z } from 'zod';
import { caller, requireInstallationToken } from '../data-auth';
import type { EmulatorContext } from '../emulator-context';
import { sendApiError } from '../http-errors';
import { uuid } from '../ids';
import type { ShippingProfile } from '../state';
import { parseBody } from '../validation';

const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;

const profileSchema = z.object({
  shippingProfileName: z.string().min(1).max(50),
  deliveryType: z.enum(['PARCEL', 'FREIGHT_FORWARDER']).default('PARCEL'),
  defaultProcessingTime: z.number().int().min(0).max(100).default(1),
  transportTime: z.number().int().min(0).max(100).default(2),
  workingDays: z
    .array(z.enum(WEEKDAYS))
    .min(1)
    .default(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY']),
  orderCutoff: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'orderCutoff must be HH:MM')
    .default('14:00'),
});

/** Shipping profiles need the `shipping-profiles` scope, which only the v2 app has. */
export function shippingProfilesRoutes(ctx: EmulatorContext): Router {
  const router = Router();
  const guard = requireInstallationToken(ctx, 'shipping-profiles');
  const profiles = (partnerId: string) => ctx.partnerData(partnerId).shippingProfiles;

  router.get('/v1/shipping-profiles', guard, (_req, res) => {
    res.json({ resources: profiles(caller(res).partnerId) });
  });

  router.post('/v1/shipping-profiles', guard, (req, res) => {
    const body = parseBody(profileSchema, req.body, res);
    if (!body) return;
    const profile: ShippingProfile = { shippingProfileId: uuid(), ...body, lastModifiedDate: ctx.nowIso() };
    profiles(caller(res).partnerId).push(profile);
    ctx.persist();
    res.status(201).json(profile);
  });

  router.get('/v1/shipping-profiles/:id', guard, (req, res) => {
    const profile = profiles(caller(res).partnerId).find((p) => p.shippingProfileId === req.params.id);
    if (!profile) {
      sendApiError(res, 404, 'Not Found', 'Unknown shipping profile');
      return;
    }
    res.json(profile);
  });

  router.put('/v1/shipping-profiles/:id', guard, (req, res) => {
    const list = profiles(caller(res).partnerId);
    const index = list.findIndex((p) => p.shippingProfileId === req.params.id);
    if (index < 0) {
      sendApiError(res, 404, 'Not Found', 'Unknown shipping profile');
      return;
    }
    const body = parseBody(profileSchema, req.body, res);
    if (!body) return;
    const profile: ShippingProfile = {
      shippingProfileId: String(req.params.id),
      ...body,
      lastModifiedDate: ctx.nowIso(),
    };
    list[index] = profile;
    ctx.persist();
    res.json(profile);
  });

  router.delete('/v1/shipping-profiles/:id', guard, (req, res) => {
    const data = ctx.partnerData(caller(res).partnerId);
    const before = data.shippingProfiles.length;
    data.shippingProfiles = data.shippingProfiles.filter((p) => p.shippingProfileId !== req.params.id);
    if (data.shippingProfiles.length === before) {
      sendApiError(res, 404, 'Not Found', 'Unknown shipping profile');
      return;
    }
    ctx.persist();
    res.status(204).end();
  });

  return router;
}
