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
  visibility: 'public' | 'private';
  installationUrl: string | null;
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
    productsReadRateLimitPerSecond: 10_000,
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

/** An /oauth2/auth URL; `null` leaves a parameter out (OTTO's 2023 text sends no redirect_uri, no state). */
export function authorizeUrl(input: {
  clientId: string;
  challenge?: string;
  state?: string | null;
  redirectUri?: string | null;
  scope?: string;
  responseType?: string;
  base?: string;
}): string {
  const url = new URL('/oauth2/auth', input.base ?? 'http://otto.test');
  url.searchParams.set('response_type', input.responseType ?? 'code');
  url.searchParams.set('client_id', input.clientId);
  if (input.redirectUri !== null) url.searchParams.set('redirect_uri', input.redirectUri ?? REDIRECT_URI);
  url.searchParams.set('scope', input.scope ?? 'installation partnerId');
  if (input.state !== null) url.searchParams.set('state', input.state ?? 'st-123');
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

/** POST /__admin/consent, raw. */
export function adminConsent(
  h: Harness,
  url: string,
  user: { username: string; password: string },
  decision: 'confirm' | 'deny' = 'confirm',
) {
  return h.http
    .post('/__admin/consent')
    .send({ authorizeUrl: url, username: user.username, password: user.password, decision });
}

/** The callback parameters an /oauth2/auth URL ends in, through the admin consent automation. */
export async function consentViaAdmin(
  h: Harness,
  url: string,
  user: { username: string; password: string },
  decision: 'confirm' | 'deny' = 'confirm',
): Promise<Record<string, string>> {
  const res = await adminConsent(h, url, user, decision).expect(200);
  return callbackParams((res.body as { redirectTo: string }).redirectTo);
}

/** Installs a public app through its installation link (OPC login + consent); returns where OPC sent the browser. */
export async function install(
  h: Harness,
  app: AppInfo,
  user: { username: string; password: string },
  decision: 'confirm' | 'deny' = 'confirm',
): Promise<string> {
  if (!app.installationUrl) throw new Error(`app ${app.appId} has no installation link`);
  const res = await adminConsent(h, app.installationUrl, user, decision).expect(200);
  return (res.body as { redirectTo: string }).redirectTo;
}

/** A private app's invitation link. */
export async function invite(h: Harness, appId: string): Promise<{ url: string; expiresAt: string }> {
  const res = await h.http.post(`/__admin/apps/${appId}/invitations`).expect(201);
  return res.body as { url: string; expiresAt: string };
}

/** A code from /oauth2/auth (login only; no installation happens there). */
export async function authorizationCode(
  h: Harness,
  app: AppInfo,
  user: { username: string; password: string },
  pkce?: { challenge: string },
): Promise<string> {
  const params = await consentViaAdmin(
    h,
    authorizeUrl({ clientId: app.clientId, ...(pkce ? { challenge: pkce.challenge } : {}) }),
    user,
  );
  expect(params.code).toBeDefined();
  return params.code ?? '';
}

/** The code exchange; a `verifier` adds code_verifier, an override of `undefined` drops a field. */
export function exchangeCode(
  h: Harness,
  app: AppInfo,
  code: string,
  verifier?: string,
  overrides: Record<string, string | undefined> = {},
) {
  const fields: Record<string, string | undefined> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    client_id: app.clientId,
    client_secret: app.clientSecret,
    ...(verifier !== undefined ? { code_verifier: verifier } : {}),
    ...overrides,
  };
  const form = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return h.http.post('/oauth2/token').type('form').send(form);
}

export async function userToken(h: Harness, app: AppInfo, user: { username: string; password: string }) {
  const code = await authorizationCode(h, app, user);
  const res = await exchangeCode(h, app, code).expect(200);
  return (res.body as { access_token: string }).access_token;
}

/** The payload of a JWT, unverified. */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
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

/** The partner an OPC user belongs to, from the admin API. */
export async function partnerIdOf(h: Harness, username: string): Promise<string> {
  const partners = (await h.http.get('/__admin/partners').expect(200)).body as {
    partnerId: string;
    users: { username: string }[];
  }[];
  const partner = partners.find((p) => p.users.some((u) => u.username === username));
  if (!partner) throw new Error(`no partner with user ${username}`);
  return partner.partnerId;
}

export interface Connected {
  partnerId: string;
  installationId: string;
  token: string;
  user: { username: string; password: string };
}

/**
 * The whole connector journey (docs/otto-api.md §2–§3): installation link → OPC consent → callback without
 * parameters; /oauth2/auth → code → user token → installation id; developer token → installation token.
 */
export async function connect(
  h: Harness,
  version: 'v1' | 'v2' = 'v1',
  existing?: { username: string; password: string },
): Promise<Connected> {
  const app = h.apps[version];
  const user = existing ?? (await createPartner(h));
  expect(await install(h, app, user)).toBe(app.redirectUris[0]);
  const token = await userToken(h, app, user);
  const inst = await h.http
    .get(`/v1/apps/${app.appId}/installation`)
    .set('Authorization', `Bearer ${token}`)
    .expect(200);
  const { installationId } = inst.body as { installationId: string };
  const minted = await mint(h, app, installationId);
  expect(minted.status).toBe(200);
  return {
    partnerId: await partnerIdOf(h, user.username),
    installationId,
    token: (minted.body as { access_token: string }).access_token,
    user,
  };
}

export function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`];
}
