/**
 * The installation token's policy, pure: when to mint, how to back off, and what a refusal means. It
 * alone writes the token's fields; transfers only ask "is there a token valid until T" and, when not,
 * put in a demand. Revocation needs evidence (docs/design.md §2): refusals spanning the confirmation window,
 * several of them, with no successful data call in between; a fleet incident is never evidence.
 */
import type { WorkflowSettings } from './definitions';

export interface TokenState {
  /**
   * The installation token's handle in the workers' vault (activities/token-vault.ts), or the sealed
   * token itself (common/seal.ts); the workflow never unseals it, and only compares it.
   */
  sealed: string | null;
  expiresAt: number | null;
  lastRefreshedAt: number | null;
  /** The planned refresh: the margin before expiry (with jitter), never sooner than half the token's life. */
  nextRefreshAt: number | null;
  refreshCount: number;
  /** Consecutive failed mints (any cause); drives the backoff. */
  failures: number;
  /** No mint before this (backoff after a failure). A demand never overrides it. */
  retryAt: number | null;
  /** A mint is running (one at a time). */
  minting: boolean;
  /**
   * Just-in-time ticks: the tick starting at or after this mints even though the token would last (the
   * mint phase spread, seller-state.ts `spreadRetireAt`); null or absent: the token serves until it
   * runs out. Optional because states carried from earlier runs lack it.
   */
  retireAt?: number | null;
  /**
   * Why the last mint failed, while no mint has worked since (what an expiry without a replacement
   * reports). Optional because states carried from earlier runs lack it.
   */
  lastFailure?: string | null;
}

export interface RevocationEvidence {
  /** First refusal of this streak. */
  firstAt: number;
  lastAt: number;
  refusals: number;
}

export function initialToken(): TokenState {
  return {
    sealed: null,
    expiresAt: null,
    lastRefreshedAt: null,
    nextRefreshAt: null,
    refreshCount: 0,
    failures: 0,
    retryAt: null,
    minting: false,
    retireAt: null,
    lastFailure: null,
  };
}

/** A token that stays valid until `until`. */
export function validUntil(token: TokenState, until: number): boolean {
  return token.sealed !== null && token.expiresAt !== null && token.expiresAt >= until;
}

/**
 * When the next mint may start, or null for none planned: the planned refresh, or `demandAt` when a due
 * transfer needs a token the current one cannot be (a transfer can only ask); never before the backoff.
 */
export function mintDueAt(token: TokenState, demandAt: number | null): number | null {
  const due = demandAt === null ? token.nextRefreshAt : Math.min(demandAt, token.nextRefreshAt ?? Infinity);
  if (due === null) return null;
  return Math.max(due, token.retryAt ?? 0);
}

/** A token OTTO refused (401) or that runs out too soon for a transfer: never handed out again. */
export function discardToken(token: TokenState): void {
  token.sealed = null;
}

/**
 * The refresh plan for a token minted at `now`: the margin before expiry minus jitter, but never sooner
 * than half the token's life (a margin ≥ half the life, refused by config, would mint every second).
 */
export function plannedRefresh(
  now: number,
  expiresAt: number,
  settings: WorkflowSettings,
  jitter: number,
): number {
  const life = Math.max(0, expiresAt - now);
  return Math.max(now + Math.floor(life / 2), expiresAt - settings.tokenRefreshMarginMs - jitter);
}

export function onMinted(
  token: TokenState,
  minted: { sealedToken: string; expiresAt: number },
  now: number,
  settings: WorkflowSettings,
  jitter: number,
): void {
  token.sealed = minted.sealedToken;
  token.expiresAt = minted.expiresAt;
  token.lastRefreshedAt = now;
  token.nextRefreshAt = plannedRefresh(now, minted.expiresAt, settings, jitter);
  token.refreshCount += 1;
  token.failures = 0;
  token.retryAt = null;
  token.retireAt = null;
  token.lastFailure = null;
}

/** Backoff after the n-th consecutive failure: 1 s doubling up to the configured maximum. */
export function backoffMs(failures: number, settings: WorkflowSettings): number {
  const base = Math.min(1_000, settings.refreshRetryMaxIntervalMs);
  return Math.min(settings.refreshRetryMaxIntervalMs, base * 2 ** Math.max(0, failures - 1));
}

export function onMintFailed(
  token: TokenState,
  now: number,
  settings: WorkflowSettings,
  message: string,
): void {
  token.failures += 1;
  token.lastFailure = message;
  token.retryAt = now + backoffMs(token.failures, settings);
}

/** Records a refusal; true when the evidence now proves a revocation. */
export function addRefusal(
  evidence: RevocationEvidence | null,
  now: number,
  settings: WorkflowSettings,
): { evidence: RevocationEvidence; confirmed: boolean } {
  const next = evidence
    ? { ...evidence, lastAt: now, refusals: evidence.refusals + 1 }
    : { firstAt: now, lastAt: now, refusals: 1 };
  const confirmed =
    next.refusals >= settings.revocationMinRefusals &&
    next.lastAt - next.firstAt >= settings.revocationConfirmWindowMs;
  return { evidence: next, confirmed };
}

/** Forgets the token (disconnect, revocation): nothing may use the installation after this. */
export function dropToken(token: TokenState): void {
  token.sealed = null;
  token.nextRefreshAt = null;
  token.retryAt = null;
  token.retireAt = null;
}
