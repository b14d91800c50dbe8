/**
 * One tick (patch `jitTicks`, docs/design.md §2 "Tokens when needed"): every transfer due at the same
 * time runs in ONE activity, `runTick`, which carries the seller's current token (sealed) and mints a new
 * one only when that token will not last through the run — just in time, never on a timer. A tick with
 * no transfers and `probe: true` is the revocation probe of a paused or idle seller: it mints so a
 * refusal shows. Types only: the workflow bundle pays nothing for this file.
 */
import type { AppVersion, TransferCursor, TransferKind, TransferResult } from './definitions';

export interface TickRun {
  kind: TransferKind;
  cursor: TransferCursor;
  /** Stock: resend everything (the daily resync). */
  full: boolean;
  /** Progress of an earlier run of this kind that stopped part-way. */
  resume?: unknown;
}

export interface SealedToken {
  /**
   * The token's handle in the workers' token vault (`vault:…`, activities/token-vault.ts), or the sealed
   * token itself (tokens minted before the vault, or when the vault could not keep one).
   */
  sealed: string;
  expiresAt: number;
}

export interface TickInput {
  sellerId: string;
  appVersion: AppVersion;
  installationId: string;
  /** The per-partner rate limit's key (the partner id, or the installation when OTTO gave none). */
  partnerId: string;
  /** The token the workflow carries, if any: used as long as it lasts through `reserveMs`. */
  token: SealedToken | null;
  /** A token used for a run must stay valid this long after the run starts (else: mint first). */
  reserveMs: number;
  /** Mint even when the carried token would do: the revocation probe. */
  probe: boolean;
  /**
   * Mint even when the carried token would do: the mint phase spread retired it (seller-state.ts
   * `spreadRetireAt`). Like the probe, a mint that fails for a passing reason leaves the run the
   * carried token. Absent in ticks scheduled before it existed (they carried no token then).
   */
  retire?: boolean;
  /** Retryable failures of a transfer are retried inside the tick for this long, then reported. */
  retryWindowMs: number;
  runs: TickRun[];
  /**
   * When the tick's transfers were due (ms since the epoch): a tick may start before it (token reuse, the
   * mint lead). For logs and the benchmarks' lateness; absent in ticks scheduled before it existed.
   */
  dueAt?: number;
}

export type TickOutcome =
  { ok: TransferResult } | { failed: { type?: string; message: string }; progress?: unknown };

/** What a tick did; also its heartbeat details, so a retried or cancelled tick loses nothing. */
export interface TickResult {
  /** The newest token this tick minted (the workflow carries it to the next tick), or null. */
  minted: (SealedToken & { scopes: string[]; mintedAt: number }) | null;
  /** How many tokens this tick minted (1 normally; one more per token OTTO rejected mid-run). */
  mints: number;
  /** Minting failed: no transfer ran without a token (revocation evidence, incident, outage). */
  mintFailure: { type?: string; message: string } | null;
  /** Per transfer kind that ran (or stopped with its progress). */
  outcomes: Partial<Record<TransferKind, TickOutcome>>;
  /** Progress of kinds that did not finish (cancellation): the next tick resumes them. */
  progress: Partial<Record<TransferKind, unknown>>;
}
