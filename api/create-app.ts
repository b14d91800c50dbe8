/**
 * Builds the Express app from its dependencies and never listens (index.ts does), so tests drive it
 * with supertest and a fake SellerConnections, or with the real Temporal adapter.
 */
import express, { type Express } from 'express';
import type { Logger } from '../common/logger';
import { latestVersion } from '../common/otto-apps';
import { createSealer, type Sealer } from '../common/seal';
import { createAuthenticator } from './auth';
import type { ApiConfig } from './config';
import { callbackUrl } from '../common/oauth';
import { createConsentCookies } from './consent-cookie';
import { createConsentStarter } from './consent-starter';
import { createErrorHandler, notFoundHandler } from './errors';
import { createFailedAttemptLimiter, type LimiterOptions } from './failed-attempt-limiter';
import { createMetrics, measureRequests, trackConnections, type ApiMetrics } from './metrics';
import { createStateSigner, type StateSigner } from './oauth-state';
import { apiRoutes } from './routes/api-routes';
import { assistantRoutes } from './routes/assistant-routes';
import { callbackRoutes } from './routes/callback-routes';
import { docsRoutes } from './routes/docs-routes';
import { logRequests } from './request-log';
import { opsRoutes } from './routes/ops-routes';
import type { SellerConnections } from './seller-connections';
import { createUsedNonces } from './used-nonces';

export interface AppDeps {
  config: ApiConfig;
  connections: SellerConnections;
  /** Defaults to a sealer over config.SEAL_KEYS; tests pass the workers' sealer. */
  sealer?: Sealer;
  stateSigner?: StateSigner;
  metrics?: ApiMetrics;
  authLimit?: Omit<LimiterOptions, 'now'>;
  now?: () => number;
  log?: Pick<Console, 'error'>;
  /** Structured request logs (one line per request) and unexpected errors go here when given. */
  logger?: Logger;
}

export function createApp(deps: AppDeps): Express {
  const { config, connections } = deps;
  const now = deps.now ?? Date.now;
  const sealer = deps.sealer ?? createSealer(config.SEAL_KEYS);
  const stateSigner =
    deps.stateSigner ?? createStateSigner(config.STATE_SIGNING_KEY, { ttlMs: config.STATE_TTL, now });
  const metrics = deps.metrics ?? createMetrics();
  trackConnections(metrics, () => connections.countByState());
  const limiter = createFailedAttemptLimiter({ maxFailures: 10, windowMs: 60_000, ...deps.authLimit, now });
  const consentCookies = createConsentCookies(config.STATE_SIGNING_KEY, {
    ttlMs: config.CONSENT_COOKIE_TTL,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    now,
  });
  const startConsent = createConsentStarter({
    apps: config.OTTO_APPS,
    portalBaseUrl: config.OTTO_PORTAL_BASE_URL,
    pkce: config.OTTO_PKCE,
    connections,
    sealer,
    consentCookies,
    metrics,
  });
  // "Allow access" redirects a form post on to OPC (installation or invitation link): CSP must allow it.
  const consentOrigins = new Set([
    new URL(config.OTTO_AUTH_BASE_URL).origin,
    new URL(config.OTTO_PORTAL_BASE_URL).origin,
    ...config.OTTO_APPS.flatMap((a) => (a.installationUrl ? [new URL(a.installationUrl).origin] : [])),
  ]);

  const app = express();
  app.disable('x-powered-by');
  if (config.TRUST_PROXY !== undefined) app.set('trust proxy', config.TRUST_PROXY);
  if (deps.logger) app.use(logRequests(deps.logger));
  app.use(measureRequests(metrics));
  app.use((_req, res, next) => {
    res.set({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // Our pages need no script at all; forms post to us, and "Allow access" redirects on to OTTO.
      'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${[...consentOrigins].join(' ')}; base-uri 'none'; frame-ancestors 'self'`,
    });
    next();
  });

  app.use(opsRoutes({ connections, metrics }));
  app.use(docsRoutes({ publicBaseUrl: config.PUBLIC_BASE_URL }));
  app.use(
    apiRoutes({
      auth: createAuthenticator(config.API_KEYS, limiter),
      connections,
      startConsent,
      publicBaseUrl: config.PUBLIC_BASE_URL,
    }),
  );
  app.use(
    callbackRoutes({
      connections,
      sealer,
      stateSigner,
      consentCookies,
      usedNonces: createUsedNonces({ now }),
      metrics,
      issuer: config.OTTO_ISSUER,
      apps: config.OTTO_APPS,
      authBaseUrl: config.OTTO_AUTH_BASE_URL,
      redirectUri: config.OTTO_SEND_REDIRECT_URI ? callbackUrl(config.PUBLIC_BASE_URL) : undefined,
    }),
  );
  app.use(
    assistantRoutes({
      connections,
      startConsent,
      consentCookies,
      latestAppVersion: latestVersion(config.OTTO_APPS),
      publicBaseUrl: config.PUBLIC_BASE_URL,
    }),
  );
  app.use(notFoundHandler);
  const logger = deps.logger;
  const errorLog =
    deps.log ?? (logger ? { error: (msg: string, err: unknown) => logger.error({ err }, msg) } : console);
  app.use(createErrorHandler(errorLog));
  return app;
}
