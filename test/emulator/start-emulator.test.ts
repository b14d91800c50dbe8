/**
 * Over a real socket: what the connector and a browser do. The "independent client" below speaks OAuth
 * from first principles (node:crypto PKCE, fetch, HTML forms) and shares nothing with emulator/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../emulator/start-emulator';
import { REDIRECT_URI } from './helpers';

interface App {
  version: string;
  appId: string;
  clientId: string;
  clientSecret: string;
  installationUrl: string;
}

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.status} ${text}`);
  return JSON.parse(text) as T;
}

function formOf(html: string, id: string): { action: string; fields: Record<string, string> } {
  const formMatch = new RegExp(`<form id="${id}"[^>]*action="([^"]+)"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  if (!formMatch?.[1] || formMatch[2] === undefined) throw new Error(`no form ${id}`);
  const fields: Record<string, string> = {};
  for (const m of formMatch[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    if (m[1]) fields[m[1]] = m[2] ?? '';
  }
  return { action: formMatch[1].replace(/&amp;/g, '&'), fields };
}

describe('startEmulator over a real socket', () => {
  let running: RunningEmulator;
  let apps: App[];
  beforeAll(async () => {
    running = await startEmulator({ port: 0 });
    apps = await json<App[]>(await fetch(`${running.url}/__admin/apps`));
  });
  afterAll(async () => {
    await running.close();
  });

  const admin = async <T>(path: string, body: unknown) =>
    json<T>(
      await fetch(`${running.url}/__admin${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    );

  const form = (url: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });

  async function finishConnection(app: App, code: string, verifier?: string) {
    const token = await json<{ access_token: string }>(
      await form(`${running.url}/oauth2/token`, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: app.clientId,
        client_secret: app.clientSecret,
        ...(verifier !== undefined ? { code_verifier: verifier } : {}),
      }),
    );
    const installation = await json<{ installationId: string }>(
      await fetch(`${running.url}/v1/apps/${app.appId}/installation`, {
        headers: { authorization: `Bearer ${token.access_token}` },
      }),
    );
    const dev = await json<{ access_token: string }>(
      await form(`${running.url}/v1/token`, {
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: app.clientSecret,
        scope: 'developer',
      }),
    );
    const minted = await json<{ access_token: string; expires_in: number }>(
      await form(
        `${running.url}/v1/apps/${app.appId}/installations/${installation.installationId}/accessToken`,
        {},
        { authorization: `Bearer ${dev.access_token}` },
      ),
    );
    expect(minted).toEqual({ access_token: expect.any(String) as unknown, expires_in: 1800 });
    return { installation, token: minted.access_token };
  }

  it('publicBaseUrl, installation links and the issuer follow the real port', async () => {
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.emulator.publicBaseUrl).toBe(running.url);
    const v1 = apps.find((a) => a.version === 'v1')!;
    expect(v1.installationUrl).toBe(`${running.url}/opc/apps/${v1.appId}/install`);
    const issuer = `${running.url}/sec-api/auth/realms/otto-partner`;
    expect(running.emulator.issuer).toBe(issuer);
    const discovery = await json<{ issuer: string; token_endpoint: string }>(
      await fetch(`${issuer}/.well-known/openid-configuration`),
    );
    expect(discovery).toMatchObject({ issuer, token_endpoint: `${running.url}/oauth2/token` });
  });

  it('admin consent automation end to end: installation link → /oauth2/auth → code → token → installation → accessToken → orders', async () => {
    const app = apps.find((a) => a.version === 'v1')!;
    const username = `e2e-${randomBytes(4).toString('hex')}`;
    const { partnerId } = await admin<{ partnerId: string }>('/partners', {
      users: [{ username, password: 'pw', admin: true, dienstleisterFreigaben: true }],
    });
    const installed = await admin<{ redirectTo: string }>('/consent', {
      authorizeUrl: app.installationUrl,
      username,
      password: 'pw',
      decision: 'confirm',
    });
    expect(installed.redirectTo).toBe(REDIRECT_URI);
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL('/oauth2/auth', running.url);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'installation partnerId',
      state: 'e2e-state',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();
    const { redirectTo } = await admin<{ redirectTo: string }>('/consent', {
      authorizeUrl: authorize.toString(),
      username,
      password: 'pw',
      decision: 'confirm',
    });
    const callback = new URL(redirectTo);
    expect(callback.searchParams.get('state')).toBe('e2e-state');
    expect(callback.searchParams.get('iss')).toBe(`${running.url}/sec-api/auth/realms/otto-partner`);

    const { installation, token } = await finishConnection(
      app,
      callback.searchParams.get('code') ?? '',
      verifier,
    );
    expect(running.emulator.state.installations.find((i) => i.partnerId === partnerId)?.installationId).toBe(
      installation.installationId,
    );
    // The installation token works on a data endpoint (the data API itself is tested in data-api.test.ts).
    const orders = await fetch(`${running.url}/v4/orders`, { headers: { authorization: `Bearer ${token}` } });
    expect(orders.status).toBe(200);
  });

  it('an independent client drives the real OPC and login pages with plain form posts', async () => {
    const app = apps.find((a) => a.version === 'v2')!;
    const username = `browser-${randomBytes(4).toString('hex')}`;
    await admin('/partners', {
      users: [{ username, password: 'secret', admin: true, dienstleisterFreigaben: true }],
    });

    // 1. The installation link: OPC login → consent → the callback, without parameters.
    const opcLogin = formOf(await (await fetch(app.installationUrl)).text(), 'login');
    const consentRes = await form(opcLogin.action, { ...opcLogin.fields, username, password: 'secret' });
    expect(consentRes.status).toBe(200);
    const consentHtml = await consentRes.text();
    expect(consentHtml).toContain('shipping-profiles');
    const consent = formOf(consentHtml, 'consent');
    const installed = await form(consent.action, { ...consent.fields, decision: 'confirm' });
    expect(installed.status).toBe(302);
    expect(installed.headers.get('location')).toBe(REDIRECT_URI);

    // 2. The callback sends the browser to /oauth2/auth: login → callback with code and state.
    const authorize = `${running.url}/oauth2/auth?${new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'installation partnerId',
      state: 's-42',
    }).toString()}`;
    const login = formOf(await (await fetch(authorize)).text(), 'login');
    const loggedIn = await form(login.action, { ...login.fields, username, password: 'secret' });
    expect(loggedIn.status).toBe(302);
    const callback = new URL(loggedIn.headers.get('location') ?? '');
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('s-42');

    const { token } = await finishConnection(app, callback.searchParams.get('code') ?? '');
    const orders = await fetch(`${running.url}/v4/orders`, { headers: { authorization: `Bearer ${token}` } });
    expect(orders.status).toBe(200);
  });
});
