/** Helpers shared by the activity tests (MockActivityEnvironment). */
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';

/** Options for a MockActivityEnvironment that logs only errors. */
export const quiet = () => ({ logger: new DefaultLogger('ERROR') });

/** The ApplicationFailure `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

/**
 * Requests a fake OTTO leaves hanging: no answer until the request's signal aborts, then a rejection
 * with the abort reason, as fetch does. `hung` keeps their signals in order; `hanging` resolves once one
 * hangs.
 */
export function hangingRequests() {
  const hung: AbortSignal[] = [];
  let onHang: () => void = () => undefined;
  const hanging = new Promise<void>((resolve) => (onHang = resolve));
  const hang = (init: RequestInit | undefined): Promise<Response> => {
    const signal = init!.signal!;
    hung.push(signal);
    onHang();
    return new Promise<Response>((_, reject) =>
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
    );
  };
  return { hung, hanging, hang };
}

/** Waits (polling every 10 ms) until `holds()` is true; fails after `timeoutMs` naming `what`. */
export async function until(what: string, holds: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
