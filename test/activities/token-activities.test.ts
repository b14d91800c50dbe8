/**
 * Token activities against a scripted fake OTTO (no server): developer-token caching, error
 * classification, and resuming an authorization from its heartbeat checkpoint.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createTokenActivities } from '../../activities/token-activities';
import { createSealer, generateSealKey, parseSealKeys } from '../../common/seal';
import { FailureTypes } from '../../workflows/definitions';

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
  const fetchFn: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const key = `${init?.method ?? 'GET'} ${url.pathname}`;
    calls.push(key);
    const replies = script[key];
    const reply = replies && replies.length > 1 ? replies.shift()! : replies?.[0];
    if (!reply) return Promise.resolve(new Response('{}', { status: 404 }));
    if (reply instanceof Error) return Promise.reject(reply);
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return Promise.resolve(new Response(body, { status: reply.status, headers: reply.headers }));
  };
  return { calls, fetchFn };
}

const devToken = { status: 200, body: { access_token: 'dev-token', expires_in: 1800 } };
const minted = {
  status: 200,
  body: { access_token: 'inst-token', expires_in: 1800, scope: 'orders availability' },
};
const MINT = 'POST /v1/apps/app-1/installations/inst-1/accessToken';

function activities(script: Record<string, Reply[]>) {
  const otto = fakeOtto(script);
  const acts = createTokenActivities({
    sealer,
    apps: [app],
    authBaseUrl: 'https://auth.test',
    apiBaseUrl: 'https://api.test',
    redirectUri: 'https://shop.test/oauth/callback',
    fetch: otto.fetchFn,
  });
  return { acts, calls: otto.calls };
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected a failure');
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
    expect(sealer.unseal(first.sealedToken)).toBe('inst-token');
    expect(first.sealedToken).not.toContain('inst-token');
    expect(first.scopes).toEqual(['orders', 'availability']);
    expect(first.expiresAt).toBeGreaterThan(Date.now() + 1_790_000);
    expect(calls.filter((c) => c === 'POST /v1/token')).toHaveLength(1);
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
    sealedCode: sealer.seal('the-code'),
    sealedPkceVerifier: sealer.seal('the-verifier'),
  };
  const script = () => ({
    'POST /oauth2/token': [{ status: 200, body: { access_token: 'user-token', expires_in: 300 } }],
    'GET /v1/apps/app-1/installation': [
      { status: 200, body: { installationId: 'inst-1', partnerId: 'P1', extra: 'ignored' } },
    ],
    'POST /v1/token': [devToken],
    [MINT]: [minted],
  });

  it('exchanges the code, reads the installation and mints the first token', async () => {
    const { acts, calls } = activities(script());
    const result = await run((i: typeof input) => acts.completeAuthorization(i), input);
    expect(result).toMatchObject({
      appVersion: 'v1',
      appId: 'app-1',
      installationId: 'inst-1',
      partnerId: 'P1',
    });
    expect(sealer.unseal(result.sealedToken)).toBe('inst-token');
    expect(calls).toEqual(['POST /oauth2/token', 'GET /v1/apps/app-1/installation', 'POST /v1/token', MINT]);
  });

  it('resumes after the exchange from its heartbeat checkpoint: the code is never spent twice', async () => {
    const { acts, calls } = activities(script());
    const resumed = new MockActivityEnvironment({
      heartbeatDetails: { sealedUserToken: sealer.seal('user-token') },
    });
    await run((i: typeof input) => acts.completeAuthorization(i), input, resumed);
    expect(calls).not.toContain('POST /oauth2/token');
    expect(calls[0]).toBe('GET /v1/apps/app-1/installation');
  });

  it('a refused code (invalid_grant) asks the seller to consent again', async () => {
    const { acts } = activities({
      ...script(),
      'POST /oauth2/token': [{ status: 400, body: { error: 'invalid_grant' } }],
    });
    const failure = await failureOf(run((i: typeof input) => acts.completeAuthorization(i), input));
    expect(failure).toMatchObject({ type: FailureTypes.authorizationRejected, nonRetryable: true });
    expect(failure.message).toContain('invalid_grant');
    expect(failure.message).not.toContain('the-code');
  });
});
