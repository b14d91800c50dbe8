/**
 * One structured log line per request: method, route pattern, path (never the query string: the OAuth
 * callback's carries a one-time code), status, duration, and the seller when the request names one.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '../common/logger';

const SELLER_IN_PATH = /^\/api\/sellers\/([^/]+)/;
const SELLER_IN_REDIRECT = /[?&]sellerId=([^&]+)/;

function sellerOf(req: Parameters<RequestHandler>[0], location: unknown): string | undefined {
  const fromParams: unknown = (req.params as Record<string, unknown> | undefined)?.sellerId;
  if (typeof fromParams === 'string') return fromParams;
  const fromPath = SELLER_IN_PATH.exec(req.path)?.[1];
  if (fromPath) return decodeURIComponent(fromPath);
  // The assistant names the seller in its query; a verified callback redirects to the seller's assistant.
  const query: unknown = (req.query as Record<string, unknown> | undefined)?.sellerId;
  if (req.path.startsWith('/assistant') && typeof query === 'string') return query;
  const fromRedirect = typeof location === 'string' ? SELLER_IN_REDIRECT.exec(location)?.[1] : undefined;
  return fromRedirect ? decodeURIComponent(fromRedirect) : undefined;
}

export function logRequests(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route: unknown = (req.route as { path?: unknown } | undefined)?.path;
      const sellerId = sellerOf(req, res.getHeader('location'));
      const status = res.statusCode;
      // Probes and scrapes every few seconds would drown the interesting lines.
      const quiet = ['/healthz', '/readyz', '/metrics'].includes(req.path) && status < 400;
      logger[status >= 500 ? 'error' : quiet ? 'debug' : 'info'](
        {
          method: req.method,
          route: typeof route === 'string' ? route : undefined,
          path: req.path,
          status,
          durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
          ...(sellerId === undefined ? {} : { sellerId }),
        },
        `${req.method} ${req.path} ${status}`,
      );
    });
    next();
  };
}
