/**
 * JSON bodies for /api: small, JSON only. express.json() silently skips other content types, which
 * would make a form-encoded body look like an empty one; a body of any other type is answered 415.
 *
 * Any JSON text is parsed (not body-parser's `strict`, which calls `null`, `42` or `"v1"` "not valid
 * JSON"); a body that is valid JSON of the wrong kind is a 400 that says what the route takes.
 */
import express, { type RequestHandler } from 'express';
import { HttpError } from './errors';

export interface JsonBodyOptions {
  /** What the route takes at the top level. */
  shape: 'object' | 'array';
  /** body-parser's limit, e.g. '16kb'. */
  limit: string;
  /** Without a body: 400 (true), or no body at all for the handler to read as {} (false). */
  required: boolean;
}

const describe = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : `a ${typeof value}`;

export function jsonBodyParser({ shape, limit, required }: JsonBodyOptions): RequestHandler {
  const parseJson = express.json({ limit, strict: false });
  const wrongShape = (value: unknown) =>
    shape === 'array'
      ? !Array.isArray(value)
      : typeof value !== 'object' || value === null || Array.isArray(value);
  return (req, res, next) => {
    const length = req.get('content-length');
    const hasBody = length !== undefined ? length !== '0' : req.get('transfer-encoding') !== undefined;
    // type-is calls a request without a body "no type", whatever its Content-Type says: so an empty body
    // is told it is missing (400), never that its (maybe right) type is wrong (415).
    if (!hasBody && required) {
      const message = `the body must be a JSON ${shape}; the request has none`;
      next(new HttpError(400, 'validation_failed', `body: ${message}`, [{ path: 'body', message }]));
      return;
    }
    if (hasBody && !req.is('application/json')) {
      next(new HttpError(415, 'unsupported_media_type', 'send the body as application/json'));
      return;
    }
    parseJson(req, res, (err?: unknown) => {
      if (err !== undefined) {
        next(err);
        return;
      }
      const body: unknown = req.body;
      if (body !== undefined && wrongShape(body)) {
        const message = `the body must be a JSON ${shape}, not ${describe(body)}`;
        next(new HttpError(400, 'validation_failed', `body: ${message}`, [{ path: 'body', message }]));
        return;
      }
      next();
    });
  };
}

/** The admin and support routes: an optional JSON object of at most 16 kB. */
export const jsonBody = jsonBodyParser({ shape: 'object', limit: '16kb', required: false });
