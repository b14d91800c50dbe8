/**
 * Shipping profiles when nothing names the installation's scopes (patch shippingByAppVersion): OTTO
 * documents the installation token's answer as { access_token, expires_in } only (docs/otto-api.md §3), as
 * the emulator answers, and here OTTO_APPS lists no scopes either. The v2 app syncs them (OTTO lets its
 * token read them), the v1 app skips them with the upgrade hint. Before, both skipped.
 */
import { TestStack } from '../support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({ appsWithoutScopes: true });
});
afterAll(async () => {
  await stack?.close();
});

it('the v2 app syncs shipping profiles, the v1 app skips them with the upgrade hint', async () => {
  const v2 = await stack.connectSeller(undefined, 'v2');
  const v1 = await stack.connectSeller(undefined, 'v1');
  for (const { handle } of [v2, v1]) {
    const status = await stack.waitFor(handle, (s) => s.transfers.shippingProfilesSync?.lastResult != null);
    expect(status.scopes).toEqual([]);
  }
  const synced = await stack.waitFor(v2.handle, (s) => s.transfers.shippingProfilesSync?.lastResult === 'ok');
  expect(synced.state).toBe('active');
  expect(synced.transfers.shippingProfilesSync?.lastDetail).toMatch(/profile/);
  const skipped = await stack.status(v1.handle);
  expect(skipped.transfers.shippingProfilesSync).toMatchObject({ lastResult: 'skipped' });
  expect(skipped.transfers.shippingProfilesSync?.lastDetail).toMatch(/upgrade to the v2 app/);
  expect(skipped.state).toBe('active');
  await stack.disconnect(v2.handle);
  await stack.disconnect(v1.handle);
});
