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
import { createAssistantSessions } from './assistant-session';
import { memoryOneTimeIds, storeOneTimeIds } from './one-time-ids';
import { createConsentCookies } from './consent-cookie';
import { createConsentStartLimit, type ConsentStartLimit } from './consent-start-limit';
import { createConsentStarter } from './consent-starter';
import { createErrorHandler } from './errors';
import {
  createFailedAttemptLimiter,
  DEFAULT_LIMITER_OPTIONS,
  type LimiterOptions,
} from './failed-attempt-limiter';
import { createMetrics, measureRequests, trackConnections, type ApiMetrics } from './metrics';
import { createStateSigner, type StateSigner } from './oauth-state';
import { apiRoutes } from './routes/api-routes';
import { shopRoutes } from './routes/shop-routes';
import type { SellerStore } from '../store/seller-store';
import { assistantRoutes } from './routes/assistant-routes';
import { callbackRoutes } from './routes/callback-routes';
import { docsRoutes } from './routes/docs-routes';
import { logRequests } from './request-log';
import { healthRoutes } from './routes/ops-routes';
import type { SellerConnections } from './seller-connections';
import { unmatchedRoutes, useRouterOptions } from './routing';
import { rejectMalformedUrls } from './url-guard';

export interface AppDeps {
  config: ApiConfig;
  connections: SellerConnections;
  /** Defaults to a sealer over config.SEAL_KEYS; tests pass the workers' sealer. */
  sealer?: Sealer;
  stateSigner?: StateSigner;
  metrics?: ApiMetrics;
  authLimit?: Partial<LimiterOptions>;
  now?: () => number;
  log?: Pick<Console, 'error'>;
  /** Structured request logs (one line per request) and unexpected errors go here when given. */
  logger?: Logger;
  /** "Allow access" per assistant session and per address (default 10 per 10 minutes each). */
  consentStartLimit?: ConsentStartLimit;
  /**
   * The seller store behind the shop routes (role `shop`; without it they answer 503), where opened
   * assistant and consent links are spent (without it: in this process's memory).
   */
  store?: SellerStore;
}

/**
 * TRUST_PROXY as Express's "trust proxy" wants it: digits are a hop count (`1` = the client is the
 * address the one proxy in front of us saw; as a string Express would read it as the IP 0.0.0.1),
 * `true`/`false` as booleans, anything else a list of addresses, subnets or names such as `loopback`.
 */
export function trustProxySetting(value: string): number | boolean | string {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

export function createApp(deps: AppDeps): Express {
  const { config, connections } = deps;
  const now = deps.now ?? Date.now;
  const sealer = deps.sealer ?? createSealer(config.SEAL_KEYS);
  const stateSigner =
    deps.stateSigner ?? createStateSigner(config.STATE_SIGNING_KEY, { ttlMs: config.STATE_TTL, now });
  const metrics = deps.metrics ?? createMetrics();
  trackConnections(metrics, () => connections.countByState());
  const limiter = createFailedAttemptLimiter({ ...DEFAULT_LIMITER_OPTIONS, ...deps.authLimit }, deps.logger);
  const consentCookies = createConsentCookies(config.STATE_SIGNING_KEY, {
    ttlMs: config.CONSENT_COOKIE_TTL,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    now,
  });
  // One-time links are spent in the store every replica shares; without one, in this process's memory.
  const spentIds = (scope: string) =>
    deps.store ? storeOneTimeIds(deps.store, scope, { now }) : memoryOneTimeIds({ now });
  const assistantSessions = createAssistantSessions({
    stateSigningKey: config.STATE_SIGNING_KEY,
    publicBaseUrl: config.PUBLIC_BASE_URL,
    linkTtlMs: config.ASSISTANT_LINK_TTL,
    sessionTtlMs: config.ASSISTANT_SESSION_TTL,
    apps: config.OTTO_APPS,
    portalBaseUrl: config.OTTO_PORTAL_BASE_URL,
    now,
    spentLinks: spentIds('assistant-link'),
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
  // As every router (routing.ts): /API/… is no API path.
  useRouterOptions(app);
  if (config.TRUST_PROXY !== undefined) app.set('trust proxy', trustProxySetting(config.TRUST_PROXY));
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

  // Before any router decodes a parameter: malformed percent-encoding is a 400, never a crash.
  app.use(rejectMalformedUrls);
  // /readyz and /metrics are served on the ops port only (create-ops-app.ts).
  app.use(healthRoutes());
  app.use(docsRoutes({ publicBaseUrl: config.PUBLIC_BASE_URL }));
  const auth = createAuthenticator(config.API_KEYS, limiter);
  app.use(shopRoutes({ auth, store: deps.store, now }));
  app.use(
    apiRoutes({
      auth,
      connections,
      startConsent,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      assistantSessions,
    }),
  );
  app.use(
    callbackRoutes({
      connections,
      sealer,
      stateSigner,
      consentCookies,
      metrics,
      issuer: config.OTTO_ISSUER,
      apps: config.OTTO_APPS,
      authBaseUrl: config.OTTO_AUTH_BASE_URL,
      redirectUri: config.OTTO_SEND_REDIRECT_URI ? callbackUrl(config.PUBLIC_BASE_URL) : undefined,
      spentConsentLinks: spentIds('consent-link'),
      logger: deps.logger,
    }),
  );
  app.use(
    assistantRoutes({
      connections,
      startConsent,
      consentCookies,
      sessions: assistantSessions,
      consentStartLimit: createConsentStartLimit(deps.consentStartLimit, deps.logger),
      latestAppVersion: latestVersion(config.OTTO_APPS),
      publicBaseUrl: config.PUBLIC_BASE_URL,
      frameAncestors: config.ASSISTANT_FRAME_ANCESTORS,
      ...(deps.logger ? { logger: deps.logger } : {}),
    }),
  );
  // Last: 405 for a path served under other methods, 404 otherwise (it reads the routes mounted above).
  app.use(unmatchedRoutes(app));
  const logger = deps.logger;
  const errorLog =
    deps.log ?? (logger ? { error: (msg: string, err: unknown) => logger.error({ err }, msg) } : console);
  app.use(createErrorHandler(errorLog));
  return app;
}
