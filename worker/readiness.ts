/**
 * The worker's `/readyz` follows Temporal: ready while the frontend answers a cheap call (getSystemInfo)
 * within its deadline, checked every `everyMs`; not ready as soon as one check fails or hangs. Set once
 * at start and never again, the compose healthcheck called a worker that could not poll healthy.
 */
export interface ReadinessWatch {
  stop(): void;
}

export function watchReadiness(
  check: (deadlineMs: number) => Promise<unknown>,
  setReady: (ready: boolean) => void,
  options: { everyMs?: number; deadlineMs?: number; log?: (ready: boolean) => void } = {},
): ReadinessWatch {
  const everyMs = options.everyMs ?? 10_000;
  const deadlineMs = options.deadlineMs ?? 5_000;
  let ready: boolean | undefined;
  let stopped = false;
  const set = (now: boolean) => {
    if (stopped) return;
    if (now !== ready) options.log?.(now);
    ready = now;
    setReady(now);
  };
  const once = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer')), deadlineMs);
      timer.unref();
    });
    try {
      await Promise.race([check(deadlineMs), late]);
      set(true);
    } catch {
      set(false);
    } finally {
      clearTimeout(timer);
    }
  };
  void once();
  const interval = setInterval(() => void once(), everyMs);
  interval.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(interval);
    },
  };
}
