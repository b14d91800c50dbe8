import type { Router } from 'express';
import { z } from 'zod';
import { consentAutomation } from '../admin-consent';
import { createInvitation } from '../authorize-flow';
import type { EmulatorContext } from '../emulator-context';
import { faultInputSchema } from '../faults';
import { sendAdminError } from '../http-errors';
import {
  PARTNER_ID_CLAIMS,
  REVOKED_MINT_STATUSES,
  type PartnerIdClaim,
  type RevokedMintStatus,
} from '../options';
import { queryParam } from '../request-params';
import type { Partner } from '../state';
import { adminDataRoutes } from './admin-data-routes';
import { parseAdminBody, partnerOr404 } from './admin-helpers';
import { exactRouter } from './exact-router';

const partnerSchema = z.object({
  partnerId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  users: z
    .array(
      z.object({
        username: z.string().min(1),
        password: z.string().min(1),
        admin: z.boolean(),
        dienstleisterFreigaben: z.boolean(),
      }),
    )
    .min(1),
});

const consentSchema = z.object({
  authorizeUrl: z.string().min(1),
  username: z.string(),
  password: z.string(),
  decision: z.enum(['confirm', 'deny']),
});

const settingsSchema = z.strictObject({
  dropCodeChallenge: z.boolean().optional(),
  partnerIdClaim: z.enum(PARTNER_ID_CLAIMS as [PartnerIdClaim, ...PartnerIdClaim[]]).optional(),
  revokedMintStatus: z
    .number()
    .refine((n): n is RevokedMintStatus => (REVOKED_MINT_STATUSES as number[]).includes(n), {
      message: `must be one of ${REVOKED_MINT_STATUSES.join(', ')}`,
    })
    .optional(),
  reinstallKeepsInstallationId: z.boolean().optional(),
});

/**
 * The admin API of docs/design.md §6, for tests, benchmarks and the dev stack. JSON in and out; errors in the
 * connector's `{ error: { code, message, details? } }` shape.
 */
export function adminRoutes(ctx: EmulatorContext): Router {
  const router = exactRouter();

  router.get('/apps', (_req, res) => {
    res.json(
      ctx.apps.map((a) => ({
        version: a.version,
        appId: a.appId,
        clientId: a.clientId,
        clientSecret: a.clientSecret,
        scopes: a.scopes,
        redirectUris: a.redirectUris,
        name: a.name,
        visibility: a.visibility,
        installationUrl: ctx.installationUrl(a) ?? null,
      })),
    );
  });

  // "Einladungslink generieren": a private app's single-use link, valid invitationTtlSeconds.
  router.post('/apps/:appId/invitations', (req, res) => {
    const app = ctx.appById(req.params.appId);
    if (!app) {
      sendAdminError(res, 404, 'unknown_app', `No app ${req.params.appId}`);
      return;
    }
    if (app.visibility !== 'private') {
      sendAdminError(res, 409, 'public_app', `App ${app.appId} is public: use its installation link`);
      return;
    }
    const invitation = createInvitation(ctx, app);
    ctx.persist();
    res.status(201).json({
      url: ctx.invitationUrl(invitation.token),
      expiresAt: new Date(invitation.expiresAt).toISOString(),
    });
  });

  router.get('/settings', (_req, res) => {
    res.json(ctx.settings);
  });

  router.patch('/settings', (req, res) => {
    const body = parseAdminBody(settingsSchema, req.body, res);
    if (!body) return;
    if (body.dropCodeChallenge !== undefined) ctx.settings.dropCodeChallenge = body.dropCodeChallenge;
    if (body.partnerIdClaim !== undefined) ctx.settings.partnerIdClaim = body.partnerIdClaim;
    if (body.revokedMintStatus !== undefined) ctx.settings.revokedMintStatus = body.revokedMintStatus;
    if (body.reinstallKeepsInstallationId !== undefined)
      ctx.settings.reinstallKeepsInstallationId = body.reinstallKeepsInstallationId;
    res.json(ctx.settings);
  });

  router.post('/partners', (req, res) => {
    const body = parseAdminBody(partnerSchema, req.body, res);
    if (!body) return;
    const partner = ctx.createPartner(body);
    ctx.persist();
    res.status(201).json({ partnerId: partner.partnerId });
  });

  router.get('/partners', (_req, res) => {
    res.json(ctx.state.partners.map((p) => partnerView(ctx, p)));
  });

  router.get('/partners/:partnerId', (req, res) => {
    const partner = partnerOr404(ctx, req.params.partnerId, res);
    if (partner) res.json(partnerView(ctx, partner));
  });

  // Performs exactly the page sequence of an installation/invitation link or an /oauth2/auth URL.
  router.post('/consent', (req, res) => {
    const body = parseAdminBody(consentSchema, req.body, res);
    if (!body) return;
    const result = consentAutomation(ctx, body);
    if (result.kind === 'error') {
      sendAdminError(res, result.status, result.code, result.message, result.details);
      return;
    }
    res.json({ redirectTo: result.redirectTo });
  });

  // "Zugriff entziehen": OTTO tells nobody; the app finds out when minting fails.
  router.post('/partners/:partnerId/revoke', (req, res) => {
    const partner = partnerOr404(ctx, req.params.partnerId, res);
    if (!partner) return;
    const body = parseAdminBody(z.object({ appId: z.string().optional() }), req.body, res);
    if (!body) return;
    const now = ctx.nowIso();
    const revoked = ctx.state.installations.filter(
      (i) => i.partnerId === partner.partnerId && !i.revokedAt && (!body.appId || i.appId === body.appId),
    );
    for (const installation of revoked) installation.revokedAt = now;
    ctx.persist();
    res.json({ revoked: revoked.map((i) => i.installationId) });
  });

  // Seller data: orders, order status, returns, product catalogue, read-backs (admin-data-routes.ts).
  router.use(adminDataRoutes(ctx));

  router.get('/requests', (req, res) => {
    const since = queryParam(req, 'since');
    const sinceMs = since !== undefined ? Date.parse(since) : undefined;
    if (sinceMs !== undefined && Number.isNaN(sinceMs)) {
      sendAdminError(res, 400, 'invalid_since', 'since must be an ISO-8601 date-time');
      return;
    }
    res.json(ctx.requestLog.since(sinceMs));
  });

  router.post('/faults', (req, res) => {
    const body = parseAdminBody(faultInputSchema, req.body, res);
    if (!body) return;
    res.status(201).json(ctx.faults.add(body));
  });
  router.get('/faults', (_req, res) => {
    res.json(ctx.faults.list());
  });
  router.delete('/faults', (_req, res) => {
    ctx.faults.clear();
    res.status(204).end();
  });
  router.delete('/faults/:id', (req, res) => {
    if (ctx.faults.remove(req.params.id)) res.status(204).end();
    else sendAdminError(res, 404, 'unknown_fault', `No fault ${req.params.id}`);
  });

  router.post('/reset', (_req, res) => {
    ctx.reset();
    res.status(204).end();
  });

  router.use((req, res) => {
    sendAdminError(res, 404, 'not_found', `No admin route ${req.method} ${req.originalUrl}`);
  });

  return router;
}

function partnerView(ctx: EmulatorContext, partner: Partner) {
  return {
    partnerId: partner.partnerId,
    createdAt: partner.createdAt,
    users: partner.users.map((u) => ({
      username: u.username,
      admin: u.admin,
      dienstleisterFreigaben: u.dienstleisterFreigaben,
    })),
    installations: ctx.state.installations.filter((i) => i.partnerId === partner.partnerId),
  };
}
