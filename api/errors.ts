/**
 * One error shape for every failure: `{ "error": { "code", "message", "details"? } }` as JSON, or the
 * same code and message as a small HTML page for browser routes (assistant, callback). Never a stack
 * trace: unexpected errors are logged here and answered with a generic 500.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { SellerConnectionError, type ConnectionErrorKind } from './connection-errors';
import { html, page } from './html';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A 503 for a dependency that is not there right now (the seller store): the client may retry in 5 s. */
export function serviceUnavailable(code: string, message: string): HttpError {
  return new HttpError(503, code, message, undefined, { 'Retry-After': '5' });
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const CONNECTION_ERRORS: Record<ConnectionErrorKind, { status: number; code: string }> = {
  not_connected: { status: 404, code: 'seller_not_connected' },
  connection_ended: { status: 409, code: 'connection_ended' },
  already_connected: { status: 409, code: 'already_connected' },
  invalid_transition: { status: 409, code: 'invalid_transition' },
  invalid_input: { status: 400, code: 'invalid_input' },
  not_supported: { status: 501, code: 'not_supported' },
  unavailable: { status: 503, code: 'temporal_unavailable' },
  callback_replayed: { status: 400, code: 'callback_replayed' },
  callback_stale: { status: 400, code: 'callback_stale' },
  webhook_not_found: { status: 404, code: 'webhook_not_found' },
};

/** Turns zod issues into a 400 whose details say which field failed and why (never the value). */
export function validationError(where: string, issues: readonly z.core.$ZodIssue[]): HttpError {
  const details = issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = details[0];
  return new HttpError(
    400,
    'validation_failed',
    first ? `${first.path}: ${first.message}` : `invalid ${where}`,
    details,
  );
}

/** Body-parser and other http-errors style failures carry `type`/`status`. */
function fromHttpErrorsPackage(err: unknown): HttpError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { type, status } = err as { type?: unknown; status?: unknown };
  switch (type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed_body', 'the request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'the request body is too large');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(
        415,
        'unsupported_media_type',
        'the request body uses an unsupported encoding or charset',
      );
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', 'the request could not be read');
  }
  return undefined;
}

export function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  // A parameter that does not decode (url-guard.ts refuses these first; this is the safety net).
  if (err instanceof URIError)
    return new HttpError(400, 'malformed_url', 'the URL is malformed: it has invalid percent-encoding');
  if (err instanceof SellerConnectionError) {
    const mapped = CONNECTION_ERRORS[err.kind];
    const headers: Record<string, string> = err.kind === 'unavailable' ? { 'Retry-After': '5' } : {};
    return new HttpError(mapped.status, mapped.code, err.message, undefined, headers);
  }
  return fromHttpErrorsPackage(err);
}

/** Browser routes get pages; the API, ops routes and clients asking for JSON get JSON. */
export function wantsHtml(req: Request): boolean {
  if (req.path.startsWith('/api/') || ['/healthz', '/readyz', '/metrics'].includes(req.path)) return false;
  return req.accepts(['html', 'json']) === 'html';
}

export function errorBody(err: HttpError): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
}

export function errorPage(err: HttpError): string {
  return page(
    'Something went wrong',
    html`<h1>${err.status === 503 ? 'Temporarily unavailable' : 'This request could not be completed'}</h1>
      <p class="error" id="error-message">${err.message}</p>
      <p class="muted">Error code: <code>${err.code}</code></p>`,
  );
}

export function sendError(req: Request, res: Parameters<RequestHandler>[1], err: HttpError): void {
  res.status(err.status).set(err.headers).set('Cache-Control', 'no-store');
  if (wantsHtml(req)) res.type('html').send(errorPage(err));
  else res.json(errorBody(err));
}

export function createErrorHandler(log: Pick<Console, 'error'>): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const known = toHttpError(err);
    if (known) {
      sendError(req, res, known);
      return;
    }
    log.error(`unexpected error on ${req.method} ${req.path}:`, err);
    sendError(
      req,
      res,
      new HttpError(500, 'internal_error', 'Something went wrong on our side. It has been logged.'),
    );
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'route_not_found', `there is no ${req.method} ${req.path}`));
};
