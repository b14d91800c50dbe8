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

  async function finishConnection(app: App, code: string, verifier: string) {
    const token = await json<{ access_token: string }>(
      await form(`${running.url}/oauth2/token`, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: app.clientId,
        client_secret: app.clientSecret,
        code_verifier: verifier,
      }),
    );
    const installation = await json<{ installationId: string; partnerId: string }>(
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
    const minted = await json<{
      access_token: string;
      expires_in: number;
      token_type: string;
      scope: string;
    }>(
      await form(
        `${running.url}/v1/apps/${app.appId}/installations/${installation.installationId}/accessToken`,
        {},
        { authorization: `Bearer ${dev.access_token}` },
      ),
    );
    expect(minted).toMatchObject({ expires_in: 1800, token_type: 'Bearer' });
    return { installation, token: minted.access_token };
  }

  it('publicBaseUrl follows the real port', () => {
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.emulator.publicBaseUrl).toBe(running.url);
  });

  it('admin consent automation end to end: auth URL → consent → code → token → installation → accessToken → orders', async () => {
    const app = apps.find((a) => a.version === 'v1')!;
    const username = `e2e-${randomBytes(4).toString('hex')}`;
    const { partnerId } = await admin<{ partnerId: string }>('/partners', {
      users: [{ username, password: 'pw', admin: true, dienstleisterFreigaben: true }],
    });
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
    expect(callback.searchParams.get('iss')).toBe(running.url);

    const { installation, token } = await finishConnection(
      app,
      callback.searchParams.get('code') ?? '',
      verifier,
    );
    expect(installation.partnerId).toBe(partnerId);
    await admin(`/partners/${partnerId}/orders`, { count: 5 });
    const orders = await json<{ resources: unknown[] }>(
      await fetch(`${running.url}/v4/orders`, { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(orders.resources).toHaveLength(5);
  });

  it('an independent client drives the real login and consent pages with plain form posts', async () => {
    const app = apps.find((a) => a.version === 'v2')!;
    const username = `browser-${randomBytes(4).toString('hex')}`;
    await admin('/partners', {
      users: [{ username, password: 'secret', admin: true, dienstleisterFreigaben: true }],
    });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = `${running.url}/oauth2/auth?${new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'installation partnerId',
      state: 's-42',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString()}`;

    const loginHtml = await (await fetch(authorize)).text();
    const login = formOf(loginHtml, 'login');
    const consentRes = await form(login.action, { ...login.fields, username, password: 'secret' });
    expect(consentRes.status).toBe(200);
    const consentHtml = await consentRes.text();
    expect(consentHtml).toContain('shipping-profiles');
    const consent = formOf(consentHtml, 'consent');
    const confirmed = await form(consent.action, { ...consent.fields, decision: 'confirm' });
    expect(confirmed.status).toBe(302);
    const callback = new URL(confirmed.headers.get('location') ?? '');
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('s-42');

    const { token } = await finishConnection(app, callback.searchParams.get('code') ?? '', verifier);
    const profiles = await fetch(`${running.url}/v1/shipping-profiles`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(profiles.status).toBe(200);
  });
});
