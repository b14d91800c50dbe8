/**
 * How the API's routers match paths, and what a request no route took is answered: one place for both.
 *
 * - Paths are case-sensitive. Express matches case-insensitively by default, so `/API/connections` ran
 *   the route while errors.ts, choosing JSON or a page by path, did not see an API path. Every route
 *   file makes its router with {@link createRouter}; OTTO redirects to the exact callback URL we
 *   registered, and our links are generated, so nothing legitimate depends on other cases.
 * - One trailing slash is tolerated (Express's default, "strict routing" off): `/api/connections/` is
 *   the list. A person typing a URL gets what they meant, and nothing answers differently with it.
 * - A path that exists under other methods is 405 `method_not_allowed` with `Allow`, sorted as OPTIONS
 *   lists it; anything else is 404 `route_not_found`. The table is read from the app's own routers
 *   (router's `listRoutes()`) once every route is mounted, so it cannot drift from them.
 */
import { Router, type Express, type RequestHandler } from 'express';
import { HttpError } from './errors';

export const ROUTER_OPTIONS = { caseSensitive: true, strict: false } as const;

/** The app's own router matches as every router does ({@link ROUTER_OPTIONS}); call it first. */
export function useRouterOptions(app: Express): void {
  app.set('case sensitive routing', ROUTER_OPTIONS.caseSensitive);
  app.set('strict routing', ROUTER_OPTIONS.strict);
}

/**
 * HEAD on a route whose GET has an effect (it spends a one-time link or delivers a code): Express would run
 * the GET handler for HEAD, so a mail scanner or link preview checking a link with HEAD spent it before the
 * seller opened it. Registered before the GET, this answers a page's headers and does nothing.
 */
export const headWithoutEffect: RequestHandler = (_req, res) => {
  res.status(200).set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).type('html').end();
};

/** Every router of the API and the ops app is made here, with {@link ROUTER_OPTIONS}. */
export function createRouter(): Router {
  return Router(ROUTER_OPTIONS);
}

/** What router 2.3's `listRoutes()` answers (not in @types/express yet). */
interface ListedRoute {
  path: unknown;
  methods: string[] | undefined;
  router: Listing | undefined;
}
interface Listing {
  listRoutes?: () => ListedRoute[];
}

interface RouteMethods {
  pattern: RegExp;
  methods: readonly string[];
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A route path as a RegExp over `req.path`, matching as the routers do (case-sensitive, one optional
 * trailing slash). Our routes use literal segments and `:name` parameters only; anything else throws
 * here, when the app is built, so a new kind of path is noticed in the tests rather than mismatched.
 */
export function routePattern(path: string): RegExp {
  const segments = path.replace(/\/+$/, '').split('/');
  const source = segments.map((segment) => {
    if (/^:[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) return '[^/]+';
    if (/^[A-Za-z0-9._~-]*$/.test(segment)) return escapeRegExp(segment);
    throw new Error(`route path ${path}: only literal segments and :name parameters are supported`);
  });
  return new RegExp(`^${source.join('/')}/?$`);
}

/** The routes registered on `app`, with their methods (GET implies HEAD, as Express serves it). */
function routeTable(app: Express): RouteMethods[] {
  const table: RouteMethods[] = [];
  const walk = (listing: Listing) => {
    if (typeof listing.listRoutes !== 'function')
      throw new Error('the router cannot list its routes (router >= 2.3 needed)');
    for (const route of listing.listRoutes()) {
      if (route.router) walk(route.router);
      else if (route.methods && typeof route.path === 'string')
        table.push({ pattern: routePattern(route.path), methods: route.methods });
    }
  };
  walk(app.router as unknown as Listing);
  return table;
}

/** Longest part of a refused path the answer repeats. */
const MAX_ECHOED_PATH = 200;

/**
 * The app's last handler: 405 with `Allow` when the path exists under other methods, otherwise 404.
 * Create it after every route is mounted (it reads the routes once).
 */
export function unmatchedRoutes(app: Express): RequestHandler {
  const table = routeTable(app);
  return (req, _res, next) => {
    const allowed = new Set<string>();
    for (const route of table) if (route.pattern.test(req.path)) route.methods.forEach((m) => allowed.add(m));
    const path = req.path.length <= MAX_ECHOED_PATH ? req.path : `${req.path.slice(0, MAX_ECHOED_PATH)}…`;
    if (allowed.size > 0 && !allowed.has('*') && !allowed.has(req.method)) {
      const allow = [...allowed].sort().join(', ');
      next(
        new HttpError(
          405,
          'method_not_allowed',
          `${path} does not take ${req.method}; it takes ${allow}`,
          undefined,
          { Allow: allow },
        ),
      );
      return;
    }
    next(new HttpError(404, 'route_not_found', `there is no ${req.method} ${path}`));
  };
}
