import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { EmulatorContext, EmulatorError } from './emulator-context';
import { sendAdminError, sendApiError } from './http-errors';
import {
  resolveOptions,
  stripSlash,
  type EmulatorOptions,
  type ResolvedApp,
  type EmulatorPartnerInput,
} from './options';
import type { RequestLogEntry } from './request-log';
import { adminRoutes } from './routes/admin-routes';
import { developerRoutes } from './routes/developer-routes';
import { opcRoutes } from './routes/opc-routes';
import { ordersRoutes } from './routes/orders-routes';
import { pricesRoutes } from './routes/prices-routes';
import { quantitiesRoutes } from './routes/quantities-routes';
import { returnsRoutes } from './routes/returns-routes';
import { shipmentsRoutes } from './routes/shipments-routes';
import { shippingProfilesRoutes } from './routes/shipping-profiles-routes';
import { tokenRoutes } from './routes/token-routes';
import type { Partner, PersistentState } from './state';

export interface Emulator {
  /** The Express app; it never listens (see startEmulator). */
  app: Express;
  /** What OTTO holds right now (replaced wholesale by reset, so read it through this getter). */
  readonly state: PersistentState;
  readonly apps: ResolvedApp[];
  /** The internals, for tests that need to reach past the admin API. */
  context: EmulatorContext;
  createPartner(input: EmulatorPartnerInput): Partner;
  requests(sinceMs?: number): RequestLogEntry[];
  reset(): void;
  /** Where the emulator is reached; startEmulator sets it once the port is known. */
  setPublicBaseUrl(url: string): void;
  readonly publicBaseUrl: string;
  /** `iss` of callbacks and tokens (follows publicBaseUrl unless the issuer option was given). */
  readonly issuer: string;
  /** A public app's installation link (undefined for a private or unknown app). */
  installationUrl(appId: string): string | undefined;
  /** Writes the state file now (no-op without one). */
  persist(): void;
}

const TOKEN_ENDPOINT = /^\/(?:oauth2\/token|v1\/token|v1\/apps\/[^/]+\/installations\/[^/]+\/accessToken)$/;

export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const ctx = new EmulatorContext(resolveOptions(options));
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy in docker-compose; never trusted for anything security-relevant here.
  app.set('trust proxy', false);
  // Paths match exactly, as in every router (routes/exact-router.ts).
  app.set('case sensitive routing', true);
  app.set('strict routing', true);

  app.use(ctx.requestLog.middleware());
  app.use(express.json({ limit: '20mb', type: ['application/json', 'application/*+json'] }));
  app.use(express.urlencoded({ extended: false, limit: '1mb' }));

  app.use('/__admin', adminRoutes(ctx));
  app.use(ctx.faults.middleware());
  app.use(tokenRateLimit(ctx));

  app.use(opcRoutes(ctx));
  app.use(tokenRoutes(ctx));
  app.use(developerRoutes(ctx));
  app.use(ordersRoutes(ctx));
  app.use(quantitiesRoutes(ctx));
  app.use(pricesRoutes(ctx));
  app.use(returnsRoutes(ctx));
  app.use(shippingProfilesRoutes(ctx));
  app.use(shipmentsRoutes(ctx));

  app.use((req, res) => {
    sendApiError(res, 404, 'Not Found', `No route ${req.method} ${req.path}`);
  });
  app.use(errorHandler);

  return {
    app,
    get state() {
      return ctx.state;
    },
    apps: ctx.apps,
    context: ctx,
    createPartner: (input) => {
      const partner = ctx.createPartner(input);
      ctx.persist();
      return partner;
    },
    requests: (sinceMs) => ctx.requestLog.since(sinceMs),
    reset: () => ctx.reset(),
    setPublicBaseUrl: (url) => {
      ctx.publicBaseUrl = stripSlash(url);
    },
    get publicBaseUrl() {
      return ctx.publicBaseUrl;
    },
    get issuer() {
      return ctx.issuer();
    },
    installationUrl: (appId) => {
      const found = ctx.appById(appId);
      return found ? ctx.installationUrl(found) : undefined;
    },
    persist: () => ctx.persist(),
  };
}

/** OTTO's tightest limit (10/s per IP on the token endpoint); all our callers share one IP, so one bucket. */
function tokenRateLimit(ctx: EmulatorContext): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'POST' || !TOKEN_ENDPOINT.test(req.path)) return next();
    const decision = ctx.tokenLimiter.take('token-endpoints');
    if (decision.allowed) return next();
    sendApiError(res, 429, 'Too Many Requests', 'Rate limit on the token endpoints exceeded');
  };
}

/** Known errors keep their status; anything else is a 500 whose details stay in the emulator's console. */
const errorHandler: ErrorRequestHandler = (err: unknown, req, res, _next) => {
  const admin = req.path.startsWith('/__admin');
  const send = (status: number, code: string, message: string) =>
    admin ? sendAdminError(res, status, code, message) : sendApiError(res, status, code, message);
  if (res.headersSent) return;
  if (err instanceof EmulatorError) {
    send(err.status, err.code, err.message);
    return;
  }
  const status = (err as { status?: unknown }).status;
  const type = (err as { type?: unknown }).type;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // body-parser errors: malformed JSON, too large, wrong charset.
    send(status, typeof type === 'string' ? type : 'bad_request', 'The request body could not be read');
    return;
  }
  console.error('[emulator] unexpected error', err);
  send(500, 'internal_error', 'Internal emulator error');
};
