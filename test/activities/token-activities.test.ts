/**
 * Token activities against a scripted fake OTTO (no server): developer-token caching, error
 * classification, the fleet breaker's classification of refused mints, cancellation and heartbeats
 * while waiting, and resuming an authorization from its heartbeat checkpoint; and, against the
 * emulator, what OTTO answers a mint for an appId that is not ours.
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import request from 'supertest';
import type { ActivityMetrics, MintRefusalOutcome } from '../../activities/activity-metrics';
import { createTokenActivities } from '../../activities/token-activities';
import { startEmulator } from '../../emulator/start-emulator';
import { createSealer, generateSealKey, parseSealKeys, SealError } from '../../common/seal';
import { FailureTypes, type AppVersion } from '../../workflows/definitions';
import { failureOf, hangingRequests, quiet, until } from '../support/activity-helpers';

const sealer = createSealer(parseSealKeys(generateSealKey('k')));
const app = {
  version: 'v1' as const,
  appId: 'app-1',
  clientId: 'client-1',
  clientSecret: 'secret-1',
  scopes: ['orders'],
};

/** `hang`: no answer until the request's signal aborts (then it rejects with the abort reason, as fetch does). */
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error | 'hang';

function fakeOtto(script: Record<string, Reply[]>) {
  const calls: string[] = [];
  /** Form bodies sent, by call key. */
  const forms: Record<string, URLSearchParams[]> = {};
  const { hung, hanging, hang } = hangingRequests();
  const fetchFn: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const key = `${init?.method ?? 'GET'} ${url.pathname}`;
    calls.push(key);
    if (typeof init?.body === 'string') (forms[key] ??= []).push(new URLSearchParams(init.body));
    const replies = script[key];
    const reply = replies && replies.length > 1 ? replies.shift()! : replies?.[0];
    if (!reply) return Promise.resolve(new Response('{}', { status: 404 }));
    if (reply === 'hang') return hang(init);
    if (reply instanceof Error) return Promise.reject(reply);
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return Promise.resolve(new Response(body, { status: reply.status, headers: reply.headers }));
  };
  return { calls, forms, fetchFn, hung, hanging };
}

