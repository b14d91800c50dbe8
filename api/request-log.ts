/**
 * One structured log line per request: method, route pattern, path (never the query string: the OAuth
 * callback's carries a one-time code), status, duration, and the seller when the request names one.
 */
import type { RequestHandler } from 'express';
import type { Logger } from '../common/logger';
import { safeListener } from './safe-listener';
import { safeDecode } from './url-guard';

const SELLER_IN_PATH = /^\/api\/sellers\/([^/]+)/;

/**
 * The seller a request acted for, from what the API verified, never from what the caller merely claims:
 * the path of /api routes, the assistant session, or the callback's verified state (`res.locals.sellerId`).
 */
function sellerOf(req: Parameters<RequestHandler>[0], locals: Record<string, unknown>): string | undefined {
  const fromParams: unknown = (req.params as Record<string, unknown> | undefined)?.sellerId;
  if (typeof fromParams === 'string') return fromParams;
  const fromPath = SELLER_IN_PATH.exec(req.path)?.[1];
  // Malformed encodings are refused before routing (url-guard.ts), but a log line must never throw.
  if (fromPath) return safeDecode(fromPath);
  const session = locals.assistantSession as { sellerId?: unknown } | undefined;
  if (typeof session?.sellerId === 'string') return session.sellerId;
  return typeof locals.sellerId === 'string' ? locals.sellerId : undefined;
}

export function logRequests(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const onFinish = () => {
      const route: unknown = (req.route as { path?: unknown } | undefined)?.path;
      const sellerId = sellerOf(req, res.locals);
      const status = res.statusCode;
      // Probes and scrapes every few seconds would drown the interesting lines. A readiness probe saying
      // "not ready" (503 while Temporal is down) is its answer, not a server error: a warning, not an
      // error line every few seconds.
      const probe = ['/healthz', '/readyz', '/metrics'].includes(req.path);
      const quiet = probe && status < 400;
      const notReady = req.path === '/readyz' && status === 503;
      logger[notReady ? 'warn' : status >= 500 ? 'error' : quiet ? 'debug' : 'info'](
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
    };
    res.on(
      'finish',
      safeListener(onFinish, (err) => logger.warn({ err }, 'the request log line could not be written')),
    );
    next();
  };
}
