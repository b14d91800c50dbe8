/**
 * The connection's lifecycle as data: which event moves which lifecycle state where. It is the single
 * source of those moves; the connected sub-states (admin pause, health, an upgrade in progress) are
 * separate fields of the seller's state (seller-state.ts), and the public state shown to users is derived
 * from both (`publicState`). Every row can fire: test/unit/decision-core.test.ts explores the decision
 * core and fails on a row nobody reaches.
 */
export const LIFECYCLES = [
  'new',
  'pending_consent',
  'connected',
  'revoked',
  'disconnected',
  'consent_expired',
] as const;
export type Lifecycle = (typeof LIFECYCLES)[number];

export const LIFECYCLE_EVENTS = [
  /** `beginConsent` accepted: a first consent, a new "Allow access" while pending, or an app upgrade. */
  'consent_requested',
  /** Code exchanged, installation and partner read, first token minted (first connection or upgrade). */
  'authorization_succeeded',
  /** Nobody came back within the consent window (while connected: the upgrade lapses). */
  'consent_timed_out',
  /** Minting refused across the confirmation window with no successful data call: the seller left. */
  'revocation_confirmed',
  'disconnect_requested',
] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

type Table = Readonly<Record<Lifecycle, Readonly<Partial<Record<LifecycleEvent, Lifecycle>>>>>;

/** Every allowed move. Anything absent is refused; terminal lifecycles have no row. */
export const TRANSITIONS: Table = {
  new: {
    consent_requested: 'pending_consent',
    disconnect_requested: 'disconnected',
  },
  pending_consent: {
    consent_requested: 'pending_consent',
    authorization_succeeded: 'connected',
    consent_timed_out: 'consent_expired',
    disconnect_requested: 'disconnected',
  },
  connected: {
    // An upgrade runs beside the live installation (docs/design.md §2): these keep the seller connected.
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

export type TransitionResult =
  { ok: true; from: Lifecycle; to: Lifecycle } | { ok: false; from: Lifecycle; reason: string };

export function transition(from: Lifecycle, event: LifecycleEvent): TransitionResult {
  const to = TRANSITIONS[from][event];
  if (to !== undefined) return { ok: true, from, to };
  if (isEnded(from)) {
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

export function isEnded(lifecycle: Lifecycle): boolean {
  return lifecycle === 'revoked' || lifecycle === 'disconnected' || lifecycle === 'consent_expired';
}