/** A JWT-shaped user token as OTTO's Keycloak issues it (only the payload matters to us). */
function userJwt(claims: Record<string, unknown>): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: 'https://auth.test/realm', ...claims })}.sig`;
}

const devToken = { status: 200, body: { access_token: 'dev-token', expires_in: 1800 } };
const minted = {
  status: 200,
  body: { access_token: 'inst-token', expires_in: 1800, scope: 'orders availability' },
};
const MINT = 'POST /v1/apps/app-1/installations/inst-1/accessToken';

function activities(
  script: Record<string, Reply[]>,
  options: Partial<Parameters<typeof createTokenActivities>[0]> = {},
) {
  const otto = fakeOtto(script);
  const acts = createTokenActivities({
    sealer,
    apps: [app],
    authBaseUrl: 'https://auth.test',
    apiBaseUrl: 'https://api.test',
    redirectUri: 'https://shop.test/oauth/callback',
    fetch: otto.fetchFn,
    ...options,
  });
  return { acts, calls: otto.calls, forms: otto.forms, hung: otto.hung, hanging: otto.hanging };
}

const env = () => new MockActivityEnvironment();

/** Runs an activity in a mock activity context (heartbeats, info), keeping its result type. */
async function run<I, R>(fn: (input: I) => Promise<R>, input: I, context = env()): Promise<R> {
  return await context.run<[I], R, (input: I) => Promise<R>>(fn, input);
}
const mintInput = { sellerId: 's', appVersion: 'v1' as const, installationId: 'inst-1' };

describe('mintInstallationToken', () => {
  it('returns a sealed token and reuses the developer token across mints', async () => {
    const { acts, calls } = activities({ 'POST /v1/token': [devToken], [MINT]: [minted] });
    const first = await run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput);
    await run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput);
    expect(sealer.unseal(first.sealedToken, { purpose: 'installation-token', sellerId: 's' })).toBe(
      'inst-token',
    );
    // Bound to the seller it was minted for: nobody else's transfer can unseal it.
    expect(() => sealer.unseal(first.sealedToken, { purpose: 'installation-token', sellerId: 't' })).toThrow(
      SealError,
    );
    expect(first.sealedToken).not.toContain('inst-token');
    expect(first.scopes).toEqual(['orders', 'availability']);
    expect(first.expiresAt).toBeGreaterThan(Date.now() + 1_790_000);
    expect(calls.filter((c) => c === 'POST /v1/token')).toHaveLength(1);
  });

  it('reads the developer token when its slot at the token limit is granted, not before the wait', async () => {
    // A 1-second developer token (renewed after half of it) and 2 token requests a second: the later
    // mints wait longer than the token is fresh, so they must fetch a new one instead of sending it stale.
    const shortDev = { status: 200, body: { access_token: 'dev-token', expires_in: 1 } };
    const { acts, calls } = activities(
      { 'POST /v1/token': [shortDev], [MINT]: [minted] },
      { tokenRequestsPerSecond: 2 },
    );
    await Promise.all(
      [1, 2, 3].map(() => run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput)),
    );
    const order = calls.filter((c) => c === 'POST /v1/token' || c === MINT);
    expect(order.filter((c) => c === MINT)).toHaveLength(3);
    // A fresh developer token before the last mint, fetched after the first mint went out.
    expect(order.indexOf('POST /v1/token', order.indexOf(MINT))).toBeGreaterThan(order.indexOf(MINT));
    expect(order.indexOf('POST /v1/token', order.indexOf(MINT))).toBeLessThan(order.lastIndexOf(MINT));
  });

  it('asks for the developer scope, and sends no scope for the installation token unless configured', async () => {
    const plain = activities({ 'POST /v1/token': [devToken], [MINT]: [minted] });
    await run((i: typeof mintInput) => plain.acts.mintInstallationToken(i), mintInput);
    expect(plain.forms['POST /v1/token']![0]!.get('scope')).toBe('developer');
    expect(plain.forms[MINT]![0]!.has('scope')).toBe(false);

    const scoped = activities(
      { 'POST /v1/token': [devToken], [MINT]: [minted] },
      { installationTokenScope: 'orders availability' },
    );
    await run((i: typeof mintInput) => scoped.acts.mintInstallationToken(i), mintInput);
    expect(scoped.forms[MINT]![0]!.get('scope')).toBe('orders availability');
  });

  it('takes the scopes from the app when the installation token response names none (OTTO documents none)', async () => {
    const { acts } = activities({
      'POST /v1/token': [devToken],
      [MINT]: [{ status: 200, body: { access_token: 'inst-token', expires_in: 1800 } }],
    });
    const token = await run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput);
    expect(token.scopes).toEqual(['orders']);
  });

  it('a 401 retries once with a fresh developer token before calling it revoked', async () => {
    const ok = activities({ 'POST /v1/token': [devToken], [MINT]: [{ status: 401 }, minted] });
    await expect(
      run((i: typeof mintInput) => ok.acts.mintInstallationToken(i), mintInput),
    ).resolves.toMatchObject({
      scopes: ['orders', 'availability'],
    });
    expect(ok.calls.filter((c) => c === 'POST /v1/token')).toHaveLength(2);

    const refused = activities({ 'POST /v1/token': [devToken], [MINT]: [{ status: 401 }] });
    const failure = await failureOf(
      run((i: typeof mintInput) => refused.acts.mintInstallationToken(i), mintInput),
    );
    expect(failure).toMatchObject({ type: FailureTypes.installationRevoked, nonRetryable: true });
  });

  it.each([
    [403, undefined],
    [404, undefined],
    [400, undefined],
    [400, { error: 'invalid_grant', error_description: 'Installation not found' }],
  ])('%i %j on minting means the installation may be gone (non-retryable)', async (status, body) => {
    const { acts } = activities({ 'POST /v1/token': [devToken], [MINT]: [{ status, body }] });
    expect(
      await failureOf(run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput)),
    ).toMatchObject({
      type: FailureTypes.installationRevoked,
      nonRetryable: true,
    });
  });

  it('a 400 invalid_scope on minting is our request (OTTO_INSTALLATION_TOKEN_SCOPE), not a revocation', async () => {
    const { acts } = activities(
      {
        'POST /v1/token': [devToken],
        [MINT]: [{ status: 400, body: { error: 'invalid_scope', error_description: 'Invalid scopes: x' } }],
      },
      { installationTokenScope: 'x' },
    );
    const failure = await failureOf(run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput));
    expect(failure.type).not.toBe(FailureTypes.installationRevoked);
    expect(failure).toMatchObject({ nonRetryable: true });
  });

  it('429 is retried after Retry-After, 5xx and network errors with backoff', async () => {
    const limited = activities({
      'POST /v1/token': [devToken],
      [MINT]: [{ status: 429, headers: { 'retry-after': '7' } }],
    });
    const failure = await failureOf(
      run((i: typeof mintInput) => limited.acts.mintInstallationToken(i), mintInput),
    );
    expect(failure).toMatchObject({
      type: FailureTypes.rateLimited,
      nonRetryable: false,
      nextRetryDelay: 7_000,
    });

    const down = activities({ 'POST /v1/token': [devToken], [MINT]: [{ status: 503 }] });
    expect(
      await failureOf(run((i: typeof mintInput) => down.acts.mintInstallationToken(i), mintInput)),
    ).toMatchObject({
      type: FailureTypes.ottoUnavailable,
      nonRetryable: false,
    });
    const unreachable = activities({ 'POST /v1/token': [devToken], [MINT]: [new TypeError('fetch failed')] });
    expect(
      await failureOf(run((i: typeof mintInput) => unreachable.acts.mintInstallationToken(i), mintInput)),
    ).toMatchObject({
      type: FailureTypes.ottoUnavailable,
    });
  });

  it.each([
    ['invalid_client', { status: 401, body: { error: 'invalid_client' } }],
    ['a 401 without a reason', { status: 401 }],
    ['invalid_client with 400', { status: 400, body: { error: 'invalid_client' } }],
  ])(
    'OTTO refusing the client credentials (%s) during a mint is a fleet incident naming the app, not a seller problem',
    async (_what, refusal) => {
      const { acts, calls } = activities({ 'POST /v1/token': [refusal] });
      const failure = await failureOf(run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput));
      expect(failure).toMatchObject({ type: FailureTypes.fleetIncident, nonRetryable: true });
      expect(failure.message).toContain('OTTO refuses the client credentials of app v1 (appId app-1');
      expect(failure.message).toContain('OTTO_APPS');
      expect(failure.message).not.toContain('secret-1');
      expect(calls).not.toContain(MINT);
    },
  );
});

describe('completeAuthorization', () => {
  const input = {
    sellerId: 's',
    appVersion: 'v1' as const,
    sealedCode: sealer.seal('the-code', { purpose: 'authorization-code', sellerId: 's' }),
    sealedPkceVerifier: sealer.seal('the-verifier', { purpose: 'pkce-verifier', sellerId: 's' }),
  };
  const userToken = (claims: Record<string, unknown> = { partner_id: 'P1' }) => ({
    status: 200,
    body: {
      access_token: userJwt(claims),
      expires_in: 300,
      refresh_expires_in: 7200,
      refresh_token: 'refresh',
      token_type: 'Bearer',
      'not-before-policy': 0,
      session_state: 'sess',
      scope: 'installation partnerId',
    },
  });
  const script = (claims?: Record<string, unknown>) => ({
    'POST /oauth2/token': [userToken(claims)],
    // OTTO documents only the installation id here; the partner id comes from the user token.
    'GET /v1/apps/app-1/installation': [{ status: 200, body: { installationId: 'inst-1' } }],
    'POST /v1/token': [devToken],
    [MINT]: [minted],
  });

  it('exchanges the code, reads the partner from the user token and the installation, mints the first token', async () => {
    const { acts, calls, forms } = activities(script());
    const result = await run((i: typeof input) => acts.completeAuthorization(i), input);
    expect(result).toMatchObject({
      appVersion: 'v1',
      appId: 'app-1',
      installationId: 'inst-1',
      partnerId: 'P1',
    });
    expect(sealer.unseal(result.sealedToken!, { purpose: 'installation-token', sellerId: 's' })).toBe(
      'inst-token',
    );
    expect(calls).toEqual(['POST /oauth2/token', 'GET /v1/apps/app-1/installation', 'POST /v1/token', MINT]);

    // Just in time (the workflow's first tick mints): no developer token, no mint, the app's scopes.
    const jit = activities(script());
    const lean = await run((i: typeof input) => jit.acts.completeAuthorization(i), {
      ...input,
      mintToken: false,
    });
    expect(lean).toMatchObject({
      installationId: 'inst-1',
      partnerId: 'P1',
      sealedToken: null,
      expiresAt: null,
    });
    expect(lean.scopes.length).toBeGreaterThan(0);
    expect(jit.calls).toEqual(['POST /oauth2/token', 'GET /v1/apps/app-1/installation']);
    const exchange = forms['POST /oauth2/token']![0]!;
    expect(exchange.get('code_verifier')).toBe('the-verifier');
    expect(exchange.get('redirect_uri')).toBe('https://shop.test/oauth/callback');
  });

  it.each([
    [{ partner: '1000624', preferred_username: '1000624' }, ['partner_id', 'partner'], '1000624'],
    [{ partner_id: 1000000 }, ['partner_id', 'partner'], '1000000'],
    [{ seller: 'S9', partner_id: 'P1' }, ['seller'], 'S9'],
    [{ azp: 'client-1' }, ['partner_id', 'partner'], null],
  ])('partner id from the claims %j with claim list %j → %j', async (claims, partnerIdClaims, expected) => {
    const { acts } = activities(script(claims), { partnerIdClaims });
    const result = await run((i: typeof input) => acts.completeAuthorization(i), input);
    expect(result.partnerId).toBe(expected);
  });

  it('the code exchange needs nothing but access_token (OTTO does not specify its answer, otto-api.md §2.4)', async () => {
    const bare = { status: 200, body: { access_token: userJwt({ partner_id: 'P1' }) } };
    const { acts, calls } = activities({ ...script(), 'POST /oauth2/token': [bare] });
    const result = await run((i: typeof input) => acts.completeAuthorization(i), input);
    expect(result).toMatchObject({ installationId: 'inst-1', partnerId: 'P1' });
    expect(calls).toEqual(['POST /oauth2/token', 'GET /v1/apps/app-1/installation', 'POST /v1/token', MINT]);
  });

  it('without PKCE no code_verifier is sent; OTTO_SEND_REDIRECT_URI=off sends no redirect_uri', async () => {
    const { acts, forms } = activities(script(), { sendRedirectUri: false });
    const { sealedPkceVerifier: _omitted, ...withoutPkce } = input;
    await run((i: typeof withoutPkce) => acts.completeAuthorization(i), withoutPkce);
    const exchange = forms['POST /oauth2/token']![0]!;
    expect(exchange.has('code_verifier')).toBe(false);
    expect(exchange.has('redirect_uri')).toBe(false);
  });

  it('an installation lookup 404 means the app is not installed for this partner (non-retryable)', async () => {
    const { acts, calls } = activities({
      ...script(),
      'GET /v1/apps/app-1/installation': [{ status: 404, body: { errors: [{ title: 'Not Found' }] } }],
    });
    const failure = await failureOf(run((i: typeof input) => acts.completeAuthorization(i), input));
    expect(failure).toMatchObject({ type: FailureTypes.appNotInstalled, nonRetryable: true });
    expect(calls).not.toContain(MINT);
  });

  it('a user token of another partner than expected is refused before anything is looked up or minted', async () => {
    const { acts, calls } = activities(script({ partner_id: 'P-OTHER' }));
    const failure = await failureOf(
      run((i: typeof input) => acts.completeAuthorization(i), { ...input, expectedPartnerId: 'P1' }),
    );
    expect(failure).toMatchObject({ type: FailureTypes.partnerMismatch, nonRetryable: true });
    expect(failure.message).toContain('P-OTHER');
    expect(failure.message).toContain('P1');
    expect(calls).toEqual(['POST /oauth2/token']);
  });

  it('a user token of a partner another seller of the shop holds is refused before anything is looked up', async () => {
    const asked: Array<[string, string]> = [];
    const holding = (holders: string[]) => (partnerId: string, except: string) => {
      asked.push([partnerId, except]);
      return Promise.resolve(holders);
    };
    const taken = activities(script({ partner_id: 'P1' }), { sellersHoldingPartner: holding(['s-first']) });
    const failure = await failureOf(run((i: typeof input) => taken.acts.completeAuthorization(i), input));
    expect(failure).toMatchObject({ type: FailureTypes.partnerTaken, nonRetryable: true });
    expect(failure.message).toContain('P1');
    expect(failure.message).toContain('s-first');
    expect(taken.calls).toEqual(['POST /oauth2/token']);
    expect(asked).toEqual([['P1', 's']]);

    // Nobody else holds it: connected as before.
    const free = activities(script({ partner_id: 'P1' }), { sellersHoldingPartner: holding([]) });
    const result = await run((i: typeof input) => free.acts.completeAuthorization(i), input);
    expect(result.partnerId).toBe('P1');

    // The seller's own partner (a re-consent, an upgrade) is its own: not asked about.
    asked.length = 0;
    const own = activities(script({ partner_id: 'P1' }), { sellersHoldingPartner: holding(['s-old']) });
    await run((i: typeof input) => own.acts.completeAuthorization(i), { ...input, expectedPartnerId: 'P1' });
    expect(asked).toEqual([]);
    // No partner id in the token (OTTO_PARTNER_ID_CLAIM finds none): nothing to check.
    const anonymous = activities(script({ azp: 'client-1' }), { sellersHoldingPartner: holding(['s-x']) });
    await run((i: typeof input) => anonymous.acts.completeAuthorization(i), input);
    expect(asked).toEqual([]);
  });

  it('resumes after the exchange from its heartbeat checkpoint: the code is never spent twice', async () => {
    const { acts, calls } = activities(script());
    const resumed = new MockActivityEnvironment({
      heartbeatDetails: {
        sealedUserToken: sealer.seal(userJwt({ partner_id: 'P1' }), { purpose: 'user-token', sellerId: 's' }),
        partnerId: 'P1',
      },
    });
    const result = await run((i: typeof input) => acts.completeAuthorization(i), input, resumed);
    expect(calls).not.toContain('POST /oauth2/token');
    expect(calls[0]).toBe('GET /v1/apps/app-1/installation');
    expect(result.partnerId).toBe('P1');
  });

  it("a code sealed for seller A fails seller B's authorization non-retryably; nothing is sent to OTTO", async () => {
    const { acts, calls } = activities(script());
    const forA = {
      sealedCode: sealer.seal('code-of-A', { purpose: 'authorization-code', sellerId: 'seller-A' }),
      sealedPkceVerifier: sealer.seal('verifier-of-A', { purpose: 'pkce-verifier', sellerId: 'seller-A' }),
    };
    const failure = await failureOf(
      run((i: typeof input) => acts.completeAuthorization(i), { ...input, sellerId: 'seller-B', ...forA }),
    );
    expect(failure).toMatchObject({ type: FailureTypes.authorizationRejected, nonRetryable: true });
    expect(failure.message).toContain('authorization-code');
    expect(failure.message).toContain('sealed for another seller or purpose');
    expect(failure.message).toContain('seller-B');
    expect(failure.message).not.toContain('code-of-A');
    expect(calls).toEqual([]);
  });

  it.each([
    [
      'a PKCE verifier of another seller',
      { sealedPkceVerifier: sealer.seal('the-verifier', { purpose: 'pkce-verifier', sellerId: 'other' }) },
      'pkce-verifier',
    ],
    [
      'the verifier in the code field (swapped)',
      {
        sealedCode: sealer.seal('the-verifier', { purpose: 'pkce-verifier', sellerId: 's' }),
        sealedPkceVerifier: sealer.seal('the-code', { purpose: 'authorization-code', sellerId: 's' }),
      },
      'authorization-code',
    ],
    [
      'a code sealed by the v1 format',
      { sealedCode: `v1.k.${'A'.repeat(16)}.${'A'.repeat(30)}` },
      'older version',
    ],
  ])('%s is refused non-retryably before the exchange', async (_what, change, mentions) => {
    const { acts, calls } = activities(script());
    const failure = await failureOf(
      run((i: typeof input) => acts.completeAuthorization(i), { ...input, ...change }),
    );
    expect(failure).toMatchObject({ type: FailureTypes.authorizationRejected, nonRetryable: true });
    expect(failure.message).toContain(mentions);
    expect(calls).toEqual([]);
  });

  it('a checkpointed user token of another seller is refused (non-retryable), not sent to OTTO', async () => {
    const { acts, calls } = activities(script());
    const resumed = new MockActivityEnvironment({
      heartbeatDetails: {
        sealedUserToken: sealer.seal(userJwt({ partner_id: 'P1' }), {
          purpose: 'user-token',
          sellerId: 'other',
        }),
        partnerId: 'P1',
      },
    });
    const failure = await failureOf(run((i: typeof input) => acts.completeAuthorization(i), input, resumed));
    expect(failure).toMatchObject({ type: FailureTypes.authorizationRejected, nonRetryable: true });
    expect(failure.message).toContain('user-token');
    expect(calls).toEqual([]);
  });

  it('a refused code (invalid_grant) asks the seller to consent again', async () => {
    const { acts } = activities({
      ...script(),
      'POST /oauth2/token': [
        { status: 400, body: { error: 'invalid_grant', error_description: 'Code not valid' } },
      ],
    });
    const failure = await failureOf(run((i: typeof input) => acts.completeAuthorization(i), input));
    expect(failure).toMatchObject({ type: FailureTypes.authorizationRejected, nonRetryable: true });
    expect(failure.message).toContain('invalid_grant');
    expect(failure.message).not.toContain('the-code');
  });

  it('a verifier refused for lack of a challenge names OTTO_PKCE', async () => {
    const { acts } = activities({
      ...script(),
      'POST /oauth2/token': [
        {
          status: 400,
          body: {
            error: 'invalid_grant',
            error_description: 'PKCE code verifier specified but challenge not present in authorization',
          },
        },
      ],
    });
    const failure = await failureOf(run((i: typeof input) => acts.completeAuthorization(i), input));
    expect(failure).toMatchObject({ type: FailureTypes.authorizationRejected, nonRetryable: true });
    expect(failure.message).toContain('OTTO_PKCE=off');
    expect(failure.message).not.toContain('the-verifier');
  });
});

describe('completeAuthorization keeps its classification of refused client credentials', () => {
  it('a developer token refused while minting the first token is InvalidClientCredentials', async () => {
    const { acts } = activities({
      'POST /v1/token': [{ status: 401, body: { error: 'invalid_client' } }],
    });
    const resumed = new MockActivityEnvironment({
      heartbeatDetails: {
        sealedUserToken: sealer.seal(userJwt({ partner_id: 'P1' }), { purpose: 'user-token', sellerId: 's' }),
        partnerId: 'P1',
        installationId: 'inst-1',
      },
    });
    const input = {
      sellerId: 's',
      appVersion: 'v1' as const,
      sealedCode: sealer.seal('the-code', { purpose: 'authorization-code', sellerId: 's' }),
    };
    const failure = await failureOf(run((i: typeof input) => acts.completeAuthorization(i), input, resumed));
    expect(failure).toMatchObject({ type: FailureTypes.invalidClientCredentials, nonRetryable: true });
    expect(failure.message).toContain('OTTO_APPS');
  });
});

// ---- the fleet breaker ------------------------------------------------------------------------------

/** No token-endpoint limit to wait for in tests that mint for many installations. */
const FAST = 1_000;

const mintKey = (installationId: string, appId = 'app-1') =>
  `POST /v1/apps/${appId}/installations/${installationId}/accessToken`;
const mintFor = (installationId: string, appVersion: AppVersion = 'v1') => ({
  sellerId: `s-${installationId}`,
  appVersion,
  installationId,
});

/** A Context whose log lines (info and up) are kept, and metrics that record what they are told. */
function observed() {
  const lines: LogEntry[] = [];
  const context = new MockActivityEnvironment(undefined, {
    logger: new DefaultLogger('INFO', (entry) => lines.push(entry)),
  });
  const incidents: Array<[string, boolean]> = [];
  const refusals: Array<[string, MintRefusalOutcome]> = [];
  const mints: string[] = [];
  const metrics: ActivityMetrics = {
    tokenMint: (result) => void mints.push(result),
    transfer: () => undefined,
    mintRefusal: (version, outcome) => void refusals.push([version, outcome]),
    fleetIncident: (version, open) => void incidents.push([version, open]),
  };
  const breakerLines = () => lines.filter((l) => l.message.includes('fleet breaker'));
  return { context, metrics, incidents, refusals, mints, breakerLines };
}

describe('the fleet breaker', () => {
  const installations = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `inst-${from + i}`);

  it.each([401, 403, 404])(
    'a refusal (%i) for every installation (a wrong appId, an OTTO outage) opens it: the 5th refusal on is an incident, nobody is revoked',
    async (status) => {
      const ids = installations(8);
      const script: Record<string, Reply[]> = { 'POST /v1/token': [devToken] };
      for (const id of ids) script[mintKey(id)] = [{ status, body: { errors: [{ title: 'Not Found' }] } }];
      const o = observed();
      const { acts } = activities(script, { metrics: o.metrics, tokenRequestsPerSecond: FAST });
      const failures = [];
      for (const id of ids)
        failures.push(
          await failureOf(
            run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor(id), o.context),
          ),
        );
      expect(failures.map((f) => f.type)).toEqual([
        ...Array<string>(4).fill(FailureTypes.installationRevoked),
        ...Array<string>(4).fill(FailureTypes.fleetIncident),
      ]);
      const incident = failures[4]!;
      expect(incident.nonRetryable).toBe(true);
      expect(incident.message).toContain('app v1 (appId app-1)');
      expect(incident.message).toContain('5 of 5 installations refused');
      expect(incident.message).toContain(
        'an OTTO outage or a wrong appId in OTTO_APPS; nobody is revoked until it clears',
      );
      expect(failures[7]!.message).toContain('8 of 8 installations refused');
      // One warn line when it opened, none for the refusals after; the gauge set once.
      expect(o.breakerLines().map((l) => l.level)).toEqual(['WARN']);
      expect(o.breakerLines()[0]!.message).toContain('appId app-1');
      expect(o.incidents).toEqual([['v1', true]]);
      expect(o.refusals.map(([, outcome]) => outcome)).toEqual([
        ...Array<string>(4).fill('revocation_evidence'),
        ...Array<string>(4).fill('fleet_incident'),
      ]);
      expect(o.mints).toEqual([...Array<string>(4).fill('revoked'), ...Array<string>(4).fill('incident')]);
    },
  );

  it('a lone refusal among many successes stays InstallationRevoked (revocation evidence)', async () => {
    const ids = installations(20);
    const script: Record<string, Reply[]> = { 'POST /v1/token': [devToken] };
    for (const id of ids) script[mintKey(id)] = [minted];
    script[mintKey('inst-gone')] = [{ status: 403 }];
    const o = observed();
    const { acts } = activities(script, { metrics: o.metrics, tokenRequestsPerSecond: FAST });
    for (const id of ids)
      await run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor(id), o.context);
    const failure = await failureOf(
      run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor('inst-gone'), o.context),
    );
    expect(failure).toMatchObject({ type: FailureTypes.installationRevoked, nonRetryable: true });
    expect(o.breakerLines()).toEqual([]);
    expect(o.incidents).toEqual([]);
  });

  it('stays closed while refusals are fewer than half of the installations attempted, even when five or more', async () => {
    const ok = installations(6, 1);
    const refused = installations(5, 100);
    const script: Record<string, Reply[]> = { 'POST /v1/token': [devToken] };
    for (const id of ok) script[mintKey(id)] = [minted];
    for (const id of refused) script[mintKey(id)] = [{ status: 404 }];
    const { acts } = activities(script, { tokenRequestsPerSecond: FAST });
    const context = new MockActivityEnvironment(undefined, quiet());
    for (const id of ok)
      await run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor(id), context);
    const types = [];
    for (const id of refused)
      types.push(
        (
          await failureOf(
            run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor(id), context),
          )
        ).type,
      );
    // 5 refused of 11 attempted: below the ratio 0.5.
    expect(types).toEqual(Array<string>(5).fill(FailureTypes.installationRevoked));
  });

  it('closes by itself when installations mint again (one info line), and refusals are evidence again', async () => {
    const ids = installations(5);
    const script: Record<string, Reply[]> = { 'POST /v1/token': [devToken] };
    // Refused once each (the outage), then minted again.
    for (const id of ids) script[mintKey(id)] = [{ status: 404 }, minted];
    script[mintKey('inst-gone')] = [{ status: 404 }];
    const o = observed();
    const { acts } = activities(script, { metrics: o.metrics, tokenRequestsPerSecond: FAST });
    const mint = (id: string) =>
      run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor(id), o.context);
    for (const id of ids) await failureOf(mint(id));
    expect(o.incidents).toEqual([['v1', true]]);
    // OTTO is back: the first successes bring the refused share under the ratio.
    for (const id of ids) await mint(id);
    expect(o.breakerLines().map((l) => l.level)).toEqual(['WARN', 'INFO']);
    expect(o.breakerLines()[1]!.message).toContain('closed for app v1 (appId app-1)');
    expect(o.incidents).toEqual([
      ['v1', true],
      ['v1', false],
    ]);
    expect(await failureOf(mint('inst-gone'))).toMatchObject({ type: FailureTypes.installationRevoked });
  });

  it('closes when the refusals fall out of its window (configured through deps.fleetBreaker)', async () => {
    let clock = Date.parse('2025-03-01T10:00:00Z');
    const ids = installations(3);
    const script: Record<string, Reply[]> = { 'POST /v1/token': [devToken] };
    for (const id of ids) script[mintKey(id)] = [{ status: 404 }];
    script[mintKey('inst-later')] = [{ status: 404 }];
    const o = observed();
    const { acts } = activities(script, {
      metrics: o.metrics,
      tokenRequestsPerSecond: FAST,
      // A clock that moves (a millisecond a read), as the token limit's pacing needs; the jumps are the test's.
      now: () => clock++,
      fleetBreaker: { windowMs: 60_000, minRefusals: 3, ratio: 0.5 },
    });
    const mint = (id: string) =>
      failureOf(
        run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor(id), o.context),
      );
    const types = [];
    for (const id of ids) types.push((await mint(id)).type);
    expect(types).toEqual([
      FailureTypes.installationRevoked,
      FailureTypes.installationRevoked,
      FailureTypes.fleetIncident,
    ]);
    clock += 61_000;
    // The window slid past the outage: this refusal stands alone.
    expect((await mint('inst-later')).type).toBe(FailureTypes.installationRevoked);
    expect(o.breakerLines().map((l) => l.level)).toEqual(['WARN', 'INFO']);
  });

  it('keeps apps apart: an incident of one app does not turn the other app’s refusals into incidents', async () => {
    const other = { ...app, version: 'v2' as const, appId: 'app-2', clientId: 'client-2' };
    const script: Record<string, Reply[]> = { 'POST /v1/token': [devToken] };
    for (const id of installations(5)) script[mintKey(id)] = [{ status: 404 }];
    script[mintKey('inst-x', 'app-2')] = [{ status: 404 }];
    const { acts } = activities(script, { apps: [app, other], tokenRequestsPerSecond: FAST });
    const context = new MockActivityEnvironment(undefined, quiet());
    for (const id of installations(5))
      await failureOf(
        run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor(id), context),
      );
    const failure = await failureOf(
      run((i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i), mintFor('inst-x', 'v2'), context),
    );
    expect(failure.type).toBe(FailureTypes.installationRevoked);
  });
});

describe('a wrong appId against the emulator', () => {
  it('OTTO (the emulator) refuses the mint with 403, not something kinder, and the breaker calls it an incident', async () => {
    const running = await startEmulator({
      tokenRateLimitPerSecond: 10_000,
      partnerRateLimitPerSecond: 10_000,
    });
    try {
      const list = (await request(running.url).get('/__admin/apps').expect(200)).body as Array<{
        version: string;
        appId: string;
        clientId: string;
        clientSecret: string;
        scopes: string[];
      }>;
      const real = list.find((a) => a.version === 'v1')!;
      const wrong = {
        version: 'v1' as const,
        appId: `${real.appId}-staging`,
        clientId: real.clientId,
        clientSecret: real.clientSecret,
        scopes: real.scopes,
      };
      const acts = createTokenActivities({
        sealer,
        apps: [wrong],
        authBaseUrl: running.url,
        apiBaseUrl: running.url,
        redirectUri: 'https://shop.test/oauth/callback',
        tokenRequestsPerSecond: 1_000,
      });
      const context = new MockActivityEnvironment(undefined, quiet());
      const failures = [];
      for (let n = 1; n <= 5; n++)
        failures.push(
          await failureOf(
            run(
              (i: ReturnType<typeof mintFor>) => acts.mintInstallationToken(i),
              mintFor(`inst-${n}`),
              context,
            ),
          ),
        );
      expect(failures[0]!.message).toMatch(/OTTO answered 403/);
      expect(failures.map((f) => f.type)).toEqual([
        ...Array<string>(4).fill(FailureTypes.installationRevoked),
        FailureTypes.fleetIncident,
      ]);
      expect(failures[4]!.message).toContain(`appId ${wrong.appId}`);
    } finally {
      await running.close();
    }
  });
});

// ---- cancellation and heartbeats ----------------------------------------------------------------------

describe('token activities honour cancellation and heartbeat while waiting', () => {
  it('cancelling a mint aborts the request in flight; it counts neither as refusal nor failure', async () => {
    const o = observed();
    const { acts, hung, hanging } = activities(
      { 'POST /v1/token': [devToken], [MINT]: ['hang'] },
      { metrics: o.metrics },
    );
    const context = new MockActivityEnvironment(undefined, quiet());
    const pending = run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput, context);
    await hanging;
    context.cancel();
    await expect(pending).rejects.toBeInstanceOf(CancelledFailure);
    expect(hung[0]!.aborted).toBe(true);
    expect(o.mints).toEqual([]);
    expect(o.refusals).toEqual([]);
  });

  it('a mint waiting for the token-endpoint limit heartbeats and stops at once when cancelled, sending nothing', async () => {
    const { acts, calls } = activities(
      { 'POST /v1/token': [devToken], [MINT]: [minted] },
      { tokenRequestsPerSecond: 1 },
    );
    const context = new MockActivityEnvironment(undefined, quiet());
    const beats: unknown[] = [];
    context.on('heartbeat', (d: unknown) => beats.push(d));
    const pending = run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput, context);
    // The developer token took this second's only slot: the mint waits (~1 s) for the next, heartbeating.
    await until('a heartbeat while the mint waits for the limit', () => beats.length > 0);
    expect(calls).toEqual(['POST /v1/token']);
    const cancelledAt = Date.now();
    context.cancel();
    await expect(pending).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - cancelledAt).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(calls).toEqual(['POST /v1/token']);
  });

  it('completeAuthorization waiting for the limit heartbeats its checkpoint, never a blank', async () => {
    const { acts } = activities(
      { 'POST /v1/token': [devToken], [MINT]: [minted] },
      { tokenRequestsPerSecond: 1 },
    );
    const checkpoint = {
      sealedUserToken: sealer.seal(userJwt({ partner_id: 'P1' }), { purpose: 'user-token', sellerId: 's' }),
      partnerId: 'P1',
      installationId: 'inst-1',
    };
    const context = new MockActivityEnvironment({ heartbeatDetails: checkpoint }, quiet());
    const beats: unknown[] = [];
    context.on('heartbeat', (d: unknown) => beats.push(d));
    const input = {
      sellerId: 's',
      appVersion: 'v1' as const,
      sealedCode: sealer.seal('the-code', { purpose: 'authorization-code', sellerId: 's' }),
    };
    const result = await run((i: typeof input) => acts.completeAuthorization(i), input, context);
    expect(result.installationId).toBe('inst-1');
    expect(beats.length).toBeGreaterThan(0);
    for (const beat of beats) expect(beat).toEqual(checkpoint);
  });

  it('cancelling completeAuthorization aborts the code exchange in flight', async () => {
    const { acts, hung, hanging } = activities({ 'POST /oauth2/token': ['hang'] });
    const context = new MockActivityEnvironment(undefined, quiet());
    const input = {
      sellerId: 's',
      appVersion: 'v1' as const,
      sealedCode: sealer.seal('the-code', { purpose: 'authorization-code', sellerId: 's' }),
    };
    const pending = run((i: typeof input) => acts.completeAuthorization(i), input, context);
    await hanging;
    context.cancel();
    await expect(pending).rejects.toBeInstanceOf(CancelledFailure);
    expect(hung[0]!.aborted).toBe(true);
  });
});
