/** Parses one part of a request with its zod schema; handlers use the parsed output, never the raw input. */
import type { z } from 'zod';
import { validationError } from './errors';

export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'params' | 'query' | 'body',
): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw validationError(where, result.error.issues);
  return result.data;
}
