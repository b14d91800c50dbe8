import { formatDurationMs, parseDurationMs } from '../../common/duration';

describe('durations', () => {
  it.each([
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['2s', 2_000],
    ['1.5s', 1_500],
    ['1d', 86_400_000],
    ['1200', 1_200],
  ])('parses %s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 'abc', '15 minutes', '-5m', 'm15', '5x'])('rejects %p', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );

  it('formats for people', () => {
    expect(formatDurationMs(5_400_000)).toBe('1h30m');
    expect(formatDurationMs(900_000)).toBe('15m');
    expect(formatDurationMs(250)).toBe('250ms');
  });
});
