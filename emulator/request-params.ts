import type { Request } from 'express';

/**
 * Express hands query and form values over as string | string[] | undefined. OTTO's endpoints take single
 * values; a repeated parameter counts as its first occurrence.
 */
export function queryParam(req: Request, name: string): string | undefined {
  return firstString((req.query as Record<string, unknown>)[name]);
}

export function queryParams(req: Request): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(req.query as Record<string, unknown>))
    out[key] = firstString(value);
  return out;
}

export function formParams(req: Request): Record<string, string | undefined> {
  const body: unknown = req.body;
  const out: Record<string, string | undefined> = {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return out;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) out[key] = firstString(value);
  return out;
}

function firstString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}
