/**
 * What can go wrong when the API asks the seller workflow for something, independent of Temporal.
 * The port throws these; errors.ts turns each into one HTTP status.
 */
export type ConnectionErrorKind =
  /** No workflow ever ran for this seller. */
  | 'not_connected'
  /** The workflow exists but has ended (revoked, disconnected, consent expired). */
  | 'connection_ended'
  | 'already_connected'
  | 'invalid_transition'
  | 'invalid_input'
  /** The running workflow does not handle this command (yet). */
  | 'not_supported'
  /** Temporal could not be reached (no connection): the request did not take effect. */
  | 'unavailable'
  /**
   * Temporal refused the call for load (RESOURCE_EXHAUSTED: too many updates in flight for one workflow,
   * a namespace rate limit): the request did not take effect.
   */
  | 'busy'
  /**
   * Temporal, or the worker behind a query or update, did not answer in time: a command (update) may
   * still take effect.
   */
  | 'timed_out'
  /** A list cursor this API did not issue, or issued for another list. */
  | 'invalid_cursor'
  /** The workflow refused an OTTO callback: its consent was already answered. */
  | 'callback_replayed'
  /** The workflow refused an OTTO callback: it belongs to no current consent. */
  | 'callback_stale'
  /** Redelivery of a webhook the seller's workflow does not (or no longer) hold. */
  | 'webhook_not_found';

export class SellerConnectionError extends Error {
  override name = 'SellerConnectionError';
  constructor(
    readonly kind: ConnectionErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
