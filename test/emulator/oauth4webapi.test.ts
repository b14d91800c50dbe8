/**
 * Conformance with a standard OAuth client: oauth4webapi (independent of both the emulator and the
 * connector) discovers the realm, completes authorization code + PKCE through the emulator's real login
 * page, refreshes, and reads the installation, after the app was installed through its installation link.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmulator, type RunningEmulator } from '../../emulator/start-emulator';
import { REDIRECT_URI } from './helpers';

let running: RunningEmulator;
beforeAll(async () => {
  // A standard OAuth client needs RFC 6749's token_type (and uses the refresh token): the full answer.
  running = await startEmulator({ port: 0, userTokenAnswer: 'keycloak' });
});
afterAll(async () => {
  await running.close();
});

async function admin(path: string, body: unknown): Promise<Response> {
  return fetch(`${running.url}/__admin${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

it('oauth4webapi: discovery, authorization code with PKCE through the real login page, refresh, installation lookup', async () => {
  const apps = (await (await fetch(`${running.url}/__admin/apps`)).json()) as Array<{
    version: string;
    appId: string;
    clientId: string;
    clientSecret: string;
    installationUrl: string;
  }>;
  const app = apps.find((a) => a.version === 'v1')!;
  const username = `o4w-${Date.now()}`;
  const created = await admin('/partners', {
    users: [{ username, password: 'pw-1', admin: true, dienstleisterFreigaben: true }],
  });
  expect(created.status).toBeLessThan(300);
  const installed = await admin('/consent', {
    authorizeUrl: app.installationUrl,
    username,
    password: 'pw-1',
    decision: 'confirm',
  });
  expect(((await installed.json()) as { redirectTo: string }).redirectTo).toBe(REDIRECT_URI);

  const script = join(__dirname, 'clients', 'oauth4webapi-flow.mjs');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [script, running.url, app.appId, app.clientId, app.clientSecret, REDIRECT_URI, username, 'pw-1'],
    { cwd: join(__dirname, '..', '..') },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  const realm = `${running.url}/sec-api/auth/realms/otto-partner`;
  expect(result).toEqual({
    issuer: realm,
    iss: realm,
    tokenType: expect.stringMatching(/^bearer$/i) as unknown,
    scope: 'installation partnerId',
    expiresIn: 1800,
    hasAccessToken: true,
    refreshedScope: 'installation partnerId',
    installationStatus: 200,
    installationKeys: ['installationId'],
    replayError: 'invalid_grant',
  });
});
