import type { Response } from 'express';

/**
 * OTTO's seller APIs answer errors as `{ errors: [{ path?, title, detail }] }` [I: shape taken from
 * OTTO's public API descriptions; the exact fields vary per API].
 */
export interface ApiErrorDetail {
  path?: string;
  title: string;
  detail: string;
}

export function sendApiError(res: Response, status: number, title: string, detail: string): void {
  res.status(status).json({ errors: [{ title, detail }] });
}

export function sendApiErrors(res: Response, status: number, errors: ApiErrorDetail[]): void {
  res.status(status).json({ errors });
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

/** Admin API errors use the connector's own error shape (design §4), so test failures read the same. */
export function sendAdminError(
  res: Response,
  status: number,
  code: string,
  message: string,
  details?: unknown,
): void {
  res.status(status).json({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
}
