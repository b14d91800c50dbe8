/**
 * Tokens just in time (patch jitTicks), on a real dev server with the emulator, time accelerated by
 * configuration: no transfer ever sends an expired token; transfers due together run in one tick with
 * at most one mint; a paused seller's revocation is noticed within the probe interval; a simulated day
 * at the default intervals stays under 1,200 history events.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { sellerWorkflowId, type TransferKind } from '../../workflows/definitions';
import type { TickInput, TickResult } from '../../workflows/tick-types';
import { isTokenHandle } from '../../activities/token-vault';
import { allRuns, type History } from '../support/history';
import { TestStack, type LoggedRequest } from '../support/stack';

type Event = temporal.api.history.v1.IHistoryEvent;

/** The inputs of every runTick scheduled in `history`, with when it was scheduled. */
function ticks(history: History): Array<{ at: number; input: TickInput; queue: string }> {
  return (history.events ?? [])
    .filter((e: Event) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runTick')
    .map((e: Event) => ({
      at: Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6),
      // A tick planned to mint runs on the token task queue.
      queue: e.activityTaskScheduledEventAttributes?.taskQueue?.name ?? '',
      input: defaultPayloadConverter.fromPayload<TickInput>(
        e.activityTaskScheduledEventAttributes!.input!.payloads![0]!,
      ),
    }));
}

/** The results of every runTick completed in `history`. */
function tickResults(history: History): TickResult[] {
  return (history.events ?? []).flatMap((e: Event) => {
    const payload = e.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (payload === undefined) return [];
    const result = defaultPayloadConverter.fromPayload<Partial<TickResult>>(payload);
    return result !== null && typeof result === 'object' && 'mints' in result ? [result as TickResult] : [];
  });
}

const isMint = (r: LoggedRequest) => /\/installations\/[^/]+\/accessToken$/.test(r.path);
const isData = (r: LoggedRequest) =>
  !isMint(r) &&
  !r.path.startsWith('/oauth2') &&
  !r.path.startsWith('/v1/token') &&
  !r.path.includes('/apps/');

const ALL_OFF: Record<TransferKind, number | null> = {
  ordersImport: null,
  stockExport: null,
  pricesExport: null,
  returnsImport: null,
  shippingProfilesSync: null,
};

describe('tokens just in time (4 s tokens)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ tokenTtlSeconds: 4 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('transfers due together run in one tick that mints at most once, and never with an expired token', async () => {
    const since = new Date().toISOString();
    const { handle, sellerId, partner } = await stack.connectSeller(undefined, 'v1', {
      overrides: {
        tokenRefreshMarginMs: 1_000,
        transferIntervalsMs: { ...ALL_OFF, ordersImport: 1_000, stockExport: 1_000 },
      },
    });
    // Tokens live 4 s and a tick needs one that lasts 1 s: a new one about every third tick.
    await stack.waitFor(handle, (s) => s.token.refreshCount >= 6, 30_000);
    await stack.disconnect(handle);

    const runs = await allRuns(stack.env.client, sellerWorkflowId(sellerId));
    const [run] = runs;
    const all = ticks(run!.history);
    const results = runs.flatMap((r) => tickResults(r.history));
    const requests = (await stack.requests(since)).filter((r) => r.partnerId === partner.partnerId);
    const mints = requests.filter(isMint);
    const data = requests.filter(isData);

    expect(all.length).toBeGreaterThanOrEqual(5);
    // Due together, run together: every tick carries both transfers.
    for (const tick of all)
      expect(tick.input.runs.map((r) => r.kind).sort()).toEqual(['ordersImport', 'stockExport']);
    // Connecting mints nothing (the first tick does): at most one mint per tick, and every mint OTTO saw
    // is one a tick reported.
    expect(results.length).toBeGreaterThanOrEqual(5);
    expect(results.filter((r) => r.mints > 1)).toEqual([]);
    expect(results.reduce((sum, r) => sum + r.mints, 0)).toBe(mints.length);
    expect(mints.length).toBeGreaterThanOrEqual(3);
    // A tick whose carried token lasts through the run reuses it (no mint on the token queue).
    expect(all.some((t) => t.input.token !== null && t.input.token.expiresAt > t.at + 1_000)).toBe(true);
    expect(data.length).toBeGreaterThan(0);
    expect(data.filter((r) => r.token !== 'valid')).toEqual([]);
    // The token stays in the workers' vault: ticks carry its handle, and results return one, never the
    // sealed token (activities/token-vault.ts).
    const carried = all.flatMap((t) => (t.input.token === null ? [] : [t.input.token.sealed]));
    expect(carried.length).toBeGreaterThan(0);
    expect(carried.filter((sealed) => !isTokenHandle(sealed))).toEqual([]);
    const returned = tickResults(run!.history).flatMap((r) => (r.minted === null ? [] : [r.minted.sealed]));
    expect(returned.length).toBeGreaterThanOrEqual(3);
    expect(returned.filter((sealed) => !isTokenHandle(sealed))).toEqual([]);
  }, 60_000);

  it('a run that outlives its token gets a new one before the next call, never sending the old one', async () => {
    const since = new Date().toISOString();
    const { handle, partner } = await stack.connectSeller(undefined, 'v1', {
      overrides: {
        tokenRefreshMarginMs: 1_000,
        transferIntervalsMs: { ...ALL_OFF, ordersImport: 500 },
      },
    });
    const before = (await stack.status(handle)).token.refreshCount;
    // Six of this seller's orders pages take 1.2 s each: a run started with a token valid 1.x s outlives it.
    await stack.withFault(
      { method: 'GET', pathPattern: '^/v4/orders', latencyMs: 1_200, times: 6, partnerId: partner.partnerId },
      async () => {
        await stack.waitFor(handle, (s) => s.token.refreshCount >= before + 4, 30_000);
      },
    );
    await stack.disconnect(handle);
    const mine = (await stack.requests(since)).filter((r) => r.partnerId === partner.partnerId);
    expect(mine.filter((r) => r.fault !== undefined).length).toBeGreaterThan(0);
    const data = mine.filter(isData);
    expect(data.length).toBeGreaterThan(0);
    expect(data.filter((r) => r.token !== 'valid')).toEqual([]);
  }, 60_000);

  it('a paused seller is probed every probe interval and its revocation noticed within it', async () => {
    const probeMs = 1_500;
    const { handle, partner, sellerId } = await stack.connectSeller(undefined, 'v1', {
      overrides: {
        revocationProbeIntervalMs: probeMs,
        revocationConfirmWindowMs: 0,
        revocationMinRefusals: 1,
        transferIntervalsMs: { ...ALL_OFF, ordersImport: 500 },
      },
    });
    await handle.executeUpdate('pause', { args: [{ reason: 'test' }] });
    const pausedAt = Date.now();
    // Two probes while paused: each mints (nothing else does), no transfer runs.
    await stack.waitFor(handle, (s) => s.token.refreshCount >= 3 && s.state === 'paused', 20_000);
    const revokedAt = Date.now();
    await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
    const final = await stack.waitForState(handle, 'revoked', 20_000);

    const [run] = await allRuns(stack.env.client, sellerWorkflowId(sellerId));
    const whilePaused = ticks(run!.history).filter((t) => t.at >= pausedAt);
    expect(whilePaused.length).toBeGreaterThanOrEqual(2);
    for (const t of whilePaused) {
      expect(t.input.probe).toBe(true);
      expect(t.input.runs).toEqual([]);
    }
    // Probes come one interval apart (not sooner: a paused seller costs one mint per interval).
    const gaps = whilePaused.slice(1).map((t, i) => t.at - whilePaused[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(probeMs - 50);
    // Noticed by the first probe after the revocation.
    const noticed = Date.parse(final.events.find((e) => e.type === 'revoked')!.at);
    expect(noticed - revokedAt).toBeLessThanOrEqual(probeMs + 1_500);
  }, 60_000);
});

