/**
 * `runTick` with a fake token service and fake transfers: a token is minted only when the carried one
 * will not last through the run, once for every transfer of the tick (single flight), again when a
 * transfer finds its token about to expire or rejected; failures come back per kind, never thrown.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTickActivities } from '../../activities/tick-activities';
import { createStoreTokenVault, isTokenHandle, type TokenVault } from '../../activities/token-vault';
import type { TransferActivities } from '../../activities/transfer-activities';
import {
  FailureTypes,
  type MintedToken,
  type TransferInput,
  type TransferKind,
  type TransferResult,
} from '../../workflows/definitions';
import type { TickInput, TickResult } from '../../workflows/tick-types';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { quiet } from '../support/activity-helpers';

const NOW = 1_000_000;

function setup(opts: { mint?: () => Promise<MintedToken>; vault?: TokenVault } = {}) {
  let clock = NOW;
  /** The tick's waits between a transfer's tries: recorded, and the clock moves on by each (no real wait). */
  const waits: number[] = [];
  const mints: number[] = [];
  let n = 0;
  const tokens = {
    mint: async (): Promise<MintedToken> => {
      mints.push(clock);
      if (opts.mint) return await opts.mint();
      // A little wait, so concurrent callers overlap.
      await new Promise((resolve) => setTimeout(resolve, 5));
      n += 1;
      return { sealedToken: `sealed-${n}`, expiresAt: clock + 30 * 60_000, scopes: ['orders'] };
    },
  };
  const seen: Record<string, TransferInput[]> = {};
  const behaviour: Partial<Record<TransferKind, (input: TransferInput) => Promise<TransferResult>>> = {};
  const transfer =
    (kind: TransferKind) =>
    async (input: TransferInput): Promise<TransferResult> => {
      (seen[kind] ??= []).push(input);
      const run = behaviour[kind];
      if (run) return await run(input);
      return { count: 1, cursor: { seq: 1 }, detail: `${kind} ok` };
    };
  const transfers = Object.fromEntries(
    (['ordersImport', 'stockExport', 'pricesExport', 'returnsImport', 'shippingProfilesSync'] as const).map(
      (kind) => [kind, transfer(kind)],
    ),
  ) as unknown as Pick<TransferActivities, TransferKind>;
  const { runTick } = createTickActivities({
    tokens,
    transfers,
    vault: opts.vault,
    now: () => clock,
    sleep: (ms) => {
      waits.push(ms);
      clock += ms;
      return Promise.resolve();
    },
  });
  const env = new MockActivityEnvironment(undefined, quiet());
  return {
    mints,
    waits,
    seen,
    behaviour,
    advance: (ms: number) => (clock += ms),
    run: (input: Partial<TickInput>): Promise<TickResult> => env.run(runTick, { ...baseInput(), ...input }),
    env,
  };
}

/** A token service whose mint fails for a passing reason (retryable) … */
const mintFailing = (type: string, message: string) => () =>
  Promise.reject(ApplicationFailure.create({ type, message }));
/** … or is refused (possible revocation). */
const mintRefused = (message: string) => () =>
  Promise.reject(
    ApplicationFailure.create({ type: FailureTypes.installationRevoked, message, nonRetryable: true }),
  );

function baseInput(): TickInput {
  return {
    sellerId: 's-1',
    appVersion: 'v1',
    installationId: 'inst-1',
    partnerId: 'P1',
    token: null,
    reserveMs: 5 * 60_000,
    probe: false,
    retryWindowMs: 0,
    runs: [
      { kind: 'ordersImport', cursor: {}, full: false },
      { kind: 'stockExport', cursor: {}, full: false },
    ],
  };
}

it('uses the carried token while it lasts through the run: no mint', async () => {
  const t = setup();
  const result = await t.run({ token: { sealed: 'carried', expiresAt: NOW + 10 * 60_000 } });
  expect(t.mints).toEqual([]);
  expect(result.minted).toBeNull();
  expect(result.mints).toBe(0);
  expect(t.seen.ordersImport?.[0]?.sealedToken).toBe('carried');
  expect(t.seen.stockExport?.[0]?.sealedToken).toBe('carried');
  expect(Object.keys(result.outcomes).sort()).toEqual(['ordersImport', 'stockExport']);
});

it('two transfers due together with a token that would not last: exactly one mint, both use it', async () => {
  const t = setup();
  const result = await t.run({ token: { sealed: 'old', expiresAt: NOW + 60_000 } });
  expect(t.mints).toHaveLength(1);
  expect(result.mints).toBe(1);
  expect(result.minted?.sealed).toBe('sealed-1');
  expect(t.seen.ordersImport?.[0]?.sealedToken).toBe('sealed-1');
  expect(t.seen.stockExport?.[0]?.sealedToken).toBe('sealed-1');
});

