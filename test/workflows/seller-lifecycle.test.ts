/**
 * The seller workflow end to end on the real dev server against the OTTO emulator, with 6-second tokens:
 * consent → callback → active, mints (here the revocation probe's, every 2.5 s: no transfer is due after
 * the first), replayed callbacks, denied consent, revocation, disconnect, and the v1 → v2 upgrade while
 * active.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { searchAttributes } from '../../workflows/definitions';
import { partnerHoldersFromVisibility } from '../../worker/partner-holders';
import { TestStack, type LoggedRequest } from '../support/stack';
import { eventually, uniqueName } from '../support/temporal';

const execFileAsync = promisify(execFile);
const TTL_S = 6;
let stack: TestStack;

beforeAll(async () => {
  stack = await TestStack.start({
    tokenTtlSeconds: TTL_S,
    // Several tests here revoke their seller on purpose, one after the other: with the fleet breaker's
    // defaults (5 refused installations, half of those tried in 10 min) the fifth would count as an OTTO
    // incident, under which nobody is revoked. The breaker has its own tests (fleet-breaker, chaos).
    fleetBreaker: { minRefusals: 1_000 },
    settings: {
      tokenRefreshMarginMs: 3_000,
      refreshJitterMs: 300,
      refreshRetryMaxIntervalMs: 500,
      revocationConfirmWindowMs: 200,
      // Tokens are minted just in time; with no transfer due, the probe mints and notices revocation.
      revocationProbeIntervalMs: 2_500,
    },
  });
});
afterAll(async () => {
  await stack?.close();
});

async function mintRequests(installationId: string): Promise<LoggedRequest[]> {
  const log = await stack.requests();
  return log.filter(
    (r) => r.method === 'POST' && r.path.includes(`/installations/${installationId}/accessToken`),
  );
}

function maxGapMs(requests: LoggedRequest[]): number {
  const times = requests.filter((r) => r.status < 300).map((r) => Date.parse(r.at));
  let max = 0;
  for (let i = 1; i < times.length; i++) max = Math.max(max, times[i]! - times[i - 1]!);
  return max;
}

describe('sellerConnection lifecycle (emulator, 6 s tokens)', () => {
  it('connects, shows the installation in the status view, and refreshes ≥ 5 times before expiry', async () => {
    const { handle, partner, status } = await stack.connectSeller();
    expect(status).toMatchObject({
      state: 'active',
      appVersion: 'v1',
      partnerId: partner.partnerId,
      lastError: null,
    });
    expect(status.installationId).toEqual(expect.any(String));
    expect(status.scopes).toEqual(expect.arrayContaining(['orders', 'availability']));
    expect(status.scopes).not.toContain('shipping-profiles');
    expect(status.upgradeAvailable).toBe(true);
    // Connecting mints nothing (tokens just in time): the first tick mints right after `active`.
    const minted = await stack.waitFor(handle, (s) => s.token.expiresAt !== null, 10_000);
    expect(Date.parse(minted.token.expiresAt!)).toBeGreaterThan(Date.now());

    const later = await stack.waitFor(handle, (s) => s.token.refreshCount >= 6, 40_000);
    expect(later.state).toBe('active');
    const mints = await mintRequests(later.installationId!);
    expect(mints.filter((r) => r.status < 300).length).toBeGreaterThanOrEqual(6);
    // Each new token came before the previous one expired.
    expect(maxGapMs(mints)).toBeLessThan(TTL_S * 1_000);
    const log = await stack.requests();
    expect(log.filter((r) => r.token === 'expired')).toEqual([]);

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(searchAttributes.connectionState)).toBe('active');
    expect(description.typedSearchAttributes.get(searchAttributes.partnerId)).toBe(partner.partnerId);
    expect(description.typedSearchAttributes.get(searchAttributes.appVersion)).toBe('v1');

    // What the README tells support to run: the CLI lists connected sellers by state.
    const listed = await eventually(
      async () =>
        (
          await execFileAsync(
            process.env.TEMPORAL_TEST_CLI ?? 'temporal',
            [
              'workflow',
              'list',
              '--address',
              stack.temporalAddress,
              '--query',
              "OttoConnectionState='active'",
            ],
            { encoding: 'utf8' },
          )
        ).stdout,
      (out) => out.includes(handle.workflowId),
    );
    expect(listed).toContain(handle.workflowId);
    await stack.disconnect(handle);
  });

  it('a 429 on the first mint does not spend the single-use code twice (connecting mints nothing; the first tick retries)', async () => {
    const partner = await stack.createPartner();
    const { handle, nonce, authorizeUrl } = await stack.beginConsent(uniqueName('seller'));
    await stack.installApp('v1', partner);
    const params = await stack.consentAtOtto(authorizeUrl, partner);
    await stack.admin('POST', '/faults', {
      method: 'POST',
      pathPattern: '/accessToken$',
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    await stack.deliverCallback(handle, nonce, params);
    await stack.waitForState(handle, 'active');
    // The first tick's mint is throttled once and retried after its backoff.
    const status = await stack.waitFor(handle, (s) => s.token.refreshCount >= 1);
    expect(status.state).toBe('active');
    expect(status.lastError).toBeNull();
    const log = await stack.requests();
    const exchanges = log.filter((r) => r.path === '/oauth2/token' && r.partnerId === partner.partnerId);
    expect(exchanges.length).toBeLessThanOrEqual(1);
    const throttled = log.filter((r) => r.path.endsWith('/accessToken') && r.status === 429);
    expect(throttled.length).toBeGreaterThanOrEqual(1);
    await stack.disconnect(handle);
  });

  it('refuses a replayed callback once active (the update validator says so): nothing changes', async () => {
    const partner = await stack.createPartner();
    const sellerId = uniqueName('seller');
    const { handle, nonce, authorizeUrl } = await stack.beginConsent(sellerId);
    await stack.installApp('v1', partner);
    const params = await stack.consentAtOtto(authorizeUrl, partner);
    expect(await stack.deliverCallback(handle, nonce, params)).toMatchObject({ outcome: 'authorizing' });
    const active = await stack.waitForState(handle, 'active');
    await expect(stack.deliverCallback(handle, nonce, params)).rejects.toMatchObject({
      cause: { type: 'CallbackReplayed' },
    });
    // A callback for no current consent is refused as stale.
    await expect(stack.deliverCallback(handle, 'n'.repeat(22), params)).rejects.toMatchObject({
      cause: { type: 'CallbackStale' },
    });
    const after = await stack.status(handle);
    expect(after.state).toBe('active');
    expect(after.installationId).toBe(active.installationId);
    expect(after.events.filter((e) => e.type === 'authorized')).toHaveLength(1);
    await stack.disconnect(handle);
  });

  it("OTTO's error= is the consent's answer: the same consent cannot be answered again", async () => {
    const partner = await stack.createPartner();
    const { handle, nonce, authorizeUrl } = await stack.beginConsent(uniqueName('seller'));
    await stack.installApp('v1', partner);
    expect(await stack.deliverCallback(handle, nonce, { error: 'access_denied', state: 'x' })).toMatchObject({
      outcome: 'answered',
      state: 'pending_consent',
    });
    const params = await stack.consentAtOtto(authorizeUrl, partner);
    await expect(stack.deliverCallback(handle, nonce, params)).rejects.toMatchObject({
      cause: { type: 'CallbackReplayed' },
    });
    expect((await stack.status(handle)).state).toBe('pending_consent');
    await stack.disconnect(handle);
  });

  it('an OTTO user without "Dienstleister Freigaben" cannot install: OPC refuses, nothing reaches us, consent stays pending', async () => {
    const partner = await stack.createPartner({ dienstleisterFreigaben: false });
    const { handle } = await stack.beginConsent(uniqueName('seller'));
    await expect(stack.installApp('v1', partner)).rejects.toThrow(/Dienstleister Freigaben/);
    const status = await stack.status(handle);
    expect(status.state).toBe('pending_consent');
    expect(status.installationId).toBeNull();
    await stack.disconnect(handle);
  });

  it('the seller cancels at OTTO’s login: error=access_denied keeps the consent pending with a clear lastError', async () => {
    const partner = await stack.createPartner();
    const { handle, nonce, authorizeUrl } = await stack.beginConsent(uniqueName('seller'));
    await stack.installApp('v1', partner);
    const params = await stack.consentAtOtto(authorizeUrl, partner, 'deny');
    expect(params.error).toBe('access_denied');
    await stack.deliverCallback(handle, nonce, params);
    const status = await stack.waitFor(handle, (s) => s.lastError !== null);
    expect(status.state).toBe('pending_consent');
    expect(status.lastError).toMatch(/Allow access/);
    await stack.disconnect(handle);
  });

  it('a seller who logs in without having installed the app stays pending with the install hint (never terminal)', async () => {
    const partner = await stack.createPartner();
    const { handle, nonce, authorizeUrl } = await stack.beginConsent(uniqueName('seller'));
    // No installApp(): OTTO's installation lookup answers 404.
    const params = await stack.consentAtOtto(authorizeUrl, partner);
    expect(params.code).toBeDefined();
    await stack.deliverCallback(handle, nonce, params);
    const status = await stack.waitFor(handle, (s) => s.lastError !== null);
    expect(status.state).toBe('pending_consent');
    expect(status.lastError).toBe(
      'The app is not installed for your OTTO account: click “Allow access” to install it.',
    );
    expect(status.installationId).toBeNull();
    const lookups = (await stack.requests()).filter(
      (r) => r.path.endsWith('/installation') && r.partnerId === partner.partnerId,
    );
    expect(lookups.map((r) => r.status)).toContain(404);

    // Clicking "Allow access" again and installing completes the connection in the same workflow.
    const again = await stack.beginConsent(status.sellerId);
    await stack.installApp('v1', partner);
    await stack.deliverCallback(handle, again.nonce, await stack.consentAtOtto(again.authorizeUrl, partner));
    expect((await stack.waitForState(handle, 'active')).partnerId).toBe(partner.partnerId);
    await stack.disconnect(handle);
  });

  it('one OTTO account feeds one seller: a second seller consenting with it is refused until the first lets go', async () => {
    const first = await stack.connectSeller(uniqueName('seller'));
    const { partner } = first;
    const lookups = async () =>
      (await stack.requests()).filter(
        (r) => r.path.endsWith('/installation') && r.partnerId === partner.partnerId,
      ).length;
    const lookedUp = await lookups();
    const secondId = uniqueName('seller');
    // What the worker asks (visibility trails the workflows by a moment, worker/partner-holders.ts).
    const holders = () =>
      partnerHoldersFromVisibility(stack.env.client, stack.taskQueue)(partner.partnerId, secondId);
    await eventually(holders, (h) => h.includes(first.sellerId));
    const { handle, nonce, authorizeUrl } = await stack.beginConsent(secondId);
    await stack.deliverCallback(handle, nonce, await stack.consentAtOtto(authorizeUrl, partner));
    const refused = await stack.waitFor(handle, (s) =>
      s.events.some((e) => e.type === 'authorization_failed'),
    );
    expect(refused.state).toBe('pending_consent');
    expect(refused.partnerId).toBeNull();
    expect(refused.lastError).toMatch(/already connected to another seller of this shop/);
    // The seller's page does not name the other seller; support's events do.
    expect(refused.lastError).not.toContain(first.sellerId);
    const failed = refused.events.find((e) => e.type === 'authorization_failed');
    expect(failed?.detail).toContain(first.sellerId);
    expect(failed?.detail).toContain(`partner ${partner.partnerId}`);
    // Refused before the installation was looked up or anything minted for the second seller.
    expect(await lookups()).toBe(lookedUp);
    expect((await stack.status(first.handle)).state).toBe('active');

    // The first seller disconnects: the same OTTO account may now connect the second.
    await stack.disconnect(first.handle);
    await eventually(holders, (h) => h.length === 0);
    const again = await stack.beginConsent(secondId);
    await stack.deliverCallback(handle, again.nonce, await stack.consentAtOtto(again.authorizeUrl, partner));
    expect((await stack.waitForState(handle, 'active')).partnerId).toBe(partner.partnerId);
    await stack.disconnect(handle);
  });

  it('a re-consent (upgrade) that lands on another OTTO partner is refused; the seller keeps its partner', async () => {
    const { handle, partner, status: v1 } = await stack.connectSeller(uniqueName('seller'), 'v1');
    const other = await stack.createPartner();
    const { nonce, authorizeUrl } = await stack.beginConsent(v1.sellerId, 'v2');
    await stack.installApp('v2', other);
    await stack.deliverCallback(handle, nonce, await stack.consentAtOtto(authorizeUrl, other));
    const after = await stack.waitFor(handle, (s) => s.events.some((e) => e.type === 'authorization_failed'));
    expect(after).toMatchObject({
      state: 'active',
      appVersion: 'v1',
      partnerId: partner.partnerId,
      installationId: v1.installationId,
    });
    expect(after.lastError).toContain(`partner ${other.partnerId}`);
    expect(after.lastError).toContain(`partner ${partner.partnerId}`);
    // Refused before anything was minted for the other partner.
    const minted = (await stack.requests()).filter(
      (r) => r.path.endsWith('/accessToken') && r.partnerId === other.partnerId,
    );
    expect(minted).toEqual([]);
    await stack.disconnect(handle);
  });

  it('PKCE against a front door that drops the challenge fails with a clear error naming OTTO_PKCE', async () => {
    await stack.admin('PATCH', '/settings', { dropCodeChallenge: true });
    try {
      const partner = await stack.createPartner();
      const { handle, nonce, authorizeUrl } = await stack.beginConsent(uniqueName('seller'));
      await stack.installApp('v1', partner);
      await stack.deliverCallback(handle, nonce, await stack.consentAtOtto(authorizeUrl, partner));
      const status = await stack.waitFor(handle, (s) => s.lastError !== null);
      expect(status.state).toBe('pending_consent');
      expect(status.lastError).toContain('OTTO_PKCE=off');

      // With PKCE off the same front door works.
      const again = await stack.beginConsent(status.sellerId, 'v1', { pkce: false });
      await stack.deliverCallback(
        handle,
        again.nonce,
        await stack.consentAtOtto(again.authorizeUrl, partner),
      );
      await stack.waitForState(handle, 'active');
      await stack.disconnect(handle);
    } finally {
      await stack.admin('PATCH', '/settings', { dropCodeChallenge: false });
    }
  });

  it('a user token without a partner-id claim (null allowed, otto-api.md §2.4) still connects, mints and transfers', async () => {
    await stack.admin('PATCH', '/settings', { partnerIdClaim: 'none' });
    try {
      const { handle, status } = await stack.connectSeller();
      expect(status).toMatchObject({ state: 'active', partnerId: null, lastError: null });
      const transferred = await stack.waitFor(
        handle,
        (s) => s.transfers.ordersImport?.lastResult === 'ok' && s.token.expiresAt !== null,
      );
      expect(transferred.state).toBe('active');
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.partnerId)).toBeUndefined();
      await stack.disconnect(handle);
    } finally {
      await stack.admin('PATCH', '/settings', { partnerIdClaim: 'partner_id' });
    }
  });

  it('notices revocation in OPC at the next refresh and completes as revoked', async () => {
    const { handle, partner } = await stack.connectSeller();
    const revokedAt = Date.now();
    await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
    const final = await handle.result();
    expect(final.state).toBe('revoked');
    // Within one refresh period (TTL − margin) plus the confirmation delay and a little scheduling.
    expect(Date.now() - revokedAt).toBeLessThan(TTL_S * 1_000);
    expect(final.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['revocation_suspected', 'revoked']),
    );
    expect(final.lastError).toMatch(/removed the app/);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });

  it.each([400, 401, 404])(
    'notices revocation when minting answers %i instead (OTTO documents no status, otto-api.md §4)',
    async (status) => {
      await stack.admin('PATCH', '/settings', { revokedMintStatus: status });
      try {
        const { handle, partner } = await stack.connectSeller();
        await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
        const final = await handle.result();
        expect(final.state).toBe('revoked');
        expect(final.events.map((e) => e.type)).toContain('revocation_suspected');
      } finally {
        await stack.admin('PATCH', '/settings', { revokedMintStatus: 403 });
      }
    },
  );

  it('a seller who removes the app and installs it again within the confirmation window stays connected (same installationId)', async () => {
    await stack.admin('PATCH', '/settings', { reinstallKeepsInstallationId: true });
    try {
      const { handle, partner, status } = await stack.connectSeller(uniqueName('seller'), 'v1', {
        overrides: { ...stack.settings, revocationConfirmWindowMs: 120_000 },
      });
      await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
      const suspected = await stack.waitFor(handle, (s) =>
        s.events.some((e) => e.type === 'revocation_suspected'),
      );
      expect(suspected.lastError).toMatch(/may have been removed/);
      const reinstalledAt = Date.now();
      await stack.installApp('v1', partner);
      const recovered = await stack.waitFor(
        handle,
        (s) => s.lastError === null && Date.parse(s.token.lastRefreshedAt ?? '') > reinstalledAt,
        20_000,
      );
      expect(recovered).toMatchObject({ state: 'active', installationId: status.installationId });
      await stack.disconnect(handle);
    } finally {
      await stack.admin('PATCH', '/settings', { reinstallKeepsInstallationId: false });
    }
  });

  it('disconnect while active ends the workflow as disconnected and forgets the installation', async () => {
    const { handle } = await stack.connectSeller();
    await stack.disconnect(handle);
    const final = await handle.result();
    expect(final.state).toBe('disconnected');
    expect(final.installationId).toBeNull();
  });

  it('upgrades v1 → v2 while active: refreshes continue, installation, scopes and version switch once', async () => {
    const { handle, partner, status: v1 } = await stack.connectSeller(uniqueName('seller'), 'v1');
    const { nonce, authorizeUrl, result } = await stack.beginConsent(v1.sellerId, 'v2');
    expect(result.state).toBe('active');
    // v1 keeps refreshing while the seller is at OTTO.
    const mid = await stack.waitFor(handle, (s) => s.token.refreshCount >= v1.token.refreshCount + 1, 20_000);
    expect(mid).toMatchObject({ state: 'active', appVersion: 'v1', pendingConsent: { appVersion: 'v2' } });

    await stack.installApp('v2', partner);
    const params = await stack.consentAtOtto(authorizeUrl, partner);
    await stack.deliverCallback(handle, nonce, params);
    const v2 = await stack.waitFor(handle, (s) => s.appVersion === 'v2');
    expect(v2.state).toBe('active');
    expect(v2.installationId).not.toBe(v1.installationId);
    expect(v2.scopes).toContain('shipping-profiles');
    expect(v2.upgradeAvailable).toBe(false);
    expect(v2.pendingConsent).toBeNull();
    expect(v2.events.filter((e) => e.type === 'upgraded')).toHaveLength(1);

    await stack.waitFor(handle, (s) => s.token.refreshCount >= v2.token.refreshCount + 2, 20_000);
    // No gap: across the switch, tokens (old installation, then new) never lapsed.
    const all = [
      ...(await mintRequests(v1.installationId!)),
      ...(await mintRequests(v2.installationId!)),
    ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    expect(maxGapMs(all)).toBeLessThan(TTL_S * 1_000);
    const sa = await eventually(
      async () => (await handle.describe()).typedSearchAttributes.get(searchAttributes.appVersion),
      (v) => v === 'v2',
    );
    expect(sa).toBe('v2');
    await stack.disconnect(handle);
  });
});
