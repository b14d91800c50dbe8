import { CancellationScope, CancelledFailure, condition } from '@temporalio/workflow';

/** Settled operations per epoch in the seller workflow: about eight ticks' worth (a timer and a tick each). */
export const SCOPE_EPOCH_OPERATIONS = 16;

/**
 * Cancellable work of a long run, grouped so that what the SDK keeps of it can be let go.
 *
 * Every cancellable operation (a timer, an activity, a `condition()`, a child scope) registers a handler
 * on the cancellation scope it starts in, and the SDK keeps that handler (with the operation's closure:
 * its options, its arguments, the condition's predicate) until that scope is cancelled: for the root
 * scope, until the run ends. A seller's loop starts a handful of them per tick, ≈ 100 ticks a day, all
 * kept until continue-as-new (docs/scaling.md §4, "The handlers themselves: scope epochs").
 *
 * So the loop runs its work in an epoch: a child scope of the root. Once enough work has settled in it
 * and none is still running, the epoch is cancelled (each kept handler then runs once and finds its
 * operation over: no command, nothing cancelled) and a new one begins. What a run still keeps is one
 * handler per epoch on the root. A cancellation of the whole workflow reaches the epoch and whatever
 * runs in it as it reached the root's work before. The loop itself runs in a scope that cannot be
 * cancelled (`loop`), where its `condition()`s register nothing, and learns of a cancellation of the
 * workflow from one handler (`wait`).
 *
 * Each of these costs no promise more than the plain calls did: the SDK captures a source-mapped stack
 * trace for every promise a workflow creates, which is most of a workflow thread's CPU.
 */
export class ScopeEpoch {
  /** The scope the epochs are children of: the one current where the epoch was made (the root). */
  private readonly parent = CancellationScope.current();
  private scope = new CancellationScope({ cancellable: true, parent: this.parent });
  /** Where `loop` runs: not cancellable, so the conditions it waits on leave no handler anywhere. */
  private readonly waits = new CancellationScope({ cancellable: false, parent: this.parent });
  /** The cancellation of the parent (the workflow), once it came: `wait` throws it. */
  private cancelled: Error | null = null;
  private settled = 0;
  private running = 0;

  /** @param every how many settled operations an epoch holds before it may be replaced */
  constructor(private readonly every: number) {
    // One handler for the run: the loop's waits learn of the workflow's cancellation from it.
    void this.parent.cancelRequested.catch((err: unknown) => {
      // The SDK rejects with a CancelledFailure; anything else is passed on as one.
      this.cancelled = err instanceof Error ? err : new CancelledFailure(String(err));
    });
  }

  /**
   * A new scope in the current epoch for one operation, counted as running until `done()` (call it
   * exactly once, when the operation has settled), so the epoch is never replaced under it.
   */
  child(): CancellationScope {
    this.running++;
    return new CancellationScope({ cancellable: true, parent: this.scope });
  }

  /** The operation of a `child()` has settled. */
  done(): void {
    this.running--;
    this.settled++;
  }

  /** Runs `work` in a `child()` of its own (one promise more than `child()`/`done()` by hand). */
  run<T>(work: () => Promise<T>): Promise<T> {
    const scope = this.child();
    return scope.run(work).then(
      (value) => {
        this.done();
        return value;
      },
      (err: unknown) => {
        this.done();
        throw err;
      },
    );
  }

  /**
   * Runs the workflow's loop in a scope that cannot be cancelled, so the `condition()`s it waits on
   * register no handler (they would on the root, for the run's life); its waits go through `wait`,
   * which ends them when the workflow is cancelled. Work the loop starts must be given a scope of its own
   * (`child()`, `run`): it would not be cancellable here.
   */
  loop<T>(body: () => Promise<T>): Promise<T> {
    return this.waits.run(body);
  }

  /**
   * `condition(fn)` (with a timeout: `condition(fn, timeoutMs, options)`, true when `fn` held) that throws
   * the workflow's cancellation once it comes, as a condition in the root scope would.
   */
  wait(fn: () => boolean): Promise<void>;
  wait(fn: () => boolean, timeoutMs: number, options?: { summary?: string }): Promise<boolean>;
  wait(fn: () => boolean, timeoutMs?: number, options?: { summary?: string }): Promise<boolean | void> {
    const holds = () => this.cancelled !== null || fn();
    const waiting =
      timeoutMs === undefined
        ? condition(holds)
        : options === undefined
          ? condition(holds, timeoutMs)
          : condition(holds, timeoutMs, options);
    return waiting.then((result) => {
      if (this.cancelled !== null) throw this.cancelled;
      return result;
    });
  }

  /**
   * Starts a new epoch when the current one holds enough settled work and nothing runs in it; returns
   * whether it did. Call it where the workflow starts nothing meanwhile (the top of its loop).
   */
  renew(): boolean {
    if (this.running > 0 || this.settled < this.every) return false;
    this.scope.cancel();
    this.scope = new CancellationScope({ cancellable: true, parent: this.parent });
    this.settled = 0;
    return true;
  }
}
