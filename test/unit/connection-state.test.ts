import {
  LIFECYCLE_EVENTS,
  LIFECYCLES,
  TRANSITIONS,
  isEnded,
  transition,
  type Lifecycle,
  type LifecycleEvent,
} from '../../workflows/connection-state';

// The expected lifecycle, written out independently of the implementation's table. Every pair not listed
// must be refused.
const EXPECTED: Record<Lifecycle, Partial<Record<LifecycleEvent, Lifecycle>>> = {
  new: { consent_requested: 'pending_consent', disconnect_requested: 'disconnected' },
  pending_consent: {
    consent_requested: 'pending_consent',
    authorization_succeeded: 'connected',
    consent_timed_out: 'consent_expired',
    disconnect_requested: 'disconnected',
  },
  connected: {
    consent_requested: 'connected',
    authorization_succeeded: 'connected',
    consent_timed_out: 'connected',
    revocation_confirmed: 'revoked',
    disconnect_requested: 'disconnected',
  },
  revoked: {},
  disconnected: {},
  consent_expired: {},
};

describe('the lifecycle table', () => {
  it.each(LIFECYCLES.flatMap((from) => LIFECYCLE_EVENTS.map((event) => [from, event] as const)))(
    '%s + %s',
    (from, event) => {
      const result = transition(from, event);
      const expected = EXPECTED[from][event];
      if (expected === undefined) {
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.reason).toMatch(isEnded(from) ? /has ended/ : /not possible/);
      } else {
        expect(result).toEqual({ ok: true, from, to: expected });
      }
    },
  );

  it('has exactly the expected rows', () => {
    expect(TRANSITIONS).toEqual(EXPECTED);
  });

  it('ends only in the terminal lifecycles, which have no way out', () => {
    for (const lifecycle of LIFECYCLES) {
      expect(isEnded(lifecycle)).toBe(Object.keys(EXPECTED[lifecycle]).length === 0);
    }
  });
});
