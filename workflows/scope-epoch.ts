import { CancellationScope } from '@temporalio/workflow';

/** Settled operations per epoch in the seller workflow: a few ticks' worth (each starts ≈ 5). */
export const SCOPE_EPOCH_OPERATIONS = 32;

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
 * runs in it as it reached the root's work before.
 */
export class ScopeEpoch {
  /** The scope the epochs are children of: the one current where the epoch was made (the root). */
  private readonly parent = CancellationScope.current();
  private scope = new CancellationScope({ cancellable: true, parent: this.parent });
  private settled = 0;
  private running = 0;

  /** @param every how many settled operations an epoch holds before it may be replaced */
  constructor(private readonly every: number) {}

  /** A new scope inside the current epoch, for work that must be cancellable on its own. */
  child(): CancellationScope {
    return new CancellationScope({ cancellable: true, parent: this.scope });
  }

  /**
   * Runs `work` in `scope` (a child from `child()`; the epoch itself by default), counted as running
   * until it settles, so the epoch is never replaced under it.
   */
  run<T>(work: () => Promise<T>, scope: CancellationScope = this.scope): Promise<T> {
    this.running++;
    // One promise more than the work's, not an async function's two: the SDK captures a stack trace for
    // every promise a workflow creates.
    return scope.run(work).then(
      (value) => {
        this.settle();
        return value;
      },
      (err: unknown) => {
        this.settle();
        throw err;
      },
    );
  }

  private settle(): void {
    this.running--;
    this.settled++;
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
