/**
 * Malformed URLs stop at the door: a path or query whose percent-encoding does not decode to UTF-8
 * (`%`, `%ZZ`, `%E0%A4%A`, overlong `%C0%AF`, lone surrogates) or that decodes to a NUL is answered
 * 400 `malformed_url` before any router, logger or handler tries to decode it. Everything after this
 * middleware may decode `req.url` pieces without a try (the request log still decodes defensively).
 */
import type { RequestHandler } from 'express';
import { HttpError } from './errors';

/** decodeURIComponent that answers undefined instead of throwing URIError. */
export function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Which part of a raw request target is malformed, or undefined when both decode cleanly. */
export function malformedPart(rawUrl: string): 'path' | 'query' | undefined {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q + 1);
  const decodedPath = safeDecode(path);
  if (decodedPath === undefined || decodedPath.includes('\0')) return 'path';
  const decodedQuery = safeDecode(query);
  if (decodedQuery === undefined || decodedQuery.includes('\0')) return 'query';
  return undefined;
}

export const rejectMalformedUrls: RequestHandler = (req, _res, next) => {
  const part = malformedPart(req.originalUrl || req.url);
  if (part === undefined) {
    next();
    return;
  }
  next(
    new HttpError(
      400,
      'malformed_url',
      `the URL is malformed: its ${part} has invalid percent-encoding (it must be UTF-8, without NUL)`,
    ),
  );
};
