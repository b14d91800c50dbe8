/**
 * Routes the Temporal SDK's logs (worker, activities via `Context.current().log`, workflows via
 * `log` from @temporalio/workflow, and the Rust core) into our pino logger, so one stream carries
 * everything with `sellerId`, `workflowId` and `runId` where the SDK knows them.
 */
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { sellerLogFields, type Logger } from '../common/logger';

const LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * webpack's stats dump when the worker bundles workflows (many lines nobody needs at info), and the
 * SDK's notices that a worker polls only one kind of task, which is our design (two task queues).
 */
function isExpectedNotice(level: LogLevel, message: string): boolean {
  if (level === 'INFO' && /webpack [\d.]+ compiled|^asset workflow-bundle|modules by path/m.test(message))
    return true;
  return level === 'WARN' && /^No (activities|workflows) registered, not polling/.test(message);
}

export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    const { workflowId, runId, ...rest } = meta as { workflowId?: unknown; runId?: unknown };
    const ids = sellerLogFields({
      ...(typeof workflowId === 'string' ? { workflowId } : {}),
      ...(typeof runId === 'string' ? { runId } : {}),
    });
    const target = isExpectedNotice(level, message) ? 'debug' : LEVEL[level];
    logger[target]({ ...rest, ...ids }, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
