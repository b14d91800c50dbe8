/**
 * The support and admin API (docs/design.md §4): thin handlers that parse with zod, make one call on the
 * SellerConnections port, and answer. Errors go to the one error handler.
 */
import type { Router } from 'express';
import { createRouter } from '../routing';
import type { AssistantSessions } from '../assistant-session';
import type { Authenticator } from '../auth';
import { SellerConnectionError } from '../connection-errors';
import type { ConsentStarter } from '../consent-starter';
import { invalidCursor } from '../errors';
import {
  assistantSessionBodySchema,
  beginConnectionBodySchema,
  emptyBodySchema,
  DEFAULT_LIST_PAGE_SIZE,
  listQuerySchema,
  reasonBodySchema,
  sellerParamsSchema,
  statusQuerySchema,
  transferParamsSchema,
  webhookParamsSchema,
} from '../http-schemas';
import { jsonBody } from '../json-body';
import type { SellerConnections } from '../seller-connections';
import { parse } from '../validate';

export interface ApiRoutesDeps {
  auth: Authenticator;
  connections: SellerConnections;
  startConsent: ConsentStarter;
  publicBaseUrl: string;
  assistantSessions: AssistantSessions;
}

export function apiRoutes({
  auth,
  connections,
  startConsent,
  publicBaseUrl,
  assistantSessions,
}: ApiRoutesDeps): Router {
  const router = createRouter();
  const support = auth.requireRole('support');
  const admin = auth.requireRole('admin');

  router.post('/api/sellers/:sellerId/connection', admin, jsonBody, async (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    const body = parse(beginConnectionBodySchema, req.body, 'body');
    const started = await startConsent(sellerId, body);
    const link = new URL('/oauth/start', publicBaseUrl);
    link.searchParams.set('ticket', started.ticket);
    res.status(201).json({
      state: started.state,
      appVersion: started.appVersion,
      authorizeUrl: link.toString(),
      installationUrl: started.consentUrl,
      linkExpiresAt: new Date(started.ticketExpiresAt).toISOString(),
      consentDeadline: started.consentDeadline,
    });
  });

  // The shop's backend opens the assistant for its logged-in seller: a one-time link for that seller only.
  router.post('/api/sellers/:sellerId/assistant-sessions', admin, jsonBody, (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    const options = parse(assistantSessionBodySchema, req.body, 'body');
    const link = assistantSessions.createLink(sellerId, options);
    res
      .status(201)
      .set('Cache-Control', 'no-store')
      .json({ url: link.url, expiresAt: new Date(link.expiresAt).toISOString() });
  });

  router.get('/api/sellers/:sellerId/connection', support, async (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    const { view } = parse(statusQuerySchema, req.query, 'query');
    res.json(view === 'full' ? await connections.fullStatus(sellerId) : await connections.status(sellerId));
  });

  router.delete('/api/sellers/:sellerId/connection', admin, jsonBody, async (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    const { reason } = parse(reasonBodySchema, req.body, 'body');
    const result = await connections.disconnect(sellerId, reason);
    res.json({ sellerId, state: result.state });
  });

  router.post('/api/sellers/:sellerId/connection/pause', admin, jsonBody, async (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    const { reason } = parse(reasonBodySchema, req.body, 'body');
    const result = await connections.pause(sellerId, reason);
    res.json({ sellerId, state: result.state });
  });

  router.post('/api/sellers/:sellerId/connection/resume', admin, jsonBody, async (req, res) => {
    const { sellerId } = parse(sellerParamsSchema, req.params, 'params');
    parse(emptyBodySchema, req.body, 'body');
    const result = await connections.resume(sellerId);
    res.json({ sellerId, state: result.state });
  });

  router.post('/api/sellers/:sellerId/transfers/:kind/run', admin, jsonBody, async (req, res) => {
    const { sellerId, kind } = parse(transferParamsSchema, req.params, 'params');
    parse(emptyBodySchema, req.body, 'body');
    const result = await connections.runTransferNow(sellerId, kind);
    res.status(202).json({ sellerId, state: result.state });
  });

  router.post('/api/sellers/:sellerId/webhooks/:eventId/redeliver', admin, jsonBody, async (req, res) => {
    const { sellerId, eventId } = parse(webhookParamsSchema, req.params, 'params');
    parse(emptyBodySchema, req.body, 'body');
    const result = await connections.redeliverWebhook(sellerId, eventId);
    res.status(202).json({ sellerId, eventId: result.eventId, status: result.status });
  });

  // Every running seller re-resolves its settings from the workers' current configuration now.
  router.post('/api/settings/apply', admin, jsonBody, async (req, res) => {
    parse(emptyBodySchema, req.body, 'body');
    res.json(await connections.applySettings());
  });

  router.get('/api/connections', support, async (req, res) => {
    const { state, pageSize, limit, cursor } = parse(listQuerySchema, req.query, 'query');
    const page = await connections
      .list({
        ...(state === undefined ? {} : { state }),
        pageSize: pageSize ?? limit ?? DEFAULT_LIST_PAGE_SIZE,
        ...(cursor === undefined ? {} : { cursor }),
      })
      .catch((err: unknown) => {
        // As the shop feeds answer theirs (invalid_cursor, naming the parameter).
        if (!(err instanceof SellerConnectionError && err.kind === 'invalid_cursor')) throw err;
        throw invalidCursor('cursor', err.message);
      });
    res.json(page);
  });

  return router;
}
