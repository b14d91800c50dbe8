/**
 * Conformance with a standard OAuth client: oauth4webapi (independent of both the emulator and the
 * connector) completes authorization code + PKCE against the emulator's real login and consent pages.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmulator, type RunningEmulator } from '../../emulator/start-emulator';
import { REDIRECT_URI } from './helpers';

let running: RunningEmulator;
beforeAll(async () => {
  running = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await running.close();
});

it('oauth4webapi completes the authorization-code flow with PKCE through the real pages', async () => {
  const apps = (await (await fetch(`${running.url}/__admin/apps`)).json()) as Array<{
    version: string;
    clientId: string;
    clientSecret: string;
  }>;
  const app = apps.find((a) => a.version === 'v1')!;
  const username = `o4w-${Date.now()}`;
  const created = await fetch(`${running.url}/__admin/partners`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      users: [{ username, password: 'pw-1', admin: true, dienstleisterFreigaben: true }],
    }),
  });
  expect(created.status).toBeLessThan(300);

  const script = join(__dirname, 'clients', 'oauth4webapi-flow.mjs');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [script, running.url, app.clientId, app.clientSecret, REDIRECT_URI, username, 'pw-1'],
    {
      cwd: join(__dirname, '..', '..'),
    },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  expect(result).toEqual({
    iss: running.url,
    tokenType: expect.stringMatching(/^bearer$/i) as unknown,
    scope: 'installation partnerId',
    expiresIn: 1800,
    hasAccessToken: true,
    replayError: 'invalid_grant',
  });
});
