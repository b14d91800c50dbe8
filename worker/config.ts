import { z } from 'zod';
import { temporalConfigSchema } from '../common/config';
import { ottoAppsEnvSchema } from '../common/otto-apps';
import { DEFAULT_TOKEN_TASK_QUEUE } from '../workflows/definitions';

export const workerConfigSchema = temporalConfigSchema.extend({
  TOKEN_TASK_QUEUE: z.string().min(1).default(DEFAULT_TOKEN_TASK_QUEUE),
  /** Task-queue-wide (enforced by the Temporal server across all workers); OTTO allows 10/s per IP (otto-api.md §5). */
  TOKEN_ACTIVITIES_PER_SECOND: z.coerce.number().positive().default(8),
  OTTO_AUTH_BASE_URL: z.url().default('http://localhost:3900'),
  OTTO_API_BASE_URL: z.url().default('http://localhost:3900'),
  OTTO_APPS: ottoAppsEnvSchema,
  PUBLIC_BASE_URL: z.url().default('http://localhost:3000'),
  SEAL_KEYS: z.string().min(1),
  LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});
export type WorkerConfig = z.output<typeof workerConfigSchema>;

export function callbackUrl(publicBaseUrl: string): string {
  return new URL('/oauth/callback', publicBaseUrl).toString();
}
