/**
 * Test helpers for the emulator suites. Deliberately independent of emulator/ internals: PKCE, form
 * encoding and URL handling are done here from first principles, the way any OAuth client would.
 */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { createEmulator, type Emulator } from '../../emulator/create-emulator';
import type { EmulatorOptions } from '../../emulator/options';

export const REDIRECT_URI = 'http://localhost:3000/oauth/callback';

export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

export function testClock(start = Date.parse('2025-03-01T10:00:00.000Z')): TestClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AppInfo {
  version: string;
  appId: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  redirectUris: string[];
}

export interface Harness {
  emulator: Emulator;
  http: ReturnType<typeof request>;
  clock: TestClock;
  apps: Record<'v1' | 'v2', AppInfo>;
}

export async function harness(options: EmulatorOptions = {}): Promise<Harness> {
  const clock = testClock();
  // The clock is frozen, so every request falls into one rate-limit window: lift the caps here and
  // test them on purpose in rate-limits.test.ts.
  const emulator = createEmulator({
    now: clock.now,
    publicBaseUrl: 'http://otto.test',
    tokenRateLimitPerSecond: 10_000,
    partnerRateLimitPerSecond: 10_000,
    ...options,
  });
  const http = request(emulator.app);
  const list = (await http.get('/__admin/apps').expect(200)).body as AppInfo[];
  const find = (v: string) => {
    const app = list.find((a) => a.version === v);
    if (!app) throw new Error(`no app ${v}`);
    return app;
  };
  return { emulator, http, clock, apps: { v1: find('v1'), v2: find('v2') } };
}

let counter = 0;
export async function createPartner(
  h: Harness,
  rights: { admin?: boolean; dienstleisterFreigaben?: boolean } = {},
): Promise<{ partnerId: string; username: string; password: string }> {
  counter += 1;
  const username = `user-${counter}-${randomBytes(3).toString('hex')}`;
  const password = `pw-${counter}`;
  const res = await h.http
    .post('/__admin/partners')
    .send({
      users: [
        {
          username,
          password,
          admin: rights.admin ?? true,
          dienstleisterFreigaben: rights.dienstleisterFreigaben ?? true,
        },
      ],
    })
    .expect(201);
  return { partnerId: (res.body as { partnerId: string }).partnerId, username, password };
}

export function authorizeUrl(input: {
  clientId: string;
  challenge?: string;
  state?: string;
  redirectUri?: string;
  scope?: string;
  responseType?: string;
  base?: string;
}): string {
  const url = new URL('/oauth2/auth', input.base ?? 'http://otto.test');
  url.searchParams.set('response_type', input.responseType ?? 'code');
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('redirect_uri', input.redirectUri ?? REDIRECT_URI);
  url.searchParams.set('scope', input.scope ?? 'installation partnerId');
  url.searchParams.set('state', input.state ?? 'st-123');
  if (input.challenge !== undefined) {
    url.searchParams.set('code_challenge', input.challenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  return url.toString();
}

/** Path + query of a URL, for supertest. */
export function pathOf(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

export function callbackParams(location: string): Record<string, string> {
  const url = new URL(location);
  expect(`${url.origin}${url.pathname}`).toBe(REDIRECT_URI);
  return Object.fromEntries(url.searchParams);
}

export async function consentViaAdmin(
  h: Harness,
  url: string,
  user: { username: string; password: string },
  decision: 'confirm' | 'deny' = 'confirm',
): Promise<Record<string, string>> {
  const res = await h.http
    .post('/__admin/consent')
    .send({ authorizeUrl: url, username: user.username, password: user.password, decision })
    .expect(200);
  return callbackParams((res.body as { redirectTo: string }).redirectTo);
}

export function exchangeCode(
  h: Harness,
  app: AppInfo,
  code: string,
  verifier: string,
  overrides: Record<string, string> = {},
) {
  return h.http
    .post('/oauth2/token')
    .type('form')
    .send({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      code_verifier: verifier,
      ...overrides,
    });
}

export async function developerToken(h: Harness, app: AppInfo): Promise<string> {
  const res = await h.http
    .post('/v1/token')
    .type('form')
    .send({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'developer',
    })
    .expect(200);
  return (res.body as { access_token: string }).access_token;
}

export async function mint(h: Harness, app: AppInfo, installationId: string, devToken?: string) {
  return h.http
    .post(`/v1/apps/${app.appId}/installations/${installationId}/accessToken`)
    .set('Authorization', `Bearer ${devToken ?? (await developerToken(h, app))}`)
    .type('form')
    .send({});
}

export interface Connected {
  partnerId: string;
  installationId: string;
  token: string;
  user: { username: string; password: string };
}

/** The whole connector journey: consent → code → user token → installation → installation token. */
export async function connect(
  h: Harness,
  version: 'v1' | 'v2' = 'v1',
  existing?: { username: string; password: string },
): Promise<Connected> {
  const app = h.apps[version];
  const user = existing ?? (await createPartner(h));
  const pkce = pkcePair();
  const params = await consentViaAdmin(
    h,
    authorizeUrl({ clientId: app.clientId, challenge: pkce.challenge }),
    user,
  );
  expect(params.code).toBeDefined();
  const exchanged = await exchangeCode(h, app, params.code ?? '', pkce.verifier).expect(200);
  const userToken = (exchanged.body as { access_token: string }).access_token;
  const inst = await h.http
    .get(`/v1/apps/${app.appId}/installation`)
    .set('Authorization', `Bearer ${userToken}`)
    .expect(200);
  const { installationId, partnerId } = inst.body as { installationId: string; partnerId: string };
  const minted = await mint(h, app, installationId);
  expect(minted.status).toBe(200);
  return { partnerId, installationId, token: (minted.body as { access_token: string }).access_token, user };
}

export function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`];
}
