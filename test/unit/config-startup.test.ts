/**
 * Fail closed at the process level: `api/index.ts` and `worker/index.ts`, started with NODE_ENV unset
 * and no OTTO_CONNECT_ENV, refuse to start without secrets (exit 1, each variable named) and refuse a
 * published dev key or http:// URL in production without echoing the value.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../support/temp-dirs';

const ROOT = join(__dirname, '..', '..');
const tempDir = tempDirs('startup-');

function run(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Only what Node needs: nothing of the test harness's environment (it runs in dev).
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('processes refuse to start on unsafe configuration', () => {
  it('the API, with NODE_ENV unset and no dev flag, names every missing secret and URL', async () => {
    const dataDir = tempDir();
    const { code, output } = await run('api/index.ts', { DATA_DIR: dataDir });
    expect(code).toBe(1);
    for (const name of ['API_KEYS', 'SEAL_KEYS', 'STATE_SIGNING_KEY', 'OTTO_APPS', 'OTTO_AUTH_BASE_URL'])
      expect(output).toContain(`${name}: required`);
    expect(output).not.toContain('otto-connect API on');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('the worker, with NODE_ENV unset and no dev flag, names every missing secret and URL', async () => {
    const dataDir = tempDir();
    const { code, output } = await run('worker/index.ts', { DATA_DIR: dataDir });
    expect(code).toBe(1);
    for (const name of [
      'SEAL_KEYS',
      'OTTO_APPS',
      'OTTO_AUTH_BASE_URL',
      'OTTO_API_BASE_URL',
      'PUBLIC_BASE_URL',
    ])
      expect(output).toContain(`${name}: required`);
    expect(output).not.toContain('worker polling');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('the API in production refuses the published dev key and an http:// URL without echoing them', async () => {
    const sealKey = `k1:${Buffer.alloc(32).toString('base64')}`;
    const { code, output } = await run('api/index.ts', {
      NODE_ENV: 'production',
      API_KEYS: 'admin:dev-admin-key',
      SEAL_KEYS: sealKey,
      STATE_SIGNING_KEY: 'a'.repeat(32),
      PUBLIC_BASE_URL: 'http://connect.shop.example',
      OTTO_AUTH_BASE_URL: 'https://api.otto.market',
      OTTO_API_BASE_URL: 'https://api.otto.market',
      OTTO_APPS: JSON.stringify([{ version: 'v1', appId: 'a1', clientId: 'c1' }]),
    });
    expect(code).toBe(1);
    expect(output).toContain('API_KEYS: entry 1 (admin): the key is a published dev key');
    expect(output).toContain('SEAL_KEYS: key k1 is all zero bytes');
    expect(output).toContain('STATE_SIGNING_KEY: the key is one repeated character');
    expect(output).toContain('PUBLIC_BASE_URL: must be an https:// URL');
    expect(output).not.toContain('admin:dev-admin-key');
    expect(output).not.toContain(sealKey.slice(3));
    expect(output).not.toContain('a'.repeat(32));
    expect(output).not.toContain('connect.shop.example');
  });
});
