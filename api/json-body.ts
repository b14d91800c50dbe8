/**
 * JSON bodies for /api: small, JSON only. express.json() silently skips other content types, which
 * would make a form-encoded body look like an empty one; a body of any other type is answered 415.
 */
import express, { type RequestHandler } from 'express';
import { HttpError } from './errors';

const parseJson = express.json({ limit: '16kb', strict: true });

export const jsonBody: RequestHandler = (req, res, next) => {
  const length = req.get('content-length');
  const hasBody = length !== undefined ? length !== '0' : req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(new HttpError(415, 'unsupported_media_type', 'send the body as application/json'));
    return;
  }
  parseJson(req, res, next);
};
