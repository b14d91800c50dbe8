import { DAY_MS, nextDailyAt, nextDueAt, zoneOffsetMs } from '../../workflows/schedule';

describe('transfer schedule', () => {
  it('knows Berlin winter and summer time', () => {
    expect(zoneOffsetMs(Date.parse('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(zoneOffsetMs(Date.parse('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
  });

  it.each([
    ['2026-01-15T00:30:00Z', '2026-01-15T01:00:00Z'], // 01:30 Berlin → 02:00 Berlin the same night
    ['2026-01-15T01:30:00Z', '2026-01-16T01:00:00Z'], // 02:30 Berlin → tomorrow 02:00 Berlin (01:00Z)
    ['2026-01-14T23:30:00Z', '2026-01-15T01:00:00Z'], // 00:30 Berlin → today 02:00 Berlin
    ['2026-07-15T10:00:00Z', '2026-07-16T00:00:00Z'], // summer: 02:00 Berlin is 00:00Z
    ['2026-03-28T12:00:00Z', '2026-03-29T01:00:00Z'], // the night clocks jump 02:00 → 03:00: 02:00 CET doesn't exist, 03:00 CEST = 01:00Z
  ])('nightly at 02:00 Berlin after %s is %s', (after, expected) => {
    expect(new Date(nextDailyAt(Date.parse(after), 2, 'Europe/Berlin')).toISOString()).toBe(
      new Date(expected).toISOString(),
    );
  });

  it('uses plain intervals unless the interval is a day with an hour', () => {
    const t = Date.parse('2026-01-15T10:00:00Z');
    expect(nextDueAt(t, 900_000, 2, 'Europe/Berlin')).toBe(t + 900_000);
    expect(nextDueAt(t, DAY_MS, null, 'Europe/Berlin')).toBe(t + DAY_MS);
    expect(new Date(nextDueAt(t, DAY_MS, 2, 'Europe/Berlin')).toISOString()).toBe('2026-01-16T01:00:00.000Z');
  });
});
