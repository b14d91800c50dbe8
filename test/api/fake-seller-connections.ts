/**
 * A recording stand-in for the SellerConnections port: every call is kept, so tests can assert that a
 * refused request sent no update and no signal. Sellers' statuses are set by the test.
 */
import { SellerConnectionError } from '../../api/connection-errors';
import type {
  ConnectionPage,
  ConnectionSummary,
  SellerConnections,
  StatusSummaryView,
  StatusView,
} from '../../api/seller-connections';
import {
  CONNECTION_STATES,
  type BeginConsentResult,
  type ConnectionState,
} from '../../workflows/definitions';

export type PortMethod = keyof SellerConnections;
export interface RecordedCall {
  method: PortMethod;
  args: unknown[];
}

/** Calls that change something in Temporal (updates, signals, starts). */
const WRITES: ReadonlySet<PortMethod> = new Set([
  'beginConsent',
  'deliverCallback',
  'disconnect',
  'pause',
  'resume',
  'runTransferNow',
  'redeliverWebhook',
  'applySettings',
]);

export function statusView(sellerId: string, overrides: Partial<StatusView> = {}): StatusView {
  const workflowId = `otto-seller:${sellerId}`;
  return {
    sellerId,
    state: 'active',
    appVersion: 'v1',
    partnerId: 'P-1',
    installationId: 'inst-1',
    scopes: ['orders', 'availability'],
    token: {
      expiresAt: '2030-01-01T00:30:00.000Z',
      lastRefreshedAt: '2030-01-01T00:00:00.000Z',
      nextRefreshAt: '2030-01-01T00:25:00.000Z',
      refreshCount: 1,
    },
    pendingConsent: null,
    transfers: {},
    health: { failing: [], incident: null, revocationSuspectedAt: null, refusals: 0 },
    upgradeAvailable: false,
    lastError: null,
    events: [{ at: '2030-01-01T00:00:00.000Z', type: 'authorized', detail: 'app v1 installed' }],
    webhooks: [],
    temporal: {
      workflowId,
      runId: 'run-1',
      uiUrl: `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}/run-1/history`,
    },
    ...overrides,
  };
}

export class FakeSellerConnections implements SellerConnections {
  readonly calls: RecordedCall[] = [];
  readonly sellers = new Map<string, { status: StatusView; running: boolean }>();
  /** The next call of that method throws this (once). */
  readonly failNext = new Map<PortMethod, Error>();
  /** Every call throws this while set (e.g. Temporal unavailable). */
  failAll: Error | undefined;
  /** The sealed invitation link of each seller's pending consent (the workflow keeps it in its state). */
  private readonly invitations = new Map<string, string | null>();

  /** Writes that changed something: a callback the workflow refused (replayed, stale) changed nothing. */
  get writes(): RecordedCall[] {
    return this.calls.filter(
      (c) => WRITES.has(c.method) && (c.method !== 'deliverCallback' || this.delivered.includes(c)),
    );
  }

  /** The (fake) workflow has already taken an answer for this consent. */
  markAnswered(sellerId: string, nonce: string): void {
    const consent = this.consents.get(sellerId) ?? { answered: new Set<string>() };
    consent.answered.add(nonce);
    this.consents.set(sellerId, consent);
  }
  /** Callbacks the (fake) workflow accepted as a consent's answer; refused ones are not in here. */
  get signals(): RecordedCall[] {
    return this.delivered;
  }
  private readonly delivered: RecordedCall[] = [];
  /** Per seller: the pending consent's nonce (from beginConsent) and the nonces already answered. */
  private readonly consents = new Map<string, { pending?: string; answered: Set<string> }>();

  setSeller(sellerId: string, overrides: Partial<StatusView> = {}, running = true): StatusView {
    const status = statusView(sellerId, overrides);
    this.sellers.set(sellerId, { status, running });
    this.invitations.delete(sellerId);
    this.consents.delete(sellerId);
    return status;
  }

