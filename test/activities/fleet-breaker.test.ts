/**
 * The fleet breaker as a pure class (injected clock), its env fragment, and its metrics: when refused
 * mints are an incident of the whole app rather than one seller's revocation.
 */
import { FleetBreaker } from '../../activities/fleet-breaker';
import {
  FLEET_BREAKER_DEFAULTS,
  fleetBreakerEnvSchema,
  fleetBreakerOptions,
} from '../../common/fleet-breaker-config';
import { createWorkerMetrics } from '../../worker/metrics';

function clocked(options?: ConstructorParameters<typeof FleetBreaker>[0]) {
  const clock = { now: Date.parse('2025-03-01T10:00:00Z') };
  const breaker = new FleetBreaker(options, () => clock.now);
  return { breaker, clock };
}

const ids = (n: number, prefix = 'i') => Array.from({ length: n }, (_, k) => `${prefix}${k}`);

describe('FleetBreaker', () => {
  it('stays closed below minRefusals, even when every installation attempted was refused', () => {
    const { breaker } = clocked();
    for (const id of ids(4)) expect(breaker.recordRefusal('app', id).open).toBe(false);
    expect(breaker.status('app')).toEqual({ appId: 'app', open: false, refused: 4, attempted: 4 });
  });

  it('opens at minRefusals distinct refused installations that are at least `ratio` of those attempted, once', () => {
    const { breaker } = clocked();
    for (const id of ids(5, 'ok')) breaker.recordSuccess('app', id);
    const statuses = ids(5).map((id) => breaker.recordRefusal('app', id));
    expect(statuses.map((s) => s.open)).toEqual([false, false, false, false, true]);
    expect(statuses[4]).toEqual({
      appId: 'app',
      open: true,
      refused: 5,
      attempted: 10,
      transition: 'opened',
    });
    // Further refusals: still open, no second transition.
    expect(breaker.recordRefusal('app', 'i5')).toEqual({
      appId: 'app',
      open: true,
      refused: 6,
      attempted: 11,
    });
    expect(breaker.openAppIds()).toEqual(['app']);
  });

  it('stays closed when the refused share is below the ratio', () => {
    const { breaker } = clocked();
    for (const id of ids(6, 'ok')) breaker.recordSuccess('app', id);
    for (const id of ids(5)) breaker.recordRefusal('app', id);
    expect(breaker.status('app')).toMatchObject({ open: false, refused: 5, attempted: 11 });
  });

  it('counts an installation once, by its latest outcome', () => {
    const { breaker } = clocked({ minRefusals: 2 });
    for (let k = 0; k < 10; k++) breaker.recordRefusal('app', 'same');
    expect(breaker.status('app')).toMatchObject({ open: false, refused: 1, attempted: 1 });
    breaker.recordRefusal('app', 'other');
    expect(breaker.status('app')).toMatchObject({ open: true, refused: 2, attempted: 2 });
    // The first mints again: its refusal no longer counts, and the breaker closes.
    expect(breaker.recordSuccess('app', 'same')).toEqual({
      appId: 'app',
      open: false,
      refused: 1,
      attempted: 2,
      transition: 'closed',
    });
  });

  it('closes by itself when the refusals leave the sliding window', () => {
    const { breaker, clock } = clocked({ windowMs: 60_000 });
    for (const id of ids(5)) {
      breaker.recordRefusal('app', id);
      clock.now += 1_000;
    }
    expect(breaker.status('app').open).toBe(true);
    // 56 s after the last refusal, the first (at -4 s) is 60 s old: out of the window, 4 remain.
    clock.now += 55_000;
    expect(breaker.status('app')).toEqual({
      appId: 'app',
      open: false,
      refused: 4,
      attempted: 4,
      transition: 'closed',
    });
    expect(breaker.status('app').transition).toBeUndefined();
    clock.now += 60_000;
    expect(breaker.status('app')).toEqual({ appId: 'app', open: false, refused: 0, attempted: 0 });
    expect(breaker.openAppIds()).toEqual([]);
  });

  it('keeps each app apart', () => {
    const { breaker } = clocked();
    for (const id of ids(5)) breaker.recordRefusal('a', id);
    expect(breaker.status('a').open).toBe(true);
    expect(breaker.recordRefusal('b', 'x')).toMatchObject({ open: false, refused: 1, attempted: 1 });
  });

  it('opens again after closing, with a transition each time', () => {
    const { breaker } = clocked({ minRefusals: 1, ratio: 1 });
    expect(breaker.recordRefusal('app', 'x').transition).toBe('opened');
    expect(breaker.recordSuccess('app', 'x').transition).toBe('closed');
    expect(breaker.recordRefusal('app', 'x').transition).toBe('opened');
  });

  it.each([{ windowMs: 0 }, { minRefusals: 0 }, { minRefusals: 1.5 }, { ratio: 0 }, { ratio: 1.1 }])(
    'refuses nonsense options %j',
    (options) => {
      expect(() => new FleetBreaker(options)).toThrow(RangeError);
    },
  );
});

