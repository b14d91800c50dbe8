import { z } from 'zod';
import { temporalConfigSchema } from '../common/config';
import { ottoAppsEnvSchema } from '../common/otto-apps';
import { ottoFlowSettingsSchema } from '../common/otto-settings';
import { DEFAULT_TOKEN_TASK_QUEUE } from '../workflows/definitions';

export const workerConfigSchema = temporalConfigSchema.extend({
  ...ottoFlowSettingsSchema.shape,
  /** OTTO allows 20 requests/s per partner id (otto-api.md §5.8); per worker process here. */
  OTTO_PARTNER_REQUESTS_PER_SECOND: z.coerce.number().positive().default(20),
  TOKEN_TASK_QUEUE: z.string().min(1).default(DEFAULT_TOKEN_TASK_QUEUE),
  /** Task-queue-wide (enforced by the Temporal server across all workers); OTTO allows 10/s per IP (otto-api.md §5). */
  TOKEN_ACTIVITIES_PER_SECOND: z.coerce.number().positive().default(8),
  /** Seller workflows kept in memory per worker (unset: the SDK's default from available memory). */
  MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  /** Hard per-process cap on token-endpoint requests per second (the queue limit above is an average). */
  TOKEN_REQUESTS_PER_SECOND: z.coerce.number().int().positive().default(8),
  OTTO_AUTH_BASE_URL: z.url().default('http://localhost:3900'),
  OTTO_API_BASE_URL: z.url().default('http://localhost:3900'),
  OTTO_APPS: ottoAppsEnvSchema,
  PUBLIC_BASE_URL: z.url().default('http://localhost:3000'),
  /** The seller store (SQLite file). */
  SELLER_STORE: z.string().min(1).default('.data/seller-store.db'),
  /** Data calls never go out with a token that expires within this long. */
  TOKEN_SAFETY_MARGIN_MS: z.coerce.number().int().min(0).default(5_000),
  SEAL_KEYS: z.string().min(1),
  LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** Interface the metrics endpoints bind to; 0.0.0.0 in a container so Prometheus can scrape. */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** The Temporal SDK's Prometheus metrics (served by the SDK core). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).default(9464),
  /** Our own metrics (token mints, transfers) plus /healthz and /readyz; 0 picks a free port. */
  WORKER_APP_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9465),
});
export type WorkerConfig = z.output<typeof workerConfigSchema>;

export { callbackUrl } from '../common/oauth';
