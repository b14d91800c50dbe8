/**
 * The connection's state machine as data: which event moves which state where. Pure and total, so it
 * is unit-tested without a server and the workflow never hand-rolls a state change.
 */
import type { ConnectionState } from './definitions';

export const CONNECTION_EVENTS = [
  /** `beginConsent` accepted (first consent, re-issue while pending, or an app upgrade while connected). */
  'consent_requested',
  /** The pending consent's callback carried a code: authorization starts (in the background when upgrading). */
  'callback_accepted',
  /** The pending consent's callback carried `error=`: we keep waiting, with `lastError` set. */
  'callback_error',
  /** Code exchanged, installation and partner read, first token minted. */
  'authorization_succeeded',
  /** Code exchange or first mint failed: back to waiting for consent. */
  'authorization_failed',
  /** Nobody came back within the consent window. */
  'consent_timed_out',
  /** OTTO unreachable / 5xx / 429 for longer than the token could wait. */
  'otto_unavailable',
  /** A token mint or transfer succeeded again after `otto_unavailable`. */
  'recovered',
  'pause_requested',
  'resume_requested',
  /** Installation token minting refused (401/403/404, confirmed): the seller removed the app. */
  'installation_revoked',
  'disconnect_requested',
] as const;
export type ConnectionEventType = (typeof CONNECTION_EVENTS)[number];

export const TERMINAL_STATES: ReadonlySet<ConnectionState> = new Set([
  'revoked',
  'disconnected',
  'consent_expired',
]);

/** States in which the seller's installation is live (tokens are minted). */
export const CONNECTED_STATES: ReadonlySet<ConnectionState> = new Set(['active', 'degraded', 'paused']);

type Table = Readonly<
  Partial<Record<ConnectionState, Readonly<Partial<Record<ConnectionEventType, ConnectionState>>>>>
>;

/**
 * Every allowed transition. Anything absent is refused. While connected, consent events describe an app
 * upgrade running beside the live installation, so they keep the state (design §2: re-consent while active).
 */
export const TRANSITIONS: Table = {
  new: {
    consent_requested: 'pending_consent',
    consent_timed_out: 'consent_expired',
    disconnect_requested: 'disconnected',
  },
  pending_consent: {
    consent_requested: 'pending_consent',
    callback_accepted: 'authorizing',
    callback_error: 'pending_consent',
    consent_timed_out: 'consent_expired',
    disconnect_requested: 'disconnected',
  },
  authorizing: {
    authorization_succeeded: 'active',
    authorization_failed: 'pending_consent',
    disconnect_requested: 'disconnected',
  },
  active: {
    consent_requested: 'active',
    callback_accepted: 'active',
    callback_error: 'active',
    authorization_succeeded: 'active',
    authorization_failed: 'active',
    consent_timed_out: 'active',
    otto_unavailable: 'degraded',
    pause_requested: 'paused',
    installation_revoked: 'revoked',
    disconnect_requested: 'disconnected',
  },
  degraded: {
    consent_requested: 'degraded',
    callback_accepted: 'degraded',
    callback_error: 'degraded',
    authorization_succeeded: 'active',
    authorization_failed: 'degraded',
    consent_timed_out: 'degraded',
    otto_unavailable: 'degraded',
    recovered: 'active',
    pause_requested: 'paused',
    installation_revoked: 'revoked',
    disconnect_requested: 'disconnected',
  },
  paused: {
    consent_requested: 'paused',
    callback_accepted: 'paused',
    callback_error: 'paused',
    authorization_succeeded: 'paused',
    authorization_failed: 'paused',
    consent_timed_out: 'paused',
    otto_unavailable: 'paused',
    recovered: 'paused',
    resume_requested: 'active',
    installation_revoked: 'revoked',
    disconnect_requested: 'disconnected',
  },
};

export type TransitionResult =
  | { ok: true; from: ConnectionState; to: ConnectionState }
  | { ok: false; from: ConnectionState; reason: string };

export function transition(from: ConnectionState, event: ConnectionEventType): TransitionResult {
  const to = TRANSITIONS[from]?.[event];
  if (to !== undefined) return { ok: true, from, to };
  if (TERMINAL_STATES.has(from)) {
    return {
      ok: false,
      from,
      reason: `the connection has ended (${from}); start a new consent to reconnect`,
    };
  }
  return {
    ok: false,
    from,
    reason: `"${event.replace(/_/g, ' ')}" is not possible while ${from.replace(/_/g, ' ')}`,
  };
}

export function canTransition(from: ConnectionState, event: ConnectionEventType): boolean {
  return TRANSITIONS[from]?.[event] !== undefined;
}

export function isTerminal(state: ConnectionState): boolean {
  return TERMINAL_STATES.has(state);
}

export function isConnected(state: ConnectionState): boolean {
  return CONNECTED_STATES.has(state);
}