it('two transfers that both find their token about to expire share one new mint (single flight)', async () => {
  const t = setup();
  const expiring = () =>
    ApplicationFailure.create({
      type: FailureTypes.tokenExpiring,
      message: 'about to expire',
      nonRetryable: true,
    });
  for (const kind of ['ordersImport', 'stockExport'] as const) {
    let first = true;
    t.behaviour[kind] = () => {
      if (first) {
        first = false;
        return Promise.reject(expiring());
      }
      return Promise.resolve({ count: 2, cursor: {}, detail: 'ok' });
    };
  }
  const result = await t.run({ token: { sealed: 'carried', expiresAt: NOW + 10 * 60_000 } });
  expect(t.mints).toHaveLength(1);
  expect(result.mints).toBe(1);
  expect(t.seen.ordersImport?.map((i) => i.sealedToken)).toEqual(['carried', 'sealed-1']);
  expect(t.seen.stockExport?.map((i) => i.sealedToken)).toEqual(['carried', 'sealed-1']);
  expect(result.outcomes.ordersImport).toEqual({ ok: { count: 2, cursor: {}, detail: 'ok' } });
});

it('a token OTTO rejects is replaced once; a second rejection is that transfer’s failure', async () => {
  const t = setup();
  t.behaviour.ordersImport = () =>
    Promise.reject(
      ApplicationFailure.create({ type: FailureTypes.tokenRejected, message: '401', nonRetryable: true }),
    );
  const result = await t.run({ token: { sealed: 'carried', expiresAt: NOW + 10 * 60_000 } });
  expect(t.mints).toHaveLength(1);
  expect(t.seen.ordersImport).toHaveLength(2);
  expect(result.outcomes.ordersImport).toMatchObject({ failed: { type: FailureTypes.tokenRejected } });
  expect(result.outcomes.stockExport).toMatchObject({ ok: { count: 1 } });
});

it('a refused mint is reported (no transfer runs without a token), not thrown', async () => {
  const t = setup({
    mint: mintRefused('OTTO refused (404)'),
  });
  const result = await t.run({});
  expect(result.mintFailure).toEqual({
    type: FailureTypes.installationRevoked,
    message: 'OTTO refused (404)',
  });
  expect(result.outcomes).toEqual({});
  expect(t.seen).toEqual({});
});

it('the probe mints even with a token that would do, and runs no transfer', async () => {
  const t = setup();
  const result = await t.run({
    token: { sealed: 'carried', expiresAt: NOW + 20 * 60_000 },
    probe: true,
    runs: [],
  });
  expect(t.mints).toHaveLength(1);
  expect(result.minted?.sealed).toBe('sealed-1');
  expect(t.seen).toEqual({});
});

it('a probe whose mint fails for a passing reason runs the due transfers with the carried token that still lasts', async () => {
  const down = setup({
    mint: mintFailing(FailureTypes.ottoUnavailable, 'OTTO 503'),
  });
  const result = await down.run({ token: { sealed: 'carried', expiresAt: NOW + 20 * 60_000 }, probe: true });
  expect(result.mintFailure).toMatchObject({ type: FailureTypes.ottoUnavailable });
  expect(down.seen.ordersImport?.[0]?.sealedToken).toBe('carried');
  expect(Object.keys(result.outcomes).sort()).toEqual(['ordersImport', 'stockExport']);

  // A refusal (possible revocation) stops them: a working transfer would count against the evidence.
  const refused = setup({
    mint: mintRefused('OTTO answered 403'),
  });
  const stopped = await refused.run({
    token: { sealed: 'carried', expiresAt: NOW + 20 * 60_000 },
    probe: true,
  });
  expect(stopped.mintFailure).toMatchObject({ type: FailureTypes.installationRevoked });
  expect(refused.seen).toEqual({});
  // A carried token that would not last through the run: nothing runs either.
  const short = setup({
    mint: mintFailing(FailureTypes.ottoUnavailable, 'OTTO 503'),
  });
  await short.run({ token: { sealed: 'carried', expiresAt: NOW + 60_000 }, probe: true });
  expect(short.seen).toEqual({});
});

