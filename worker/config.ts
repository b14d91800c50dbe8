import { z } from 'zod';
import { temporalConfigSchema } from '../common/config';

export const workerConfigSchema = temporalConfigSchema.extend({
  LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
});
export type WorkerConfig = z.output<typeof workerConfigSchema>;
