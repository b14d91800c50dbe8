/**
 * `runTick`: every transfer due at the same time, in one activity (one schedule, one completion in the
 * seller's history instead of one per transfer and one per mint). Tokens just in time: the carried token
 * is used while it lasts through the run (`reserveMs`); otherwise one mint, shared by every transfer of
 * the tick (single flight), and again only when OTTO rejects a token mid-run or a long run outlives it —
 * a transfer never sends a token that is about to expire (the OTTO client refuses to, TokenExpiring).
 *
 * The tick reports instead of throwing: a refused or failed mint comes back as `mintFailure` (the
 * workflow's token policy weighs it: revocation evidence, incident, backoff), each transfer's result or
 * failure per kind. Retryable transfer failures are retried inside the tick for `retryWindowMs`, backing
 * off 1, 2, 4 … 30 s, never sooner than OTTO's Retry-After; a wait that would end past the window ends
 * the kind with its failure instead (the workflow's schedule takes over). Its
 * heartbeat details are the result so far (a mint at once, other progress coalesced, at most
 * `heartbeatDelayMs` late): a retried attempt skips what is done and resumes the rest; a cancelled tick
 * hands them back in the CancelledFailure.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time';
import {
  FailureTypes,
  NON_RETRYABLE_FAILURE_TYPES,
  type TransferKind,
  type TransferResult,
} from '../workflows/definitions';
import type { SealedToken, TickInput, TickResult, TickRun } from '../workflows/tick-types';
import { waitWithHeartbeats, type WaitOptions } from './activity-waits';
import type { TokenService } from './token-activities';
import { isTokenHandle, type TokenVault } from './token-vault';
import { runWithContext, type RunContext, type TransferActivities } from './transfer-activities';

/** New tokens one transfer may ask for within a tick. */
const MAX_REMINTS = 3;

export interface TickActivityDeps {
  tokens: Pick<TokenService, 'mint'>;
  transfers: Pick<TransferActivities, TransferKind>;
  /**
   * Where minted tokens are kept (activities/token-vault.ts): the tick's result and heartbeats then
   * carry a handle instead of the sealed token. Without one they carry the sealed token.
   */
  vault?: TokenVault;
  now?: () => number;
  heartbeatEveryMs?: number;
  /**
   * Progress is heartbeated at most this long after it was made, coalesced: a tick that ends sooner
   * (most do) sends no heartbeat at all (default 2 s). The SDK core throttles what reaches the server
   * anyway (its first heartbeat goes out at once, the rest at 0.8 × the heartbeat timeout); a
   * cancellation or a worker shutdown hands back the current result in the failure's details whatever
   * was heartbeated. A worker that dies within this delay loses that much progress: the retry redoes
   * it (every transfer resumes idempotently from its cursor).
   */
  heartbeatDelayMs?: number;
  /** Waits between a transfer's tries (default: waitWithHeartbeats, ending early on cancellation); tests inject a clock. */
  sleep?: (ms: number, options: WaitOptions) => Promise<void>;
}

function failureText(err: unknown): { type?: string; message: string } {
  if (err instanceof ApplicationFailure) return { type: err.type ?? undefined, message: err.message };
  if (err instanceof Error) return { type: err.name, message: err.message };
  return { message: String(err) };
}

/** How long the failure asks to wait before the next try (OTTO's Retry-After on a 429), 0 for no wish. */
function retryDelayOf(err: unknown): number {
  if (!(err instanceof ApplicationFailure) || err.nextRetryDelay == null) return 0;
  try {
    const ms = msToNumber(err.nextRetryDelay);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  } catch {
    return 0;
  }
}

function retryable(err: unknown): boolean {
  if (!(err instanceof ApplicationFailure)) return true;
  return !err.nonRetryable && !NON_RETRYABLE_FAILURE_TYPES.includes(err.type ?? '');
}

/** The saved result of an earlier attempt of this tick (heartbeat details), when it has the right shape. */
function savedResult(details: unknown): TickResult | null {
  if (details === null || typeof details !== 'object') return null;
  const d = details as Partial<TickResult>;
  if (typeof d.mints !== 'number' || typeof d.outcomes !== 'object' || typeof d.progress !== 'object')
    return null;
  return {
    minted: d.minted ?? null,
    mints: d.mints,
    mintFailure: null,
    outcomes: d.outcomes ?? {},
    progress: d.progress ?? {},
  };
}

