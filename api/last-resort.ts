/**
 * The API's last line of defence against a bug that throws where nothing catches it (an event listener,
 * a timer, a promise nobody awaits). Node's default is to exit, which turns any such bug into a way for
 * anyone who can send a request to take the API down for every seller.
 *
 * The choice: log and keep serving. That is safe here because the API keeps no state that an
 * interrupted callback could leave half-written: connections, consents, replays and tokens live in
 * Temporal workflows; in memory there are only caches and the failed-key brake. Requests in flight are
 * unaffected (each has its own handler chain; Express catches what a handler throws).
 *
 * But a burst (more than `maxPerWindow` within `windowMs`) means something is broken for good, not one
 * bad request: then it logs at fatal and calls `onGiveUp`, which stops the process gracefully with a
 * non-zero code so the orchestrator restarts it. Listen errors (port in use) are not handled here:
 * index.ts treats them as fatal at start.
 */
import type { Logger } from '../common/logger';

export interface LastResortOptions {
  logger: Pick<Logger, 'error' | 'fatal'>;
  onGiveUp: (reason: string) => void;
  maxPerWindow?: number;
  windowMs?: number;
  now?: () => number;
}

export interface LastResortHandlers {
  uncaughtException(err: unknown, origin?: string): void;
  unhandledRejection(reason: unknown): void;
}

export function createLastResort(options: LastResortOptions): LastResortHandlers {
  const maxPerWindow = options.maxPerWindow ?? 10;
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const recent: number[] = [];
  let gaveUp = false;

  // Never throw from here: an exception inside an uncaughtException handler ends the process.
  const safely = (fn: () => void) => {
    try {
      fn();
    } catch {
      // The logger itself failed; nothing else to do.
    }
  };

  const record = (kind: string, err: unknown) => {
    const t = now();
    recent.push(t);
    while (recent.length > 0 && t - recent[0]! > windowMs) recent.shift();
    if (recent.length <= maxPerWindow) {
      safely(() => options.logger.error({ err, kind }, `${kind}: logged, the API keeps serving`));
      return;
    }
    safely(() => options.logger.error({ err, kind }, `${kind}`));
    if (gaveUp) return;
    gaveUp = true;
    const reason = `${recent.length} uncaught errors within ${windowMs / 1000} s`;
    safely(() => options.logger.fatal(`${reason}: stopping so the API is restarted`));
    safely(() => options.onGiveUp(reason));
  };

  return {
    uncaughtException: (err, origin) =>
      record(origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception', err),
    unhandledRejection: (reason) => record('unhandled rejection', reason),
  };
}

/** Installs the handlers on the process; returns a function that removes them (tests). */
export function installLastResort(options: LastResortOptions): () => void {
  const handlers = createLastResort(options);
  const onException = (err: Error, origin: string) => handlers.uncaughtException(err, origin);
  const onRejection = (reason: unknown) => handlers.unhandledRejection(reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
