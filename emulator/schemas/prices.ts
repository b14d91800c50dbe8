/** Prices v5 update tasks (docs/otto-api.md §5.3). */
import { z } from 'zod';
import { utcDateTime } from './common';

/** ProductProcessProgress; no `processUuid` field (it is the last segment of the `self` href). */
export const priceProgressSchema = z.strictObject({
  state: z.enum(['pending', 'done']),
  message: z.string().optional(),
  total: z.number().int().min(0).optional(),
  progress: z.number().int().min(0).optional(),
  succeeded: z.number().int().min(0).optional(),
  failed: z.number().int().min(0).optional(),
  unchanged: z.number().int().min(0).optional(),
  pingAfter: utcDateTime.optional(),
  links: z.array(
    z.strictObject({ rel: z.enum(['self', 'failed', 'succeeded', 'unchanged']), href: z.string().min(1) }),
  ),
});

export const priceTaskErrorSchema = z.strictObject({
  code: z.string().optional(),
  title: z.string().optional(),
  path: z.string().optional(),
  jsonPath: z.string().optional(),
  logref: z.string().optional(),
});

/** `GET …/update-tasks/{uuid}/failed|succeeded|unchanged`; `variation` is a string in both clients. */
export const priceTaskResultsSchema = z.strictObject({
  results: z.array(
    z.strictObject({ variation: z.string().optional(), errors: z.array(priceTaskErrorSchema).optional() }),
  ),
});