describe('a simulated day at the default intervals (time ×600)', () => {
  // ×600: a 15-minute interval is 1.5 s, safely above the dev server's timer precision (~1 s).
  const SCALE = 600;
  let stack: TestStack;
  beforeAll(async () => {
    stack = await TestStack.start({ tokenTtlSeconds: 3 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stays under 1,200 history events, without continuing as new', async () => {
    const minute = 60_000 / SCALE;
    const { handle, sellerId } = await stack.connectSeller(undefined, 'v2', {
      overrides: {
        // 30-minute tokens minted 5 minutes ahead, scaled (the emulator issues 3 s = 30 min tokens).
        tokenRefreshMarginMs: 1_000,
        dailyTransferHour: null,
        transferIntervalsMs: {
          ordersImport: 15 * minute,
          stockExport: 15 * minute,
          pricesExport: 24 * 60 * minute,
          returnsImport: 60 * minute,
          shippingProfilesSync: 60 * minute,
        },
      },
    });
    const day = 24 * 60 * minute;
    await new Promise((resolve) => setTimeout(resolve, day));
    const status = await stack.status(handle);
    await stack.disconnect(handle);

    const runs = await allRuns(stack.env.client, sellerWorkflowId(sellerId));
    expect(runs).toHaveLength(1);
    const history = runs[0]!.history;
    const all = ticks(history);

    // The day really ran: a tick every 15 (scaled) minutes, hourly transfers in every fourth.
    expect(all.length).toBeGreaterThanOrEqual(90);
    expect(
      all.filter((t) => t.input.runs.some((r) => r.kind === 'returnsImport')).length,
    ).toBeGreaterThanOrEqual(20);
    expect(status.state).toBe('active');
    const events = history.events?.length ?? 0;
    const byType = new Map<string, number>();
    for (const e of history.events ?? []) {
      const type = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'UNKNOWN').replace(
        /^EVENT_TYPE_/,
        '',
      );
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }
    const mints = all.filter((t) => t.queue === stack.tokenTaskQueue).length;
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    const tickInputBytes = Math.round(
      all.reduce((sum, t) => sum + JSON.stringify(t.input).length, 0) / Math.max(1, all.length),
    );
    console.log(
      `a simulated day: ${events} history events (${Math.round(bytes / 1024)} KB; a tick's input ${tickInputBytes} B), ` +
        `${all.length} ticks, ${mints} of them minting; ` +
        JSON.stringify(Object.fromEntries(byType)),
    );

    expect(events).toBeLessThan(1_200);
  }, 240_000);
});
