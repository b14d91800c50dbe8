/**
 * releasingInput (workflows/activity-options.ts): the SDK keeps an activity call's arguments as long as
 * the cancellation scope it ran in, so the seller workflow empties its input object once the call is over.
 */
import { releasingInput } from '../../workflows/activity-options';

describe('releasingInput', () => {
  it('hands the call the whole input and empties it once the call has resolved', async () => {
    const token = { sealed: 'v1.sealed', expiresAt: 1 };
    const input = { sellerId: 's-1', token, runs: [{ kind: 'ordersImport' }] };
    let seen: unknown;
    const result = await releasingInput(input, (args) => {
      seen = structuredClone(args);
      return Promise.resolve('done');
    });
    expect(result).toBe('done');
    expect(seen).toEqual([
      { sellerId: 's-1', token: { sealed: 'v1.sealed', expiresAt: 1 }, runs: [{ kind: 'ordersImport' }] },
    ]);
    expect(input).toEqual({});
    // What the input pointed to is the caller's: only the references are dropped.
    expect(token).toEqual({ sealed: 'v1.sealed', expiresAt: 1 });
  });

  it('empties the input when the call fails too, and passes the failure on', async () => {
    const input = { sealedCode: 'v1.code' };
    const failure = new Error('refused');
    await expect(releasingInput(input, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(input).toEqual({});
  });

  it('keeps the input while the call is running', async () => {
    const input = { payload: 'x' };
    let finish!: () => void;
    const call = releasingInput(input, () => new Promise<void>((resolve) => (finish = resolve)));
    await Promise.resolve();
    expect(input).toEqual({ payload: 'x' });
    finish();
    await call;
    expect(input).toEqual({});
  });
});
