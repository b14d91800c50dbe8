/**
 * The decision core: given the seller's state, the clock and this run's situation, what to do next.
 * Pure: the workflow calls it in a loop, executes each action (or applies its pure change), and waits
 * when told to. Every timing rule lives here or in the state's predicates, so it is unit-tested for
 * every state and trigger without a server (test/unit/decision-core.test.ts).
 */
import type { AppVersion, TransferKind } from './definitions';
import { mintDueAt, validUntil } from './token-policy';
import {
  anyTransferRunning,
  probeDueAt,
  mintLeadTick,
  retiresBy,
  reuseTick,
  tickKinds,
  tokenReserveMs,
  consentExpired,
  dueTransfers,
  fullResyncDue,
  isConnected,
  isOver,
  skipReason,
  tokenReadyFor,
  transfersAllowed,
  type Ctx,
  type RunPatches,
  type SellerConnection,
  type TickPlan,
} from './seller-state';

export type Action =
  | { type: 'expireConsent' }
  | { type: 'authorize' }
  | { type: 'mint'; installationId: string; appVersion: AppVersion }
  | { type: 'tokenExpired' }
  | { type: 'transfer'; kind: TransferKind; full: boolean; skip: string | null }
  | { type: 'tick'; plan: TickPlan }
  | { type: 'cancelTransfers' }
  | { type: 'continueAsNew' }
  | { type: 'finish' }
  | { type: 'wait'; until: number | null };

/** What only the running workflow knows. */
export interface RunSituation {
  /** Since when this run drains for continue-as-new (history long enough), or null. */
  drainingSince: number | null;
  /** Every update and signal handler has finished. */
  handlersFinished: boolean;
  /** This run's patch flags (docs/versioning.md). */
  patches?: RunPatches;
  /** Running transfers were already asked to stop. */
  cancelRequested: boolean;
  /** A webhook delivery of this run is still running (an attempt, or the backoff before the next). */
  webhooksInFlight?: boolean;
}

/**
 * Ticks (patch `jitTicks`): the transfers due together and the revocation probe run in one activity
 * that mints only when the carried token will not last through the run; never before a failed mint's
 * backoff. Pushes what to wake for into `wakeAt`.
 */
function decideTick(s: SellerConnection, c: Ctx, draining: boolean, wakeAt: number[]): Action | null {
  const { now, settings } = c;
  if (s.token.minting || anyTransferRunning(s)) return null; // one tick at a time; its end wakes us
  const transfersNow = transfersAllowed(s) && !draining;
  // An early tick that reuses the carried token (seller-state.ts reuseTick): its due time's transfers.
  // Woken too late for the token (a late timer), it still runs now and mints: no second timer.
  const reuse = transfersNow ? reuseTick(s, c) : null;
  const early = reuse !== null && now >= reuse.startAt;
  // A tick that will mint starts the mint lead early (seller-state.ts mintLeadTick), its due time's transfers.
  const lead = transfersNow && reuse === null ? mintLeadTick(s, c) : null;
  const leading = lead !== null && now >= lead.startAt;
  const dueBy = early ? Math.max(now, reuse.dueAt) : leading ? Math.max(now, lead.dueAt) : now;
  const kinds = transfersNow ? tickKinds(s, dueBy) : [];
  for (const kind of kinds) {
    const skip = skipReason(s, settings, kind, c.patches);
    if (skip !== null) return { type: 'transfer', kind, full: false, skip };
  }
  const probeAt = draining ? null : probeDueAt(s, c);
  const probe = probeAt !== null && probeAt <= now;
  if (kinds.length > 0 || probe) {
    const retryAt = s.token.retryAt ?? 0;
    if (now >= retryAt) {
      const reserve = early ? tokenReserveMs(settings) : settings.tokenRefreshMarginMs;
      // Retired (the mint phase spread): mints although the token would last (which a failed mint then uses).
      const retire = validUntil(s.token, now + reserve) && retiresBy(s.token, now);
      const mints = probe || retire || (leading && kinds.length > 0) || !validUntil(s.token, now + reserve);
      const plan = {
        kinds: kinds.map((kind) => ({ kind, full: fullResyncDue(s, c, kind) })),
        probe,
        mints,
        ...(retire ? { retire } : {}),
      };
      return { type: 'tick', plan };
    }
    wakeAt.push(retryAt);
  }
  if (probeAt !== null && probeAt > now) wakeAt.push(probeAt);
  if (reuse !== null && reuse.startAt > now) wakeAt.push(reuse.startAt);
  if (lead !== null && lead.startAt > now) wakeAt.push(lead.startAt);
  if (transfersAllowed(s) && !draining) {
    for (const t of Object.values(s.transfers)) {
      if (!t.running && t.nextDueAt !== null && t.nextDueAt > now) wakeAt.push(t.nextDueAt);
    }
  }
  return null;
}

