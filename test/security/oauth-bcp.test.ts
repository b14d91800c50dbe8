/**
 * Security suite on the real stack (API + Temporal + workers + OTTO emulator), following the OAuth 2.0
 * Security Best Current Practice (RFC 9700): state CSRF, PKCE downgrade, code injection across sellers,
 * `iss` mix-up, open redirect, replay; injection into reflected fields; API-key brute force; and scans
 * that no secret reaches a response. History and log scans live in test/workflows/seller-history.test.ts
 * and test/ops/log-secrets.test.ts.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../../api/create-app';
import { createOpsApp } from '../../api/create-ops-app';
import { createMetrics } from '../../api/metrics';
import { TestStack, PUBLIC_BASE_URL } from '../support/stack';
import { freePort } from '../../scripts/temporal-dev-server';
import {
  assistantSession,
  stackApiConfig,
  stackApiEnv,
  stackConnections,
  walkConsent,
} from '../support/stack-api';
import { eventually, uniqueName } from '../support/temporal';
import { tsEntry } from '../../scripts/ts-entry';

const ADMIN = 'security-admin-key-000001';
const STATE_KEY = 'security-suite-state-key-0123456789abcdef';
const ROOT = join(__dirname, '..', '..');
const SUPPORT = 'security-support-key-00001';
const admin = { Authorization: `Bearer ${ADMIN}` };
const support = { Authorization: `Bearer ${SUPPORT}` };

let stack: TestStack;
let app: ReturnType<typeof createApp>;
/** The ops port's app (/metrics, /readyz), sharing the API's metrics. */
let opsApp: ReturnType<typeof createOpsApp>;
let config: ReturnType<typeof stackApiConfig>;

beforeAll(async () => {
  stack = await TestStack.start();
  config = stackApiConfig(stack, {
    admin: ADMIN,
    support: SUPPORT,
    stateKey: STATE_KEY,
  });
  const connections = stackConnections(stack, config);
  const metrics = createMetrics();
  app = createApp({
    config,
    connections,
    metrics,
    sealer: stack.sealer,
    authLimit: { maxFailures: 5, windowMs: 60_000 },
  });
  opsApp = createOpsApp({ connections, metrics });
});
afterAll(async () => {
  await stack?.close();
});

async function startConsent(sellerId: string) {
  const res = await request(app)
    .post(`/api/sellers/${sellerId}/connection`)
    .set(admin)
    .send({ appVersion: 'v1' });
  expect(res.status).toBe(201);
  return (res.body as { authorizeUrl: string }).authorizeUrl;
}

/** "Allow access" in one browser, installation and login at OTTO; the code callback is left to the test. */
async function consentInBrowser(sellerId: string, options: { decision?: 'confirm' | 'deny' } = {}) {
  const walk = await walkConsent(
    stack,
    app,
    await startConsent(sellerId),
    await stack.createPartner(),
    options,
  );
  return { ...walk, state: new URL(walk.oauthUrl).searchParams.get('state')! };
}

async function status(sellerId: string) {
  // The full view: these tests read the event log.
  const res = await request(app).get(`/api/sellers/${sellerId}/connection?view=full`).set(support);
  expect(res.status).toBe(200);
  return res.body as {
    state: string;
    lastError: string | null;
    events: Array<{ type: string }>;
    partnerId: string | null;
  };
}

