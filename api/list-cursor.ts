/**
 * The opaque cursor of `GET /api/connections`: where the next page starts. It wraps Temporal's own
 * `nextPageToken` of ListWorkflowExecutions with the part of the list it belongs to (running sellers
 * first, then ended ones) and the state filter it was issued for, signed like the API's other handed-out
 * values (signed-token.ts: base64url JSON + HMAC-SHA256).
 *
 * Signed because Temporal does not tell a forged page token from its own failures (the dev server's
 * visibility answers an undecodable token with a retryable UNKNOWN "something went wrong"): only tokens
 * Temporal issued ever reach it, and anything else is a clear 400 here. The key comes from
 * STATE_SIGNING_KEY ({@link listCursorKey}), so every API replica accepts every replica's cursors.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ListPhase } from '../workflows/visibility-queries';
import { SellerConnectionError } from './connection-errors';
import { deriveKey, signedToken } from './signed-token';

/** Longest cursor accepted (Temporal's tokens are far shorter: tens to a few hundred bytes). */
export const MAX_LIST_CURSOR_LENGTH = 2048;

export interface ListPosition {
  phase: ListPhase;
  /** Temporal's page token within that phase; undefined: the phase's first page. */
  token: Uint8Array | undefined;
}

const cursorSchema = z.strictObject({
  v: z.literal(1),
  /** The state filter ('' for none). */
  f: z.string().max(40),
  p: z.enum(['running', 'ended']),
  /** Temporal's token, base64; '' for the phase's first page. */
  t: z.base64().max(MAX_LIST_CURSOR_LENGTH),
});

/** The cursor key for one STATE_SIGNING_KEY (a purpose of its own: no other signed value passes as one). */
export function listCursorKey(stateSigningKey: string): Buffer {
  return deriveKey(stateSigningKey, 'otto-connect connection list cursor v1');
}

export interface ListCursors {
  encode(filter: string, position: ListPosition): string;
  /**
   * The position a cursor names, for a list with this filter whose parts are `phases`; throws
   * SellerConnectionError('invalid_cursor') for anything else (not ours, altered, another filter).
   */
  decode(cursor: string, filter: string, phases: readonly ListPhase[]): ListPosition;
}

const invalid = (why: string) =>
  new SellerConnectionError(
    'invalid_cursor',
    `${why}; pass the nextCursor of the previous page unchanged, with the same state (or start again without a cursor)`,
  );

/** Cursors signed under `key`; without one, a random key (cursors then work on this process only). */
export function createListCursors(key: string | Buffer = randomBytes(32)): ListCursors {
  const codec = signedToken(key, cursorSchema, MAX_LIST_CURSOR_LENGTH);
  return {
    encode(filter, position) {
      return codec.seal({
        v: 1,
        f: filter,
        p: position.phase,
        t: position.token === undefined ? '' : Buffer.from(position.token).toString('base64'),
      });
    },
    decode(cursor, filter, phases) {
      const opened = codec.open(cursor);
      if (!opened.ok) throw invalid('not a cursor this API issued (or it was altered)');
      const { f, p, t } = opened.payload;
      if (f !== filter) throw invalid('it belongs to a list with another state filter');
      if (!phases.includes(p)) throw invalid('it belongs to another list');
      return { phase: p, token: t === '' ? undefined : Buffer.from(t, 'base64') };
    },
  };
}
