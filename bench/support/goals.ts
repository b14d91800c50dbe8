/**
 * The goals of issue 15, defined once: every benchmark records its figures against them, prints them
 * beside the goal (and the floor where there is one), and the run ends with one table of every figure it
 * measured. The same rows go into the JSON under bench/results/.
 */
import { formatTable, round, type Cell } from './report';

export interface Goal {
  /** What is measured, as the issue's table names it. */
  figure: string;
  /** The goal as text, e.g. "≤ 2.1". */
  goal: string;
  /** Measured before the work on issue 15 (its table's "now" column). */
  before: string;
  unit: string;
  pass(value: number): boolean;
}

const atMost = (limit: number) => (v: number) => Number.isFinite(v) && v <= limit;
const below = (limit: number) => (v: number) => Number.isFinite(v) && v < limit;

export const GOALS = {
  mintsPerSellerHour: {
    figure: 'token mints per seller-hour (30-min tokens, default intervals)',
    goal: '≤ 2.1',
    before: '2.46',
    unit: '/h',
    pass: atMost(2.1),
  },
  expiredTokenRequests: {
    figure: 'requests made with an expired token',
    goal: '0',
    before: '0',
    unit: '',
    pass: (v) => v === 0,
  },
  pausedMintsPerSellerHour: {
    figure: 'token mints per seller-hour, paused seller',
    goal: '≤ 1.1',
    before: '2.46',
    unit: '/h',
    pass: atMost(1.1),
  },
  hourlyMintsPerSellerHour: {
    figure: 'token mints per seller-hour, hourly-only seller',
    goal: '≤ 1.1',
    before: '2.46',
    unit: '/h',
    pass: atMost(1.1),
  },
  memoryPerWorkflowKB: {
    figure: 'worker memory per cached seller workflow (marginal: fixed costs left out)',
    goal: '≤ 250 KB',
    before: '≈ 1,900 KB',
    unit: 'KB',
    pass: atMost(250),
  },
  memoryGrowthPerSellerKB: {
    figure: 'worker RSS growth per seller, fixed costs included (as the issue\'s "before")',
    goal: '≤ 250 KB',
    before: '≈ 1,900 KB',
    unit: 'KB',
    pass: atMost(250),
  },
  historyEventsPerSellerDay: {
    figure: 'history events per seller-day (default intervals)',
    goal: '≤ 1,200',
    before: '≈ 2,230',
    unit: '',
    pass: atMost(1_200),
  },
  workerCpuVsFloor: {
    figure: 'worker CPU, ours / bare-workflow floor',
    goal: '≤ 1.25',
    before: '1.86',
    unit: '×',
    pass: atMost(1.25),
  },
  latenessP99Ms: {
    figure: 'refresh lateness p99 (scheduled run vs due time)',
    goal: '< 1,000 ms',
    before: '3,750 ms',
    unit: 'ms',
    pass: below(1_000),
  },
  statusP50Ms: {
    figure: 'status API p50 (open loop, 200 requests/s)',
    goal: '–',
    before: '82 ms (16 clients)',
    unit: 'ms',
    pass: () => true,
  },
  statusP99Ms: {
    figure: 'status API p99 (open loop, 200 requests/s)',
    goal: '< 50 ms',
    before: '199 ms (16 clients)',
    unit: 'ms',
    pass: below(50),
  },
  statusErrors: {
    figure: 'status API errors (any answer but 200)',
    goal: '0',
    before: '1 (503)',
    unit: '',
    pass: (v) => v === 0,
  },
  listP99Ms: {
    figure: 'list API p99 (100 rows per page)',
    goal: '< 300 ms',
    before: '2,667 ms',
    unit: 'ms',
    pass: below(300),
  },
  callbackBurstP50Ms: {
    figure: 'callback → active p50, 20 consents at once',
    goal: '–',
    before: '3,750 ms',
    unit: 'ms',
    pass: () => true,
  },
  callbackBurstP99Ms: {
    figure: 'callback → active p99, 20 consents at once',
    goal: '< 2,000 ms',
    before: '11,500 ms',
    unit: 'ms',
    pass: below(2_000),
  },
  callbackSingleMs: {
    figure: 'callback → active, a single consent (slowest of the singles)',
    goal: '< 500 ms',
    before: '–',
    unit: 'ms',
    pass: below(500),
  },
  sellersEquivalent: {
    figure: 'sellers carried on one box (sellers × time acceleration)',
    goal: '≥ 17,000',
    before: '≈ 14,600 (token-bound at 2.46/h)',
    unit: '',
    pass: (v) => Number.isFinite(v) && v >= 17_000,
  },
  tokenPeakPerSecond: {
    // The issue asks for the peak to be reported; its bound is OTTO's own: 10 token requests per second
    // per IP (docs/otto-api.md §5.8; the emulator refuses the 11th in a second). Background mints stay at
    // TOKEN_REQUESTS_PER_SECOND (8); only code exchanges may use the headroom up to 10.
    figure: 'token endpoint peak requests in any wall-clock second',
    goal: "≤ 10 (OTTO's limit)",
    before: '8',
    unit: '/s',
    pass: atMost(10),
  },
  tokenEndpoint429s: {
    figure: 'token endpoint 429 answers',
    goal: '0',
    before: '0',
    unit: '',
    pass: (v) => v === 0,
  },
} satisfies Record<string, Goal>;