function busy(s: SellerConnection): boolean {
  return anyTransferRunning(s) || s.token.minting || s.authorization?.running === true;
}

export function decide(s: SellerConnection, c: Ctx, run: RunSituation): Action {
  const { now, settings } = c;
  if (isOver(s)) return busy(s) ? { type: 'wait', until: null } : { type: 'finish' };
  if (consentExpired(s, now)) return { type: 'expireConsent' };
  if (s.authorization !== null && !s.authorization.running) return { type: 'authorize' };

  const draining = run.drainingSince !== null;
  const wakeAt: number[] = [];
  if (s.consent !== null && s.authorization === null) wakeAt.push(s.consent.deadline);

  if (run.patches?.jitTicks === true) {
    if (isConnected(s) && s.installationId !== null && s.appVersion !== null) {
      const tick = decideTick(s, c, draining, wakeAt);
      if (tick !== null) return tick;
    }
  } else if (isConnected(s) && s.installationId !== null && s.appVersion !== null) {
    const token = s.token;
    if (!token.minting && token.expiresAt !== null && !s.health.failing.includes('token')) {
      if (now >= token.expiresAt) return { type: 'tokenExpired' };
      wakeAt.push(token.expiresAt);
    }
    const due = transfersAllowed(s) && !draining ? dueTransfers(s, now) : [];
    const needToken =
      due.some((kind) => skipReason(s, settings, kind, c.patches) === null) && !tokenReadyFor(s, c);
    if (!token.minting) {
      const mintAt = mintDueAt(token, needToken ? now : null);
      if (mintAt !== null && mintAt <= now) {
        return { type: 'mint', installationId: s.installationId, appVersion: s.appVersion };
      }
      if (mintAt !== null) wakeAt.push(mintAt);
    }
    for (const kind of due) {
      const skip = skipReason(s, settings, kind, c.patches);
      if (skip !== null) return { type: 'transfer', kind, full: false, skip };
      if (tokenReadyFor(s, c)) return { type: 'transfer', kind, full: fullResyncDue(s, c, kind), skip: null };
    }
    if (transfersAllowed(s) && !draining) {
      for (const t of Object.values(s.transfers)) {
        if (!t.running && t.nextDueAt !== null && t.nextDueAt > now) wakeAt.push(t.nextDueAt);
      }
    }
  }

  if (draining) {
    const bound = run.drainingSince! + settings.drainTimeoutMs;
    // Patch webhookDrain: a delivery still running holds the continue-as-new until the bound. An attempt
    // the shop accepts after the run closed reaches no workflow, so the next run would send it again;
    // past the bound (the shop is down) the next run takes the delivery over.
    const deliveriesHold = run.patches?.webhookDrain === true && run.webhooksInFlight === true && now < bound;
    if (!busy(s) && run.handlersFinished && !deliveriesHold) return { type: 'continueAsNew' };
    if (deliveriesHold) wakeAt.push(bound);
    if (anyTransferRunning(s) && !run.cancelRequested) {
      if (now >= bound) return { type: 'cancelTransfers' };
      wakeAt.push(bound);
    }
  }
  return { type: 'wait', until: wakeAt.length === 0 ? null : Math.min(...wakeAt) };
}
