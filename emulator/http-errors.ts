import type { Response } from 'express';
import { uuid } from './ids';

/*
 * Error bodies of OTTO's seller APIs (docs/otto-api.md §5). They differ per API, so each has its own sender:
 *   generic (§5.7; orders, prices, the gateway's 401/403/404/429): { errors: [{ path, title, code?, detail, logref }] }
 *   availability (§5.2): { errors: [{ code: <HTTP status>, title, detail, path, logref }] }
 *   returns (§5.4):      { errors: [{ title, detail, path, logref }] }
 *   shipping profiles (§5.5): { type, title, status, validationErrors: [{ detail, logref }] }
 *   shipments (§5.6):    { errors: { title, path, detail?, jsonPath? } }   (one object, not an array)
 * `path` is the called REST path (OTTO: "called REST path", "api endpoint/uri"); which item of a batch
 * failed is only said in `detail` (and `jsonpath`/`jsonPath` where the model has it).
 */

/** One entry of a generic (§5.7) error body; `path` defaults to the called REST path. */
export interface ApiErrorDetail {
  path?: string;
  title: string;
  detail: string;
  code?: string;
  jsonpath?: string;
}

/** The called REST path, without the query string. */
export function requestPath(res: Response): string {
  return (res.req.originalUrl || res.req.url || '/').split('?')[0] ?? '/';
}

/** A fresh `logref` ("key to find in the log"). */
export function logref(): string {
  return uuid();
}

/** Generic §5.7 error with one entry. Signature kept for every caller. */
export function sendApiError(res: Response, status: number, title: string, detail: string): void {
  sendApiErrors(res, status, [{ title, detail }]);
}

/** Generic §5.7 error with several entries. */
export function sendApiErrors(res: Response, status: number, errors: ApiErrorDetail[]): void {
  const path = requestPath(res);
  res.status(status).json({
    errors: errors.map((e) => ({
      path: e.path ?? path,
      title: e.title,
      ...(e.code !== undefined ? { code: e.code } : {}),
      detail: e.detail,
      ...(e.jsonpath !== undefined ? { jsonpath: e.jsonpath } : {}),
      logref: logref(),
    })),
  });
}

export interface ProblemEntry {
  title: string;
  detail: string;
}

/** Availability V1 error entry (`QuantityApiError`): `code` is the HTTP status it stands for. */
export function availabilityError(res: Response, code: number, entry: ProblemEntry) {
  return { code, title: entry.title, detail: entry.detail, path: requestPath(res), logref: logref() };
}

export function sendAvailabilityErrors(res: Response, status: number, entries: ProblemEntry[]): void {
  res.status(status).json({ errors: entries.map((e) => availabilityError(res, status, e)) });
}

/** Returns V3 error entry (`ApiErrorV3`). */
export function returnsError(res: Response, entry: ProblemEntry) {
  return { title: entry.title, detail: entry.detail, path: requestPath(res), logref: logref() };
}

export function sendReturnsErrors(res: Response, status: number, entries: ProblemEntry[]): void {
  res.status(status).json({ errors: entries.map((e) => returnsError(res, e)) });
}

/** Shipping profiles V1 error: `type` is the URL of the request, one validation error per problem. */
export function sendShippingProfileError(
  res: Response,
  status: number,
  title: string,
  details: string[],
): void {
  res.status(status).json({
    type: requestPath(res),
    title,
    status,
    validationErrors: details.map((detail) => ({ detail, logref: logref() })),
  });
}

/** Shipments V1 error: `errors` is one object in both generated clients (the guide shows arrays). */
export function sendShipmentError(
  res: Response,
  status: number,
  error: { title: string; detail?: string; jsonPath?: string },
): void {
  res.status(status).json({
    errors: {
      title: error.title,
      path: requestPath(res),
      ...(error.detail !== undefined ? { detail: error.detail } : {}),
      ...(error.jsonPath !== undefined ? { jsonPath: error.jsonPath } : {}),
    },
  });
}

/** RFC 6749 §5.2 error body for the token endpoints. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export function sendOAuthError(
  res: Response,
  status: number,
  error: OAuthErrorCode,
  description: string,
): void {
  // RFC 6749 §5.1: token responses must not be cached, errors included.
  res.set('Cache-Control', 'no-store').set('Pragma', 'no-cache');
  if (status === 401) res.set('WWW-Authenticate', 'Basic realm="otto-emulator"');
  res.status(status).json({ error, error_description: description });
}

/** Admin API errors use the connector's own error shape (docs/design.md §4), so test failures read the same. */
export function sendAdminError(
  res: Response,
  status: number,
  code: string,
  message: string,
  details?: unknown,
): void {
  res.status(status).json({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
}
