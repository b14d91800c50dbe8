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

/** 400 `invalid_cursor` naming the query parameter that carried the cursor (list and feed cursors alike). */
export const invalidCursor = (param: string, message: string): HttpError =>
  new HttpError(400, 'invalid_cursor', `query.${param}: ${message}`, [{ path: `query.${param}`, message }]);

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
  busy: { status: 503, code: 'temporal_busy' },
  timed_out: { status: 503, code: 'temporal_timeout' },
  invalid_cursor: { status: 400, code: 'invalid_cursor' },
  callback_replayed: { status: 400, code: 'callback_replayed' },
  callback_stale: { status: 400, code: 'callback_stale' },
  webhook_not_found: { status: 404, code: 'webhook_not_found' },
};

/** Longest key name or path segment a refusal repeats: a client's 15,000-character key is not echoed. */
const MAX_ECHOED_NAME = 64;
/** Most problems listed in `details`: a batch of 1,000 invalid items is not answered with 1,000 entries. */
export const MAX_ERROR_DETAILS = 100;
/** Most unknown field names one problem lists. */
const MAX_KEYS_NAMED = 10;

const shortened = (name: string) =>
  name.length <= MAX_ECHOED_NAME ? name : `${name.slice(0, MAX_ECHOED_NAME)}… (${name.length} characters)`;

/** An issue's message; unknown keys are named by us, shortened and at most MAX_KEYS_NAMED of them. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const named = issue.keys.slice(0, MAX_KEYS_NAMED).map((k) => JSON.stringify(shortened(k)));
  const more = issue.keys.length - named.length;
  // zod's own wording ("Unrecognized key: …"), with the names shortened and counted.
  return `Unrecognized key${issue.keys.length === 1 ? '' : 's'}: ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * Turns zod issues into a 400 whose details say which field failed and why (never the value): the first
 * MAX_ERROR_DETAILS of them; the message says how many more there were.
 */
export function validationError(where: string, issues: readonly z.core.$ZodIssue[]): HttpError {
  const details = issues.slice(0, MAX_ERROR_DETAILS).map((issue) => ({
    path: [where, ...issue.path.map((p) => shortened(String(p)))].join('.'),
    message: issueMessage(issue),
  }));
  const first = details[0];
  const unlisted = issues.length - details.length;
  return new HttpError(
    400,
    'validation_failed',
    (first ? `${first.path}: ${first.message}` : `invalid ${where}`) +
      (unlisted > 0 ? ` (${issues.length} problems in all; details lists the first ${details.length})` : ''),
    details,
  );
}

/**
 * Body-parser and other http-errors style failures carry `type`/`status`: each known type gets its own
 * code and message; other 4xx a generic one; 5xx (the server's own stream misuse) stay unexpected.
 */
function fromHttpErrorsPackage(err: unknown): HttpError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { type, status } = err as { type?: unknown; status?: unknown };
  switch (type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'malformed_body', 'the request body is not valid JSON');
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'the request body is too large');
    case 'parameters.too.many':
      return new HttpError(413, 'too_many_fields', 'the form has more fields than this route takes');
    case 'querystring.parse.rangeError':
      return new HttpError(400, 'malformed_body', 'the form is nested too deeply');
    case 'request.size.invalid':
      return new HttpError(
        400,
        'malformed_body',
        'the request body is not as long as its Content-Length header says',
      );
    case 'request.aborted':
      return new HttpError(400, 'request_aborted', 'the request was aborted before its body arrived');
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
    const headers: Record<string, string> = mapped.status === 503 ? { 'Retry-After': '5' } : {};
    return new HttpError(mapped.status, mapped.code, err.message, undefined, headers);
  }
  return fromHttpErrorsPackage(err);
}

/**
 * Browser routes get pages; the API (/api, in any case: such a path is no page either), ops routes and
 * clients asking for JSON get JSON.
 */
export function wantsHtml(req: Request): boolean {
  if (/^\/api(\/|$)/i.test(req.path) || ['/healthz', '/readyz', '/metrics'].includes(req.path)) return false;
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

/**
 * What a page says instead of the API's message, for errors whose message is written for developers
 * (field paths, zod wording, API routes): browser routes are seen by sellers.
 */
const PAGE_MESSAGES: Record<string, string> = {
  validation_failed:
    'This page was opened with a link or form we could not read. Please open the OTTO Market settings from your shop again.',
  temporal_unavailable:
    'The OTTO Market settings are temporarily unavailable. Nothing was changed; please try again in a moment.',
  temporal_busy:
    'The OTTO Market settings are busy right now. Nothing was changed; please try again in a moment.',
  temporal_timeout:
    'This is taking longer than usual. Anything you just started may still complete: please reload the OTTO Market settings in a moment to see where it stands.',
};

export function errorPage(err: HttpError): string {
  return page(
    'Something went wrong',
    html`<h1>${err.status === 503 ? 'Temporarily unavailable' : 'This request could not be completed'}</h1>
      <p class="error" id="error-message">${PAGE_MESSAGES[err.code] ?? err.message}</p>
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
