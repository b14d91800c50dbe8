/**
 * Token activities against a scripted fake OTTO (no server): developer-token caching, error
 * classification, and resuming an authorization from its heartbeat checkpoint.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTokenActivities } from '../../activities/token-activities';
import { createSealer, generateSealKey, parseSealKeys, SealError } from '../../common/seal';
import { FailureTypes } from '../../workflows/definitions';
import { failureOf } from '../support/activity-helpers';

const sealer = createSealer(parseSealKeys(generateSealKey('k')));
const app = {
  version: 'v1' as const,
  appId: 'app-1',
  clientId: 'client-1',
  clientSecret: 'secret-1',
  scopes: ['orders'],
};

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

function fakeOtto(script: Record<string, Reply[]>) {
  const calls: string[] = [];
  /** Form bodies sent, by call key. */
  const forms: Record<string, URLSearchParams[]> = {};
  const fetchFn: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const key = `${init?.method ?? 'GET'} ${url.pathname}`;
    calls.push(key);
    if (typeof init?.body === 'string') (forms[key] ??= []).push(new URLSearchParams(init.body));
    const replies = script[key];
    const reply = replies && replies.length > 1 ? replies.shift()! : replies?.[0];
    if (!reply) return Promise.resolve(new Response('{}', { status: 404 }));
    if (reply instanceof Error) return Promise.reject(reply);
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return Promise.resolve(new Response(body, { status: reply.status, headers: reply.headers }));
  };
  return { calls, forms, fetchFn };
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
  return { acts, calls: otto.calls, forms: otto.forms };
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

  it.each([403, 404])('%i on minting means the installation is gone (non-retryable)', async (status) => {
    const { acts } = activities({ 'POST /v1/token': [devToken], [MINT]: [{ status }] });
    expect(
      await failureOf(run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput)),
    ).toMatchObject({
      type: FailureTypes.installationRevoked,
      nonRetryable: true,
    });
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

  it('wrong client credentials are a deployment problem, not a seller problem', async () => {
    const { acts } = activities({ 'POST /v1/token': [{ status: 401, body: { error: 'invalid_client' } }] });
    const failure = await failureOf(run((i: typeof mintInput) => acts.mintInstallationToken(i), mintInput));
    expect(failure).toMatchObject({ type: FailureTypes.invalidClientCredentials, nonRetryable: true });
    expect(failure.message).toContain('OTTO_APPS');
  });
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
    expect(sealer.unseal(result.sealedToken, { purpose: 'installation-token', sellerId: 's' })).toBe(
      'inst-token',
    );
    expect(calls).toEqual(['POST /oauth2/token', 'GET /v1/apps/app-1/installation', 'POST /v1/token', MINT]);
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
