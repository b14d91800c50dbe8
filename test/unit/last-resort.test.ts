/** The API's last-resort handlers (api/last-resort.ts): log and keep serving; give up only on a burst. */
import { createLastResort, installLastResort } from '../../api/last-resort';

function recorder() {
  const lines: { level: string; msg: string }[] = [];
  const log = (level: string) => (_obj: unknown, msg?: string) => lines.push({ level, msg: msg ?? '' });
  return { lines, logger: { error: log('error'), fatal: log('fatal') } };
}

describe('last resort', () => {
  it('logs uncaught exceptions and unhandled rejections and keeps serving', () => {
    const { lines, logger } = recorder();
    const gaveUp: string[] = [];
    const handlers = createLastResort({ logger, onGiveUp: (r) => gaveUp.push(r) });
    handlers.uncaughtException(new Error('from a listener'), 'uncaughtException');
    handlers.unhandledRejection(new Error('nobody awaited me'));
    expect(lines.map((l) => l.msg)).toEqual([
      'uncaught exception: logged, the API keeps serving',
      'unhandled rejection: logged, the API keeps serving',
    ]);
    expect(gaveUp).toEqual([]);
  });

  it('gives up once on a burst, so the orchestrator restarts the process', () => {
    const { lines, logger } = recorder();
    let now = 0;
    const gaveUp: string[] = [];
    const handlers = createLastResort({
      logger,
      onGiveUp: (r) => gaveUp.push(r),
      maxPerWindow: 3,
      windowMs: 1_000,
      now: () => now,
    });
    for (let i = 0; i < 3; i++) handlers.uncaughtException(new Error(`e${i}`));
    expect(gaveUp).toEqual([]);
    // Spread out over time, errors do not add up.
    now = 5_000;
    for (let i = 0; i < 3; i++) handlers.uncaughtException(new Error(`f${i}`));
    expect(gaveUp).toEqual([]);
    handlers.uncaughtException(new Error('one too many'));
    handlers.unhandledRejection(new Error('and another'));
    expect(gaveUp).toEqual(['4 uncaught errors within 1 s']);
    expect(lines.filter((l) => l.level === 'fatal')).toHaveLength(1);
  });

  it('never throws, even when the logger or the give-up callback does', () => {
    const calls: string[] = [];
    const throwing = (name: string) => () => {
      calls.push(name);
      throw new Error(`${name} broken`);
    };
    const handlers = createLastResort({
      logger: { error: throwing('error'), fatal: throwing('fatal') },
      onGiveUp: throwing('onGiveUp'),
      maxPerWindow: 0,
    });
    expect(() => handlers.uncaughtException(new Error('x'))).not.toThrow();
    expect(() => handlers.unhandledRejection('y')).not.toThrow();
    // They were called (and threw), so not throwing is the handlers' doing.
    expect(calls).toContain('error');
    expect(calls).toContain('fatal');
    expect(calls).toContain('onGiveUp');
  });

  it('installs on the process and removes itself', () => {
    const before = process.listenerCount('uncaughtException');
    const uninstall = installLastResort({ logger: recorder().logger, onGiveUp: () => undefined });
    expect(process.listenerCount('uncaughtException')).toBe(before + 1);
    expect(process.listenerCount('unhandledRejection')).toBeGreaterThan(0);
    uninstall();
    expect(process.listenerCount('uncaughtException')).toBe(before);
  });
});
