import { Router, type Response } from 'express';
import { z } from 'zod';
import { decide, login, startAuthorization } from '../authorize-flow';
import type { EmulatorContext } from '../emulator-context';
import { faultInputSchema } from '../faults';
import { sendAdminError } from '../http-errors';
import { generateOrders, generateReturns, setOrderStatus } from '../order-factory';
import { queryParam } from '../request-params';
import { FULFILLMENT_STATUSES, type Partner } from '../state';

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

const fulfillmentStatus = z.enum(FULFILLMENT_STATUSES as [string, ...string[]]);

const ordersSchema = z.object({
  count: z.number().int().min(1).max(100_000),
  fulfillmentStatus: fulfillmentStatus.optional(),
});

/**
 * The admin API of design §6, for tests, benchmarks and the dev stack. JSON in and out; errors in the
 * connector's `{ error: { code, message, details? } }` shape.
 */
export function adminRoutes(ctx: EmulatorContext): Router {
  const router = Router();

  function parse<T extends z.ZodType>(schema: T, body: unknown, res: Response): z.infer<T> | undefined {
    const parsed = schema.safeParse(body ?? {});
    if (parsed.success) return parsed.data;
    sendAdminError(res, 400, 'invalid_body', 'The request body is invalid', parsed.error.issues);
    return undefined;
  }

  function partnerOr404(partnerId: string, res: Response): Partner | undefined {
    const partner = ctx.partner(partnerId);
    if (!partner) sendAdminError(res, 404, 'unknown_partner', `No partner ${partnerId}`);
    return partner;
  }

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
      })),
    );
  });

  router.post('/partners', (req, res) => {
    const body = parse(partnerSchema, req.body, res);
    if (!body) return;
    const partner = ctx.createPartner(body);
    ctx.persist();
    res.status(201).json({ partnerId: partner.partnerId });
  });

  router.get('/partners', (_req, res) => {
    res.json(ctx.state.partners.map((p) => partnerView(ctx, p)));
  });

  router.get('/partners/:partnerId', (req, res) => {
    const partner = partnerOr404(req.params.partnerId, res);
    if (partner) res.json(partnerView(ctx, partner));
  });

  // Performs exactly the page sequence: authorize URL → login form → consent form.
  router.post('/consent', (req, res) => {
    const body = parse(consentSchema, req.body, res);
    if (!body) return;
    let url: URL;
    try {
      url = new URL(body.authorizeUrl, ctx.publicBaseUrl);
    } catch {
      sendAdminError(res, 400, 'invalid_authorize_url', 'authorizeUrl is not a URL');
      return;
    }
    const params: Record<string, string> = {};
    for (const [key, value] of url.searchParams) if (!(key in params)) params[key] = value;
    const started = startAuthorization(ctx, params);
    if (started.kind === 'page_error') {
      // The page would show an error and never redirect; there is nothing to redirect to here either.
      sendAdminError(res, 400, 'invalid_authorize_request', started.message);
      return;
    }
    if (started.kind === 'redirect') {
      res.json({ redirectTo: started.redirectTo });
      return;
    }
    const loggedIn = login(ctx, started.session, body.username, body.password);
    if (loggedIn.kind === 'bad_credentials') {
      ctx.sessions.delete(started.session.id);
      sendAdminError(res, 401, 'bad_credentials', 'Invalid username or password');
      return;
    }
    if (loggedIn.kind === 'refused') {
      res.json({ redirectTo: loggedIn.redirectTo });
      return;
    }
    res.json({
      redirectTo: decide(ctx, started.session, body.decision === 'confirm' ? 'confirm' : 'cancel'),
    });
  });

  // "Zugriff entziehen": OTTO tells nobody; the app finds out when minting fails.
  router.post('/partners/:partnerId/revoke', (req, res) => {
    const partner = partnerOr404(req.params.partnerId, res);
    if (!partner) return;
    const body = parse(z.object({ appId: z.string().optional() }), req.body, res);
    if (!body) return;
    const now = ctx.nowIso();
    const revoked = ctx.state.installations.filter(
      (i) => i.partnerId === partner.partnerId && !i.revokedAt && (!body.appId || i.appId === body.appId),
    );
    for (const installation of revoked) installation.revokedAt = now;
    ctx.persist();
    res.json({ revoked: revoked.map((i) => i.installationId) });
  });

  router.post('/partners/:partnerId/orders', (req, res) => {
    const partner = partnerOr404(req.params.partnerId, res);
    if (!partner) return;
    const body = parse(ordersSchema, req.body, res);
    if (!body) return;
    const orders = generateOrders(
      ctx,
      partner.partnerId,
      body.count,
      (body.fulfillmentStatus ?? 'PROCESSABLE') as (typeof FULFILLMENT_STATUSES)[number],
    );
    ctx.persist();
    res.status(201).json(orders);
  });

  router.post('/partners/:partnerId/orders/:salesOrderId/status', (req, res) => {
    const partner = partnerOr404(req.params.partnerId, res);
    if (!partner) return;
    const body = parse(z.object({ fulfillmentStatus }), req.body, res);
    if (!body) return;
    const order = ctx
      .partnerData(partner.partnerId)
      .orders.find((o) => o.salesOrderId === req.params.salesOrderId);
    if (!order) {
      sendAdminError(res, 404, 'unknown_order', `No order ${req.params.salesOrderId}`);
      return;
    }
    setOrderStatus(ctx, order, body.fulfillmentStatus as (typeof FULFILLMENT_STATUSES)[number]);
    ctx.persist();
    res.json(order);
  });

  router.post('/partners/:partnerId/returns', (req, res) => {
    const partner = partnerOr404(req.params.partnerId, res);
    if (!partner) return;
    const body = parse(z.object({ count: z.number().int().min(1).max(10_000) }), req.body, res);
    if (!body) return;
    const created = generateReturns(ctx, partner.partnerId, body.count);
    ctx.persist();
    res.status(201).json(created);
  });

  const readBack = {
    orders: 'orders',
    quantities: 'quantities',
    prices: 'prices',
    'shipping-profiles': 'shippingProfiles',
    returns: 'returns',
    shipments: 'shipments',
  } as const;
  for (const [segment, key] of Object.entries(readBack)) {
    router.get(`/partners/:partnerId/${segment}`, (req, res) => {
      const partner = partnerOr404(req.params.partnerId, res);
      if (partner) res.json(ctx.partnerData(partner.partnerId)[key]);
    });
  }

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
    const body = parse(faultInputSchema, req.body, res);
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