describe('OAuth security BCP', () => {
  it('state CSRF: a callback whose state we did not issue (or that was altered) is refused and signals nothing', async () => {
    const sellerId = uniqueName('csrf');
    const { params, state, cookie } = await consentInBrowser(sellerId);
    const [payload, signature] = state.split('.');
    const forged = [
      'attacker-made-state',
      `${payload}.${'A'.repeat(signature?.length ?? 43)}`,
      `${Buffer.from(JSON.stringify({ sellerId, appVersion: 'v1', nonce: 'x'.repeat(22), exp: Date.now() + 60_000 })).toString('base64url')}.${signature}`,
    ];
    for (const bad of forged) {
      const res = await request(app)
        .get('/oauth/callback')
        .set('Cookie', cookie)
        .query({ ...params, state: bad });
      expect(res.status).toBe(400);
    }
    const s = await status(sellerId);
    expect(s.state).toBe('pending_consent');
    expect(s.events.map((e) => e.type)).toEqual(['consent_requested']);
  });

  it('the consent callback without the browser-binding cookie is a clear page and signals nothing', async () => {
    const sellerId = uniqueName('nocookie');
    await consentInBrowser(sellerId);
    // OTTO's parameterless redirect, but in a browser that never clicked "Allow access".
    const res = await request(app).get('/oauth/callback');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Allow access');
    expect(res.text).toContain('data-reason="no_consent_cookie"');
    expect(res.headers.location).toBeUndefined();
    expect((await status(sellerId)).events.map((e) => e.type)).toEqual(['consent_requested']);
  });

  it("login CSRF: a code callback with a valid state but another browser's cookie is refused, nothing delivered", async () => {
    const victim = uniqueName('victim');
    const attacker = uniqueName('attacker');
    const victimBrowser = await consentInBrowser(victim);
    const attackerBrowser = await consentInBrowser(attacker);
    for (const cookie of [attackerBrowser.cookie, undefined]) {
      const call = request(app).get('/oauth/callback').query(victimBrowser.params);
      const res = await (cookie ? call.set('Cookie', cookie) : call);
      expect(res.status).toBe(400);
      expect(res.text).toContain('data-reason="browser_mismatch"');
    }
    expect((await status(victim)).events.map((e) => e.type)).toEqual(['consent_requested']);
    expect((await status(attacker)).events.map((e) => e.type)).toEqual(['consent_requested']);
  });

  it('PKCE: OTTO login URLs always carry an S256 challenge, and a stolen code is useless without the verifier', async () => {
    const { params, oauthUrl } = await consentInBrowser(uniqueName('pkce'));
    const login = new URL(oauthUrl);
    expect(login.searchParams.get('code_challenge_method')).toBe('S256');
    expect(login.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const app1 = stack.apps.find((a) => a.version === 'v1')!;
    // An attacker who intercepted the code, even holding our client credentials, lacks the verifier.
    for (const verifier of [undefined, 'guessed-verifier-guessed-verifier-guessed-verifier']) {
      const form = new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.code!,
        redirect_uri: `${PUBLIC_BASE_URL}/oauth/callback`,
        client_id: app1.clientId,
        client_secret: app1.clientSecret,
        ...(verifier ? { code_verifier: verifier } : {}),
      });
      const res = await fetch(`${stack.emulatorUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/invalid_(grant|request)/);
    }
  });

  it("code injection: seller A's code delivered with seller B's state never connects B to A's OTTO account", async () => {
    const a = uniqueName('victim');
    const b = uniqueName('attacker');
    const browserA = await consentInBrowser(a);
    const browserB = await consentInBrowser(b);
    // The attacker holds B's browser (state and cookie) and A's stolen code.
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', browserB.cookie)
      .query({ ...browserA.params, state: browserB.state });
    // B's workflow tries A's code with B's PKCE verifier: OTTO refuses, B stays unconnected.
    expect([303, 400]).toContain(res.status);
    const sb = await eventually(
      () => status(b),
      (s) =>
        (s.state === 'pending_consent' && s.lastError !== null) ||
        s.events.some((e) => e.type === 'callback_refused'),
      30_000,
    );
    expect(sb.partnerId).toBeNull();
    expect(sb.state).not.toBe('active');
    expect((await status(a)).state).toBe('pending_consent');
  });

  it('iss mix-up: a callback naming another issuer is refused and signals nothing; OTTO’s realm URL is accepted', async () => {
    const sellerId = uniqueName('mixup');
    const { params, cookie } = await consentInBrowser(sellerId);
    // The emulator names its Keycloak realm, as OTTO's login does.
    expect(params.iss).toBe(`${stack.emulatorUrl}/sec-api/auth/realms/otto-partner`);
    for (const iss of ['https://evil-idp.example', stack.emulatorUrl]) {
      const res = await request(app)
        .get('/oauth/callback')
        .set('Cookie', cookie)
        .query({ ...params, iss });
      expect(res.status).toBe(400);
      expect(res.text).toContain('data-reason="issuer_mismatch"');
    }
    expect((await status(sellerId)).events.map((e) => e.type)).toEqual(['consent_requested']);
    const accepted = await request(app).get('/oauth/callback').set('Cookie', cookie).query(params);
    expect(accepted.status).toBe(303);
    await eventually(
      () => status(sellerId),
      (s) => s.state === 'active',
      30_000,
    );
  });

  it('open redirect: the callback only ever sends the browser to our own assistant', async () => {
    const sellerId = uniqueName('redirect');
    const { params, cookie } = await consentInBrowser(sellerId);
    const res = await request(app)
      .get('/oauth/callback')
      .set('Cookie', cookie)
      .query({
        ...params,
        redirect_uri: 'https://evil.example/',
        next: 'https://evil.example/',
        return_to: '//evil.example',
      });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/assistant/otto');
    await eventually(
      () => status(sellerId),
      (s) => s.state === 'active',
      30_000,
    );
  });

  it('replay: the same callback twice is refused the second time and changes nothing', async () => {
    const sellerId = uniqueName('replay');
    const { params, cookie } = await consentInBrowser(sellerId);
    const first = await request(app).get('/oauth/callback').set('Cookie', cookie).query(params);
    expect(first.status).toBe(303);
    // The binding cookie is spent with the code.
    expect(String(first.headers['set-cookie'])).toMatch(/Max-Age=0/);
    const active = await eventually(
      () => status(sellerId),
      (s) => s.state === 'active',
      30_000,
    );
    // The verdict is the workflow's: the same on another API replica and after a restart of this one.
    const replica = createApp({ config, connections: stackConnections(stack, config), sealer: stack.sealer });
    for (const api of [app, replica]) {
      const replay = await request(api)
        .get('/oauth/callback')
        .set('Cookie', cookie)
        .set('Accept', 'application/json')
        .query(params);
      expect(replay.status).toBe(400);
      expect((replay.body as { error: { code: string } }).error.code).toBe('callback_replayed');
    }
    // …and on a second API process (api/index.ts as deployed), which has never seen this callback.
    const port = await freePort();
    const child = spawn(process.execPath, tsEntry(join(ROOT, 'api', 'index.ts')), {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...stackApiEnv(stack, { admin: ADMIN, support: SUPPORT, stateKey: STATE_KEY }),
        PORT: String(port),
        OPS_PORT: String(await freePort()),
        LOG_LEVEL: 'WARN',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      await eventually(
        () => Promise.resolve(output),
        (o) => o.includes('otto-connect API on') || child.exitCode !== null,
        30_000,
      );
      const url = new URL(`http://127.0.0.1:${port}/oauth/callback`);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const replay = await fetch(url, {
        headers: { cookie, accept: 'application/json' },
        redirect: 'manual',
      });
      expect(replay.status).toBe(400);
      expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('callback_replayed');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }

    const after = await status(sellerId);
    expect(after.state).toBe('active');
    expect(after.events.filter((e) => e.type === 'authorized')).toHaveLength(1);
    expect(after.partnerId).toBe(active.partnerId);
  });

  it('reflected fields are escaped everywhere', async () => {
    const payload = `"><script>alert(1)</script><img src=x onerror=alert(2)>`;
    const sellerId = uniqueName('xss');
    const { state, cookie } = await consentInBrowser(sellerId);
    const pages = [
      await request(app)
        .get('/oauth/callback')
        .set('Cookie', cookie)
        .query({ error: 'access_denied', error_description: payload, state }),
      await request(app).get('/oauth/callback').query({ code: payload, state: payload }),
      await request(app).get('/assistant/otto').query({ sellerId: payload }),
      await request(app)
        .get('/assistant/otto')
        .set('Cookie', (await assistantSession(app, sellerId, ADMIN)).cookie)
        .query({ sellerId: payload }),
      await request(app).get('/assistant/otto/session').query({ token: payload }),
      await request(app).get('/oauth/callback').query({ error: payload, state: 'x' }),
      await request(app).get('/oauth/start').query({ ticket: payload }),
    ];
    for (const page of pages) {
      expect(page.text).not.toContain('<script>alert(1)</script>');
      expect(page.text).not.toContain('<img src=x');
    }
    const s = await eventually(
      () => status(sellerId),
      (x) => x.lastError !== null,
      15_000,
    );
    const assistant = await request(app)
      .get('/assistant/otto')
      .set('Cookie', (await assistantSession(app, sellerId, ADMIN)).cookie);
    expect(s.lastError).toContain('<script>'); // stored verbatim as data…
    expect(assistant.text).not.toContain('<script>alert(1)</script>'); // …and escaped when shown
  });

  it('no response carries a secret OTTO issued or we hold', async () => {
    const sellerId = uniqueName('scan');
    const { params, cookie } = await consentInBrowser(sellerId);
    await request(app).get('/oauth/callback').set('Cookie', cookie).query(params);
    await eventually(
      () => status(sellerId),
      (s) => s.state === 'active',
      30_000,
    );
    // The list shows every test file's sellers (the adapter is not scoped): read until it shows this one.
    const listed = await eventually(
      () => request(app).get('/api/connections?state=active').set(support),
      (res) => res.status === 200 && res.text.includes(`"sellerId":"${sellerId}"`),
      15_000,
    );
    const aboutThisSeller = [
      await request(app).get(`/api/sellers/${sellerId}/connection`).set(support),
      await request(app).get(`/api/sellers/${sellerId}/connection?view=full`).set(support),
      listed,
      await request(app)
        .get('/assistant/otto')
        .set('Cookie', (await assistantSession(app, sellerId, ADMIN)).cookie),
    ];
    const responses = [
      ...aboutThisSeller,
      await request(opsApp).get('/metrics'),
      await request(app).get('/api/openapi.json'),
    ];
    // Each answered, and the seller's own pages are about this seller (so a leak would be seen here).
    expect(responses.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const res of aboutThisSeller) expect(res.text).toContain(sellerId);
    const secrets = [...stack.captured.secrets].filter((x) => x.length >= 8);
    expect(secrets.length).toBeGreaterThan(3);
    for (const res of responses) for (const secret of secrets) expect(res.text.includes(secret)).toBe(false);
  });
  // Last: it locks this client's wrong keys out.
  it('API-key brute force is rate-limited, and the right key still works', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) {
      codes.push(
        (
          await request(app)
            .get('/api/connections')
            .set({ Authorization: `Bearer guess-${i}` })
        ).status,
      );
    }
    expect(codes.slice(0, 5).every((c) => c === 401)).toBe(true);
    expect(codes.slice(5)).toEqual([429, 429, 429]);
    // Only failures are counted and refused: a verified key is never blocked (the shop's backend behind
    // the same proxy keeps working), and the guesses stay refused afterwards.
    expect((await request(app).get('/api/connections').set(admin)).status).toBe(200);
    expect((await request(app).get('/api/connections').set({ Authorization: 'Bearer guess-9' })).status).toBe(
      429,
    );
  });
});
