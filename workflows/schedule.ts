/**
 * When a transfer is due next. Pure and deterministic (Intl's time-zone data, no clock): safe in the
 * workflow sandbox and unit-tested without a server.
 */

/**
 * One formatter per time zone: building an Intl.DateTimeFormat costs far more than using one. Shared by
 * every seller of the worker's context (the module is preloaded): a pure memo, the same answer for the
 * same zone whoever asks first, so nothing of one seller reaches another.
 */
// eslint-disable-next-line no-restricted-syntax -- a pure memo (see above), not a seller's state
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of `timeZone` from UTC at `at`, in ms (Europe/Berlin: +1 h in winter, +2 h in summer). */
export function zoneOffsetMs(at: number, timeZone: string): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(at / 1_000) * 1_000;
}

/** The instant the wall clock in `timeZone` shows `hour`:00 on a local date (after a DST gap: the first instant after it). */
function atLocalHour(year: number, month: number, day: number, hour: number, timeZone: string): number {
  const wall = Date.UTC(year, month, day, hour);
  const hourAt = (t: number) => new Date(t + zoneOffsetMs(t, timeZone)).getUTCHours();
  const before = wall - zoneOffsetMs(wall - 3 * 3_600_000, timeZone);
  const after = wall - zoneOffsetMs(wall + 3 * 3_600_000, timeZone);
  const matches = [before, after].filter((t) => hourAt(t) === hour);
  return matches.length > 0 ? Math.min(...matches) : Math.max(before, after);
}

/** The next time strictly after `after` at which the wall clock in `timeZone` shows `hour`:00. */
export function nextDailyAt(after: number, hour: number, timeZone: string): number {
  const local = new Date(after + zoneOffsetMs(after, timeZone));
  for (let d = 0; ; d++) {
    const candidate = atLocalHour(
      local.getUTCFullYear(),
      local.getUTCMonth(),
      local.getUTCDate() + d,
      hour,
      timeZone,
    );
    if (candidate > after) return candidate;
  }
}

export const DAY_MS = 24 * 3_600_000;

/**
 * The next run of a transfer: a plain interval, except that a daily interval with a configured hour runs
 * at that hour (prices go out nightly, docs/otto-api.md §6).
 */
export function nextDueAt(
  after: number,
  intervalMs: number,
  dailyHour: number | null,
  timeZone: string,
): number {
  if (intervalMs === DAY_MS && dailyHour !== null) return nextDailyAt(after, dailyHour, timeZone);
  return after + intervalMs;
}