export type GoalId = keyof typeof GOALS;

/** One measured figure against its goal: a row of the tables and of the JSON. */
export interface GoalRow {
  goal: GoalId;
  /** Which benchmark measured it (steady, scale, api, …). */
  benchmark: string;
  figure: string;
  value: number;
  /** The value as printed (with unit and context, e.g. "2.04 /h (n=1,234)"). */
  result: string;
  target: string;
  /** The bare-workflow floor or the theoretical minimum, where there is one. */
  floor: string | null;
  pass: boolean;
  /** As printed: PASS, FAIL, info (no goal) or n/a (not measurable in this run). */
  verdict: 'PASS' | 'FAIL' | 'info' | 'n/a';
}

/** A number as the tables show it: thousands separated, at most `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return round(value, digits).toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function goalRow(
  benchmark: string,
  goal: GoalId,
  value: number,
  opts: { result?: string; floor?: string | number | null; digits?: number } = {},
): GoalRow {
  const g: Goal = GOALS[goal];
  const shown = Number.isFinite(value) ? fmt(value, opts.digits ?? 2) : 'n/a';
  const floor = opts.floor;
  return {
    goal,
    benchmark,
    figure: g.figure,
    value: Number.isFinite(value) ? round(value, 4) : value,
    result: opts.result ?? `${shown}${g.unit ? ` ${g.unit}` : ''}`,
    target: g.goal,
    floor:
      floor === undefined || floor === null
        ? null
        : typeof floor === 'number'
          ? `${fmt(floor, opts.digits ?? 2)}${g.unit ? ` ${g.unit}` : ''}`
          : floor,
    pass: g.pass(value),
    verdict: g.goal === '–' ? 'info' : !Number.isFinite(value) ? 'n/a' : g.pass(value) ? 'PASS' : 'FAIL',
  };
}

export function formatGoalTable(title: string, rows: readonly GoalRow[], withBenchmark = false): string {
  const header = withBenchmark
    ? ['figure', 'benchmark', 'result', 'goal', 'floor', 'pass/fail']
    : ['figure', 'result', 'goal', 'floor', 'pass/fail'];
  const cells: Cell[][] = rows.map((r) =>
    withBenchmark
      ? [r.figure, r.benchmark, r.result, r.target, r.floor, r.verdict]
      : [r.figure, r.result, r.target, r.floor, r.verdict],
  );
  return formatTable(title, header, cells, true);
}
