import { CONNECTION_STATES, type ConnectionState } from '../../workflows/definitions';
import {
  CONNECTION_EVENTS,
  canTransition,
  isConnected,
  isTerminal,
  transition,
  type ConnectionEventType,
} from '../../workflows/connection-state';

// The expected machine, written out independently of the implementation's table: state → event → next.
// Every pair not listed here must be refused.
const EXPECTED: Record<ConnectionState, Partial<Record<ConnectionEventType, ConnectionState>>> = {
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
  revoked: {},
  disconnected: {},
  consent_expired: {},
};

const allowed: Array<[ConnectionState, ConnectionEventType, ConnectionState]> = [];
const refused: Array<[ConnectionState, ConnectionEventType]> = [];
for (const state of CONNECTION_STATES) {
  for (const event of CONNECTION_EVENTS) {
    const next = EXPECTED[state][event];
    if (next === undefined) refused.push([state, event]);
    else allowed.push([state, event, next]);
  }
}

describe('connection state machine', () => {
  it('covers every state × event pair', () => {
    expect(allowed.length + refused.length).toBe(CONNECTION_STATES.length * CONNECTION_EVENTS.length);
    expect(allowed.length).toBe(43);
  });

  it.each(allowed)('%s --%s--> %s', (from, event, to) => {
    expect(transition(from, event)).toEqual({ ok: true, from, to });
    expect(canTransition(from, event)).toBe(true);
  });

  it.each(refused)('%s refuses %s', (from, event) => {
    const result = transition(from, event);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(10);
    expect(canTransition(from, event)).toBe(false);
  });

  it('explains refusals in words', () => {
    expect(transition('revoked', 'resume_requested')).toEqual({
      ok: false,
      from: 'revoked',
      reason: 'the connection has ended (revoked); start a new consent to reconnect',
    });
    expect(transition('active', 'resume_requested')).toEqual({
      ok: false,
      from: 'active',
      reason: '"resume requested" is not possible while active',
    });
  });

  it('knows terminal and connected states', () => {
    expect(CONNECTION_STATES.filter(isTerminal)).toEqual(['revoked', 'disconnected', 'consent_expired']);
    expect(CONNECTION_STATES.filter(isConnected)).toEqual(['active', 'degraded', 'paused']);
  });
});
