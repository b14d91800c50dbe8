import type { Response } from 'express';
import type { z } from 'zod';
import { sendApiErrors, type ApiErrorDetail } from './http-errors';

/** `[3].quantity` style paths, so a 400 names the offending item of a batch. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

export function zodDetails(error: z.ZodError): ApiErrorDetail[] {
  return error.issues.map((issue) => ({
    path: issuePath(issue.path),
    title: 'Invalid value',
    detail: issue.message,
  }));
}

/** Parses a JSON body; on failure answers 400 with one detail per issue and returns undefined. */
export function parseBody<T extends z.ZodType>(
  schema: T,
  body: unknown,
  res: Response,
): z.infer<T> | undefined {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  sendApiErrors(res, 400, zodDetails(parsed.error));
  return undefined;
}

/** Batch limits are checked before item validation, so the 400 says plainly what was too many. */
export function checkBatch(body: unknown, max: number, what: string, res: Response): body is unknown[] {
  if (!Array.isArray(body)) {
    sendApiErrors(res, 400, [{ title: 'Invalid body', detail: `The body must be a JSON array of ${what}` }]);
    return false;
  }
  if (body.length === 0 || body.length > max) {
    sendApiErrors(res, 400, [
      {
        title: 'Batch size',
        detail: `Between 1 and ${max} ${what} per request are allowed, got ${body.length}`,
      },
    ]);
    return false;
  }
  return true;
}