describe('the FLEET_BREAKER_* env fragment', () => {
  it('has the documented defaults', () => {
    expect(fleetBreakerOptions(fleetBreakerEnvSchema.parse({}))).toEqual({
      windowMs: 600_000,
      minRefusals: 5,
      ratio: 0.5,
    });
    expect(FLEET_BREAKER_DEFAULTS).toEqual({ windowMs: 600_000, minRefusals: 5, ratio: 0.5 });
  });

  it('reads a duration, a count and a share', () => {
    const env = {
      FLEET_BREAKER_WINDOW: '90s',
      FLEET_BREAKER_MIN_REFUSALS: '3',
      FLEET_BREAKER_RATIO: '0.3',
    };
    expect(fleetBreakerOptions(fleetBreakerEnvSchema.parse(env))).toEqual({
      windowMs: 90_000,
      minRefusals: 3,
      ratio: 0.3,
    });
  });

  it.each([
    ['FLEET_BREAKER_WINDOW', 'soon'],
    ['FLEET_BREAKER_WINDOW', '0s'],
    ['FLEET_BREAKER_MIN_REFUSALS', '0'],
    ['FLEET_BREAKER_MIN_REFUSALS', '2.5'],
    ['FLEET_BREAKER_RATIO', '0'],
    ['FLEET_BREAKER_RATIO', '1.5'],
    ['FLEET_BREAKER_RATIO', 'half'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    const result = fleetBreakerEnvSchema.safeParse({ [name]: value });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toEqual([name]);
  });
});

describe('the worker metrics of the breaker', () => {
  const sample = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('a 0/1 gauge per app version (0 from the start) and refusals counted by outcome', async () => {
    const metrics = createWorkerMetrics({ defaultMetrics: false });
    let text = await metrics.registry.metrics();
    expect(sample(text, 'otto_connect_fleet_incident{app_version="v1"}')).toBe(0);
    expect(sample(text, 'otto_connect_fleet_incident{app_version="v2"}')).toBe(0);
    expect(sample(text, 'otto_connect_token_mints_total{result="incident"}')).toBe(0);

    metrics.fleetIncident('v1', true);
    metrics.mintRefusal('v1', 'revocation_evidence');
    metrics.mintRefusal('v1', 'fleet_incident');
    metrics.mintRefusal('v1', 'fleet_incident');
    metrics.mintRefusal('v2', 'client_refused');
    metrics.tokenMint('incident');
    text = await metrics.registry.metrics();
    expect(sample(text, 'otto_connect_fleet_incident{app_version="v1"}')).toBe(1);
    expect(sample(text, 'otto_connect_fleet_incident{app_version="v2"}')).toBe(0);
    expect(sample(text, 'otto_connect_mint_refusals_total{app_version="v1",outcome="fleet_incident"}')).toBe(
      2,
    );
    expect(
      sample(text, 'otto_connect_mint_refusals_total{app_version="v1",outcome="revocation_evidence"}'),
    ).toBe(1);
    expect(sample(text, 'otto_connect_mint_refusals_total{app_version="v2",outcome="client_refused"}')).toBe(
      1,
    );
    expect(sample(text, 'otto_connect_token_mints_total{result="incident"}')).toBe(1);

    metrics.fleetIncident('v1', false);
    text = await metrics.registry.metrics();
    expect(sample(text, 'otto_connect_fleet_incident{app_version="v1"}')).toBe(0);
  });
});