export function createTickActivities(deps: TickActivityDeps) {
  const now = deps.now ?? Date.now;
  const heartbeatEveryMs = deps.heartbeatEveryMs ?? 5_000;
  const heartbeatDelayMs = deps.heartbeatDelayMs ?? 2_000;
  const sleep = deps.sleep ?? waitWithHeartbeats;
  const { vault } = deps;

  type Log = Context['log'];
  /**
   * The token a handle names, from the vault; null (so the tick mints) when the handle no longer opens
   * or the vault cannot be read. A sealed token is used as it is.
   */
  async function opened(input: TickInput, token: SealedToken | null, log: Log): Promise<SealedToken | null> {
    if (token === null || !isTokenHandle(token.sealed)) return token;
    let sealed: string | null;
    try {
      sealed = (await vault?.open(input.sellerId, input.installationId, token.sealed)) ?? null;
    } catch (err) {
      log.warn('token vault unreadable: minting a new token', { error: failureText(err).message });
      return null;
    }
    if (sealed === null) log.info('the carried token is no longer in the vault: minting a new one');
    return sealed === null ? null : { sealed, expiresAt: token.expiresAt };
  }

  /** What the workflow carries for a new token: its handle, or the sealed token when the vault cannot keep it. */
  async function kept(input: TickInput, token: SealedToken, log: Log): Promise<string> {
    if (vault === undefined) return token.sealed;
    try {
      return await vault.keep(input.sellerId, input.installationId, token.sealed, token.expiresAt);
    } catch (err) {
      log.warn('token vault unwritable: the workflow carries the sealed token', {
        error: failureText(err).message,
      });
      return token.sealed;
    }
  }

  return {
    runTick: async (input: TickInput): Promise<TickResult> => {
      const ctx = Context.current();
      const signal = ctx.cancellationSignal;
      const state: TickResult = savedResult(ctx.info.heartbeatDetails) ?? {
        minted: null,
        mints: 0,
        mintFailure: null,
        outcomes: {},
        progress: {},
      };
      // What the workflow (or a retried attempt's heartbeat) carries: possibly a vault handle, opened
      // below only when the tick uses the token rather than minting anyway.
      let token: SealedToken | null =
        state.minted !== null
          ? { sealed: state.minted.sealed, expiresAt: state.minted.expiresAt }
          : input.token;
      const snapshot = (): TickResult => structuredClone(state);
      // Snapshotted (cloned, serialized, handed to the SDK) once per delay, not per request.
      let pendingBeat: ReturnType<typeof setTimeout> | undefined;
      const beatNow = () => {
        clearTimeout(pendingBeat);
        pendingBeat = undefined;
        ctx.heartbeat(snapshot());
      };
      const beat = () => {
        pendingBeat ??= setTimeout(beatNow, heartbeatDelayMs);
      };
      try {
        const waiting = { signal, heartbeat: beat, heartbeatEveryMs };
        /**
         * How a stopped tick ends. Cancelled by its workflow (end of the connection, drain): a
         * CancelledFailure with what it did. Stopped because this worker shuts down: a retryable failure,
         * so another worker retries it at once (from the heartbeated result) instead of after the
         * heartbeat timeout.
         */
        const cancelled = () =>
          ctx.cancellationDetails?.workerShutdown === true
            ? ApplicationFailure.create({
                type: 'WorkerShutdown',
                message: 'the worker shut down during the tick; another worker resumes it',
                details: [snapshot()],
              })
            : new CancelledFailure(
                `tick cancelled (${signal.reason instanceof Error ? signal.reason.message : 'cancelled'}); its progress resumes the next run`,
                [snapshot()],
              );

        let minting: Promise<SealedToken> | null = null;
        /**
         * A token valid until `until` that is not `stale`: the current one if it does, else one mint that
         * every transfer of this tick waiting for a token shares.
         */
        const tokenUntil = async (until: number, stale: SealedToken | null): Promise<SealedToken> => {
          if (token !== null && token !== stale && token.expiresAt >= until) return token;
          minting ??= (async () => {
            try {
              const m = await deps.tokens.mint(
                {
                  sellerId: input.sellerId,
                  appVersion: input.appVersion,
                  installationId: input.installationId,
                },
                waiting,
              );
              token = { sealed: m.sealedToken, expiresAt: m.expiresAt };
              const carried = await kept(input, token, ctx.log);
              state.minted = { sealed: carried, expiresAt: m.expiresAt, scopes: m.scopes, mintedAt: now() };
              state.mints += 1;
              // At once: a retry after a crash must not spend another mint.
              beatNow();
              return token;
            } finally {
              minting = null;
            }
          })();
          return await minting;
        };

        // A token that lasts through the run. The probe mints anyway (only a mint shows a revocation), and
        // so does a tick whose token the mint phase spread retired, unless a retried attempt already did.
        const mintAnyway = input.probe || input.retire === true;
        const needMint = mintAnyway
          ? state.mints === 0
          : token === null || token.expiresAt < now() + input.reserveMs;
        // A handle that does not open leaves no token: the tick mints as if it carried none.
        if (!needMint) token = await opened(input, token, ctx.log);
        if (needMint || token === null) {
          const carried = token;
          try {
            await tokenUntil(now() + input.reserveMs, mintAnyway ? token : null);
          } catch (err) {
            if (err instanceof CancelledFailure || signal.aborted) throw cancelled();
            state.mintFailure = failureText(err);
            // The probe's (or the retiring tick's) mint failed for a passing reason (OTTO down, rate, an
            // incident), but the carried token still lasts through the run: the due transfers go on with
            // it rather than wait until it expires. A refusal (possible revocation) stops them: a transfer
            // that worked would count against the evidence.
            const stillValid =
              mintAnyway && input.runs.length > 0 && retryable(err) && carried !== null
                ? await opened(input, carried, ctx.log)
                : null;
            if (stillValid === null || stillValid.expiresAt < now() + input.reserveMs) return snapshot();
            token = stillValid;
          }
        }

        const runKind = async (run: TickRun): Promise<void> => {
          let remints = 0;
          let rejectedOnce = false;
          let attempt = 0;
          const giveUpAt = now() + input.retryWindowMs;
          for (;;) {
            const used = token!;
            const kindCtx: RunContext = {
              heartbeat: (details) => {
                state.progress[run.kind] = details;
                beat();
              },
              cancellationSignal: signal,
              log: ctx.log,
              heartbeatDetails: state.progress[run.kind],
            };
            let result: TransferResult;
            try {
              result = await runWithContext(kindCtx, () =>
                deps.transfers[run.kind]({
                  sellerId: input.sellerId,
                  partnerId: input.partnerId,
                  sealedToken: used.sealed,
                  tokenExpiresAt: used.expiresAt,
                  cursor: run.cursor,
                  full: run.full,
                  ...(run.resume === undefined ? {} : { resume: run.resume }),
                }),
              );
            } catch (err) {
              const details = (err as { details?: unknown[] } | null)?.details;
              if (Array.isArray(details) && details[0] !== undefined) state.progress[run.kind] = details[0];
              if (err instanceof CancelledFailure || signal.aborted) return;
              const type = err instanceof ApplicationFailure ? err.type : undefined;
              // A token about to expire is replaced (a long run outlives its token); one OTTO rejected is
              // replaced once. Bounded, so a token endpoint issuing tokens that expire at once cannot loop.
              const replace =
                (type === FailureTypes.tokenExpiring && remints < MAX_REMINTS) ||
                (type === FailureTypes.tokenRejected && !rejectedOnce);
              if (replace) {
                remints += 1;
                if (type === FailureTypes.tokenRejected) rejectedOnce = true;
                try {
                  await tokenUntil(now() + input.reserveMs, used);
                } catch (mintErr) {
                  if (mintErr instanceof CancelledFailure || signal.aborted) return;
                  // Not this transfer's failure: the token policy weighs it; the kind resumes next tick.
                  state.mintFailure = failureText(mintErr);
                  return;
                }
                continue;
              }
              // OTTO's Retry-After (a RateLimited failure's nextRetryDelay) is a floor: never sooner.
              const wait = Math.max(Math.min(30_000, 1_000 * 2 ** attempt), retryDelayOf(err));
              if (retryable(err) && now() + wait < giveUpAt) {
                attempt += 1;
                try {
                  await sleep(wait, { signal, heartbeat: beat, heartbeatEveryMs });
                } catch (waitErr) {
                  if (waitErr instanceof CancelledFailure || signal.aborted) return;
                  throw waitErr;
                }
                if (signal.aborted) return;
                continue;
              }
              state.outcomes[run.kind] = { failed: failureText(err), progress: state.progress[run.kind] };
              delete state.progress[run.kind];
              beat();
              return;
            }
            state.outcomes[run.kind] = { ok: result };
            delete state.progress[run.kind];
            beat();
            return;
          }
        };

        await Promise.all(input.runs.filter((run) => state.outcomes[run.kind] === undefined).map(runKind));
        if (signal.aborted) throw cancelled();
        return snapshot();
      } finally {
        clearTimeout(pendingBeat);
      }
    },
  };
}

export type TickActivities = ReturnType<typeof createTickActivities>;