it('a tick whose token the phase spread retired mints anyway, and runs with the carried token when that mint fails for a passing reason', async () => {
  const carried = { sealed: 'carried', expiresAt: NOW + 20 * 60_000 };
  const t = setup();
  const result = await t.run({ token: carried, retire: true });
  expect(t.mints).toHaveLength(1);
  expect(t.seen.ordersImport?.[0]?.sealedToken).toBe('sealed-1');

  const down = setup({
    mint: mintFailing(FailureTypes.rateLimited, 'OTTO 429'),
  });
  const fallback = await down.run({ token: carried, retire: true });
  expect(fallback.mintFailure).toMatchObject({ type: FailureTypes.rateLimited });
  expect(down.seen.ordersImport?.[0]?.sealedToken).toBe('carried');
  expect(Object.keys(fallback.outcomes).sort()).toEqual(['ordersImport', 'stockExport']);
  expect(result.minted?.sealed).toBe('sealed-1');

  // A refusal stops them, as for the probe.
  const refused = setup({
    mint: mintRefused('OTTO answered 401'),
  });
  const stopped = await refused.run({ token: carried, retire: true });
  expect(stopped.mintFailure).toMatchObject({ type: FailureTypes.installationRevoked });
  expect(refused.seen).toEqual({});
});

it('a non-retryable transfer failure comes back for that kind; the others succeed', async () => {
  const t = setup();
  t.behaviour.stockExport = () =>
    Promise.reject(
      ApplicationFailure.create({ type: FailureTypes.invalidInput, message: 'bad', nonRetryable: true }),
    );
  const result = await t.run({ token: { sealed: 'carried', expiresAt: NOW + 10 * 60_000 } });
  expect(result.outcomes.stockExport).toEqual({
    failed: { type: FailureTypes.invalidInput, message: 'bad' },
  });
  expect(result.outcomes.ordersImport).toMatchObject({ ok: { count: 1 } });
});

describe('retrying a transfer within the tick', () => {
  const rateLimited = (retryAfterMs?: number) =>
    ApplicationFailure.create({
      type: FailureTypes.rateLimited,
      message: 'OTTO answered 429 to GET /v4/orders',
      ...(retryAfterMs === undefined ? {} : { nextRetryDelay: retryAfterMs }),
    });
  /** ordersImport fails `failures` times with `err`, then succeeds. */
  const failing = (t: ReturnType<typeof setup>, failures: number, err: () => Error) => {
    let left = failures;
    t.behaviour.ordersImport = () =>
      left-- > 0 ? Promise.reject(err()) : Promise.resolve({ count: 3, cursor: {}, detail: 'ok' });
  };
  const carried = { token: { sealed: 'carried', expiresAt: NOW + 20 * 60_000 } };

  it('backs off 1, 2, 4 … s on retryable failures without a wish', async () => {
    const t = setup();
    failing(t, 3, () => rateLimited());
    const result = await t.run({
      ...carried,
      retryWindowMs: 60_000,
      runs: [{ kind: 'ordersImport', cursor: {}, full: false }],
    });
    expect(t.waits).toEqual([1_000, 2_000, 4_000]);
    expect(result.outcomes.ordersImport).toMatchObject({ ok: { count: 3 } });
  });

  it('waits OTTO’s Retry-After (longer than the backoff) before trying again', async () => {
    const t = setup();
    failing(t, 2, () => rateLimited(60_000));
    const result = await t.run({
      ...carried,
      retryWindowMs: 5 * 60_000,
      runs: [{ kind: 'ordersImport', cursor: {}, full: false }],
    });
    expect(t.waits).toEqual([60_000, 60_000]);
    expect(t.seen.ordersImport).toHaveLength(3);
    expect(result.outcomes.ordersImport).toMatchObject({ ok: { count: 3 } });
  });

  it('a Retry-After past the retry window ends the kind with its failure instead of trying sooner', async () => {
    const t = setup();
    failing(t, 5, () => rateLimited(60_000));
    const result = await t.run({
      ...carried,
      retryWindowMs: 30_000,
      runs: [{ kind: 'ordersImport', cursor: {}, full: false }],
    });
    expect(t.waits).toEqual([]);
    expect(t.seen.ordersImport).toHaveLength(1);
    expect(result.outcomes.ordersImport).toMatchObject({ failed: { type: FailureTypes.rateLimited } });
  });
});

