/**
 * A structured logger (common/logger.ts) whose JSON lines are kept in memory, for tests that check what
 * was logged (and that no secret was).
 */
import { createLogger, type Logger } from '../../common/logger';

export function capturingLogger(name: string, level = 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    name,
    level,
    pretty: false,
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines };
}
