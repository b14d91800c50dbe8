/**
 * Which seller-store failures mean "the store cannot be reached right now" (callers answer 503 and the
 * client retries) rather than a bug or a refused write (constraint violations, bad SQL: those stay
 * errors). One classifier for both backends, by what their drivers throw:
 *
 * - SQLite (better-sqlite3): a closed database ("The database connection is not open"), a file that
 *   cannot be opened (SQLITE_CANTOPEN…), another process holding the lock past the busy timeout
 *   (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT …, SQLITE_LOCKED…).
 * - PostgreSQL (pg, pg-pool): network errors (ECONNREFUSED, ECONNRESET, ETIMEDOUT, host not found …),
 *   SQLSTATE class 08 (connection exception), 57P01–57P03 (server shutting down, crashed, starting up),
 *   53300 (too many connections), 40P01 / 40001 (a deadlock or serialization failure left after the
 *   store's retries), and the pool's and client's own connection messages.
 */

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** better-sqlite3 reports extended codes too (SQLITE_BUSY_SNAPSHOT, SQLITE_CANTOPEN_ISDIR …): by prefix. */
const SQLITE_CODES = /^SQLITE_(BUSY|CANTOPEN|LOCKED)(_|$)/;

/** SQLSTATEs outside class 08 that say the server cannot take this connection right now. */
const PG_UNAVAILABLE_STATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  // A deadlock or serialization failure its retries did not get past: busy, try again.
  '40P01',
  '40001',
  // The server ended a session left idle in a transaction (idle_in_transaction_session_timeout).
  '25P03',
]);

const CONNECTION_MESSAGES = [
  // better-sqlite3 after close()
  'The database connection is not open',
  // pg / pg-pool
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Cannot use a pool after calling end on the pool',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

function isUnavailableHere(e: object): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || SQLITE_CODES.test(code) || PG_UNAVAILABLE_STATES.has(code)) return true;
    // SQLSTATE class 08: connection exception (08000, 08001, 08003, 08004, 08006, 08P01 …).
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.startsWith(m));
}

/**
 * True when `err` (or an error it wraps: `cause`, or one of an AggregateError's, as Node reports a
 * refused connection to every address of a host) says the store is unreachable or not open.
 */
export function isStoreUnavailable(err: unknown): boolean {
  const queue: unknown[] = [err];
  for (let seen = 0; queue.length > 0 && seen < 10; seen++) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null) continue;
    if (isUnavailableHere(e)) return true;
    const { cause, errors } = e as { cause?: unknown; errors?: unknown };
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return false;
}