  private record(method: PortMethod, args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failAll) throw this.failAll;
    const once = this.failNext.get(method);
    if (once) {
      this.failNext.delete(method);
      throw once;
    }
  }

  private existing(sellerId: string): { status: StatusView; running: boolean } {
    const found = this.sellers.get(sellerId);
    if (!found) throw new SellerConnectionError('not_connected', `seller ${sellerId} never connected`);
    return found;
  }

  private command(sellerId: string, state: ConnectionState): { state: ConnectionState } {
    const found = this.existing(sellerId);
    if (!found.running)
      throw new SellerConnectionError('connection_ended', `the connection of seller ${sellerId} has ended`);
    found.status = { ...found.status, state };
    return { state };
  }

  async beginConsent(...args: Parameters<SellerConnections['beginConsent']>): Promise<BeginConsentResult> {
    this.record('beginConsent', args);
    const [input] = args;
    const consent = this.consents.get(input.sellerId) ?? { answered: new Set<string>() };
    this.consents.set(input.sellerId, { ...consent, pending: input.nonce });
    const deadline = '2030-01-02T00:00:00.000Z';
    const found = this.sellers.get(input.sellerId);
    // As the workflow does: "Allow access" clicked again for a private app keeps the invitation link
    // of the pending consent of the same version, and a private app's consent needs one.
    const pending = found?.running ? found.status.pendingConsent : null;
    const kept =
      pending?.appVersion === input.appVersion ? (this.invitations.get(input.sellerId) ?? null) : null;
    const sealedInvitationUrl = input.sealedInvitationUrl ?? kept;
    if (input.invitationRequired === true && sealedInvitationUrl === null) {
      throw new SellerConnectionError(
        'invalid_input',
        `app ${input.appVersion} is a private OTTO app: start the consent with an invitation link (invitationUrl) generated in OPC`,
      );
    }
    const state =
      found?.running && found.status.state !== 'pending_consent' ? found.status.state : 'pending_consent';
    this.setSeller(input.sellerId, {
      state,
      appVersion: found?.status.appVersion ?? null,
      pendingConsent: { appVersion: input.appVersion, deadline },
    });
    this.invitations.set(input.sellerId, sealedInvitationUrl);
    return await Promise.resolve({
      state,
      appVersion: input.appVersion,
      nonce: input.nonce,
      consentDeadline: deadline,
      sealedInvitationUrl,
    });
  }
  /** Like the workflow's update validator: one answer per consent, and only for the current one. */
  async deliverCallback(...args: Parameters<SellerConnections['deliverCallback']>) {
    this.record('deliverCallback', args);
    const [sellerId, callback] = args;
    const found = this.existing(sellerId);
    if (!found.running)
      throw new SellerConnectionError('connection_ended', `the connection of seller ${sellerId} has ended`);
    const consent = this.consents.get(sellerId) ?? { answered: new Set<string>() };
    this.consents.set(sellerId, consent);
    if (consent.answered.has(callback.nonce))
      throw new SellerConnectionError('callback_replayed', 'this consent was already answered');
    if (consent.pending !== undefined && consent.pending !== callback.nonce)
      throw new SellerConnectionError('callback_stale', 'the callback belongs to an earlier consent');
    consent.answered.add(callback.nonce);
    this.delivered.push(this.calls.at(-1)!);
    const outcome = callback.sealedCode === undefined ? ('answered' as const) : ('authorizing' as const);
    return await Promise.resolve({ state: found.status.state, outcome });
  }
  /** The summary, as the real adapter reads it from the workflow's memo: no events, no webhooks. */
  async status(sellerId: string): Promise<StatusSummaryView> {
    this.record('status', [sellerId]);
    const { events: _events, webhooks: _webhooks, ...summary } = this.existing(sellerId).status;
    return await Promise.resolve(summary);
  }
  async fullStatus(sellerId: string): Promise<StatusView> {
    this.record('fullStatus', [sellerId]);
    return await Promise.resolve(this.existing(sellerId).status);
  }
  async summary(sellerId: string): Promise<ConnectionSummary | null> {
    this.record('summary', [sellerId]);
    const found = this.sellers.get(sellerId);
    if (!found) return null;
    const { status, running } = found;
    const { events: _events, webhooks: _webhooks, temporal: _temporal, ...memo } = status;
    return await Promise.resolve({
      sellerId,
      state: status.state,
      appVersion: status.appVersion,
      partnerId: status.partnerId,
      running,
      executionStatus: running ? 'RUNNING' : 'COMPLETED',
      startedAt: '2030-01-01T00:00:00.000Z',
      closedAt: running ? null : '2030-01-01T01:00:00.000Z',
      temporal: status.temporal,
      status: memo,
    });
  }
  /** Pages over the sellers in the order they were set; the cursor is `fake-<offset>`. */
  async list(...args: Parameters<SellerConnections['list']>): Promise<ConnectionPage> {
    this.record('list', args);
    const [{ state, pageSize, cursor }] = args;
    const offset = cursor === undefined ? 0 : Number(/^fake-(\d+)$/.exec(cursor)?.[1] ?? NaN);
    if (!Number.isInteger(offset))
      throw new SellerConnectionError('invalid_cursor', 'not a cursor this API issued');
    const out: ConnectionSummary[] = [];
    for (const sellerId of this.sellers.keys()) {
      const s = await this.summary(sellerId);
      if (s && (state === undefined || s.state === state)) out.push(s);
    }
    const end = offset + pageSize;
    return { items: out.slice(offset, end), nextCursor: end < out.length ? `fake-${end}` : null };
  }
  async disconnect(...args: Parameters<SellerConnections['disconnect']>) {
    this.record('disconnect', args);
    return await Promise.resolve(this.command(args[0], 'disconnected'));
  }
  async pause(...args: Parameters<SellerConnections['pause']>) {
    this.record('pause', args);
    return await Promise.resolve(this.command(args[0], 'paused'));
  }
  async resume(...args: Parameters<SellerConnections['resume']>) {
    this.record('resume', args);
    return await Promise.resolve(this.command(args[0], 'active'));
  }
  async runTransferNow(...args: Parameters<SellerConnections['runTransferNow']>) {
    this.record('runTransferNow', args);
    this.existing(args[0]);
    return await Promise.reject(
      new SellerConnectionError(
        'not_supported',
        'the running seller workflow does not handle this command yet',
      ),
    );
  }
  async redeliverWebhook(...args: Parameters<SellerConnections['redeliverWebhook']>) {
    this.record('redeliverWebhook', args);
    this.existing(args[0]);
    const [sellerId, eventId] = args;
    const known = (this.sellers.get(sellerId)?.status.webhooks ?? []).some((w) => w.eventId === eventId);
    if (!known) {
      return await Promise.reject(
        new SellerConnectionError('webhook_not_found', `seller ${sellerId} has no webhook ${eventId}`),
      );
    }
    return await Promise.resolve({ eventId, status: 'pending' as const });
  }
  /** Sellers whose next applySettings update fails with this message (once each). */
  readonly applySettingsFailures = new Map<string, string>();
  /** How many times each seller took applySettings. */
  readonly settingsApplied = new Map<string, number>();
  async applySettings() {
    this.record('applySettings', []);
    const running = [...this.sellers].filter(([, s]) => s.running).map(([sellerId]) => sellerId);
    const failed: Array<{ sellerId: string; message: string }> = [];
    for (const sellerId of running) {
      const message = this.applySettingsFailures.get(sellerId);
      if (message !== undefined) {
        this.applySettingsFailures.delete(sellerId);
        failed.push({ sellerId, message });
      } else this.settingsApplied.set(sellerId, (this.settingsApplied.get(sellerId) ?? 0) + 1);
    }
    return await Promise.resolve({
      matched: running.length,
      applied: running.length - failed.length,
      failed,
    });
  }
  async ping() {
    this.record('ping', []);
    await Promise.resolve();
  }
  async countByState() {
    this.record('countByState', []);
    const counts = Object.fromEntries(CONNECTION_STATES.map((s) => [s, 0])) as Record<
      ConnectionState,
      number
    >;
    for (const { status } of this.sellers.values()) counts[status.state] += 1;
    return await Promise.resolve(counts);
  }
}