it('a cancelled tick hands back what it did and each unfinished kind’s progress', async () => {
  const t = setup();
  t.behaviour.stockExport = (input) =>
    new Promise((_, reject) => {
      // What the real transfer does: heartbeat its progress, then stop with it on cancellation.
      void input;
      setTimeout(() => t.env.cancel('CANCELLED'), 10);
      setTimeout(() => reject(new CancelledFailure('stock cancelled', [{ upTo: 7 }])), 20);
    });
  let thrown: unknown;
  try {
    await t.run({ token: { sealed: 'carried', expiresAt: NOW + 10 * 60_000 } });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(CancelledFailure);
  const saved = (thrown as CancelledFailure).details[0] as TickResult;
  expect(saved.outcomes.ordersImport).toMatchObject({ ok: { count: 1 } });
  expect(saved.outcomes.stockExport).toBeUndefined();
  expect(saved.progress.stockExport).toEqual({ upTo: 7 });
});

describe('with the token vault (the workflow carries a handle, never the sealed token)', () => {
  const stores: Array<ReturnType<typeof openSqliteSellerStore>> = [];
  const storeVault = () => {
    const store = openSqliteSellerStore(':memory:');
    stores.push(store);
    return { store, vault: createStoreTokenVault(store) };
  };
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('a minted token goes into the vault and the result carries its handle; the next tick opens it without minting', async () => {
    const { store, vault } = storeVault();
    const t = setup({ vault });
    const first = await t.run({ token: null });
    expect(t.mints).toHaveLength(1);
    const handle = first.minted!.sealed;
    expect(isTokenHandle(handle)).toBe(true);
    expect(handle).not.toContain('sealed-1');
    expect(JSON.stringify(first)).not.toContain('sealed-1');
    expect(t.seen.ordersImport?.[0]?.sealedToken).toBe('sealed-1');
    expect(await store.getInstallationToken('s-1', 'inst-1')).toMatchObject({ handle, sealed: 'sealed-1' });

    t.advance(15 * 60_000);
    const second = await t.run({ token: { sealed: handle, expiresAt: first.minted!.expiresAt } });
    expect(t.mints).toHaveLength(1);
    expect(second.minted).toBeNull();
    expect(t.seen.ordersImport?.map((i) => i.sealedToken)).toEqual(['sealed-1', 'sealed-1']);
  });

  it('a handle that no longer opens (a newer token kept since, or another store) costs one mint; no transfer sees the handle', async () => {
    const { vault } = storeVault();
    const t = setup({ vault });
    const stale = await vault.keep('s-1', 'inst-1', 'sealed-old', NOW + 20 * 60_000);
    await vault.keep('s-1', 'inst-1', 'sealed-newer', NOW + 25 * 60_000);
    const result = await t.run({ token: { sealed: stale, expiresAt: NOW + 20 * 60_000 } });
    expect(t.mints).toHaveLength(1);
    expect(isTokenHandle(result.minted!.sealed)).toBe(true);
    const used = [...(t.seen.ordersImport ?? []), ...(t.seen.stockExport ?? [])].map((i) => i.sealedToken);
    expect(used).toEqual(['sealed-1', 'sealed-1']);
  });

  it('without a vault, a carried handle cannot open: the tick mints instead of sending it to OTTO', async () => {
    const t = setup();
    const result = await t.run({ token: { sealed: 'vault:abc', expiresAt: NOW + 20 * 60_000 } });
    expect(t.mints).toHaveLength(1);
    expect(result.minted?.sealed).toBe('sealed-1');
    expect(t.seen.ordersImport?.[0]?.sealedToken).toBe('sealed-1');
  });

  it('a vault that cannot be written or read: the result carries the sealed token, and a handle makes the tick mint', async () => {
    const broken: TokenVault = {
      keep: () => Promise.reject(new Error('database is locked')),
      open: () => Promise.reject(new Error('database is locked')),
    };
    const t = setup({ vault: broken });
    const minted = await t.run({ token: null });
    expect(minted.minted?.sealed).toBe('sealed-1');
    expect(minted.outcomes.ordersImport).toMatchObject({ ok: { count: 1 } });
    const again = await t.run({ token: { sealed: 'vault:abc', expiresAt: NOW + 20 * 60_000 } });
    expect(t.mints).toHaveLength(2);
    expect(again.minted?.sealed).toBe('sealed-2');
  });

  it('a retried attempt opens the handle its earlier attempt heartbeated: no second mint', async () => {
    const { vault } = storeVault();
    const t = setup({ vault });
    const first = await t.run({ token: null });
    // The earlier attempt heartbeated its mint, then the worker died before its transfers finished.
    const heartbeated: TickResult = { ...first, outcomes: {}, progress: {} };
    const retried = new MockActivityEnvironment({ heartbeatDetails: heartbeated }, quiet());
    const { runTick } = createTickActivities({
      tokens: { mint: () => Promise.reject(new Error('must not mint')) },
      transfers: Object.fromEntries(
        (['ordersImport', 'stockExport'] as const).map((kind) => [
          kind,
          (input: TransferInput) => {
            (t.seen[`${kind}-retry`] ??= []).push(input);
            return Promise.resolve({ count: 0, cursor: {}, detail: 'ok' });
          },
        ]),
      ) as unknown as Pick<TransferActivities, TransferKind>,
      vault,
      now: () => NOW,
    });
    const result = await retried.run<[TickInput], TickResult, typeof runTick>(runTick, {
      ...baseInput(),
      token: null,
    });
    expect(result.mints).toBe(1);
    expect(result.minted?.sealed).toBe(first.minted!.sealed);
    expect(t.seen['ordersImport-retry']?.[0]?.sealedToken).toBe('sealed-1');
  });
});
