/**
 * The API's stop is bounded (api/index.ts): after SIGTERM it gives requests SHUTDOWN_GRACE_MS (10 s), then
 * closing Temporal and the store CLOSE_GRACE_MS (5 s), and exits even if that close never settles. Here
 * the close cannot settle: a shop write waits on a PostgreSQL table lock held by the test, so its pool
 * connection is never given back and `pool.end()` waits for it. Without the bound the process stayed until
 * the lock went (an orchestrator then SIGKILLs it, mid-whatever).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { generateSealKey } from '../../common/seal';
import { openSellerStore } from '../../store/open-seller-store';
import { freePort } from '../../scripts/temporal-dev-server';
import { tsEntry } from '../../scripts/ts-entry';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { eventually, testAddress } from '../support/temporal';
import { TEST_APPS } from './test-app';

const ROOT = join(__dirname, '..', '..');

describe('api/index.ts stops within its bound when closing hangs', () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let locker: Client | undefined;
  let output = '';

  beforeAll(async () => {
    db = await createTestDatabase('bounded_stop');
    // The schema, as the API would create it at start (so the lock below has a table to hold).
    await (await openSellerStore(db.url)).close();
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    }
    await locker?.end().catch(() => undefined);
    await db?.drop();
  });

  it('exits about 15 s after SIGTERM with a write stuck on a lock, saying why', async () => {
    const [port, opsPort] = [await freePort(), await freePort()];
    const shopKey = randomBytes(24).toString('base64url');
    child = spawn(process.execPath, tsEntry(join(ROOT, 'api', 'index.ts')), {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        LOG_LEVEL: 'INFO',
        PORT: String(port),
        OPS_PORT: String(opsPort),
        TEMPORAL_ADDRESS: testAddress(),
        PUBLIC_BASE_URL: 'https://connect.shop.test',
        OTTO_AUTH_BASE_URL: 'https://otto-auth.test',
        OTTO_API_BASE_URL: 'https://otto-api.test',
        OTTO_APPS: JSON.stringify(TEST_APPS),
        API_KEYS: `shop:${shopKey}`,
        SEAL_KEYS: generateSealKey('k1'),
        STATE_SIGNING_KEY: randomBytes(32).toString('base64url'),
        SELLER_STORE: db.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child!.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    await eventually(
      () => Promise.resolve(output),
      (o) => o.includes('otto-connect API on') || child!.exitCode !== null,
      30_000,
    );
    expect(child.exitCode).toBeNull();

    // Hold the stock table: the write below takes a pool connection and waits for the lock.
    locker = new Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE stock IN ACCESS EXCLUSIVE MODE');
    const write = fetch(`http://127.0.0.1:${port}/api/sellers/s-1/stock`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${shopKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ sku: 'A', quantity: 1 }]),
    }).then(
      (res) => `answered ${res.status}`,
      () => 'connection closed',
    );
    // The write waits on the lock (PostgreSQL shows its backend waiting), then the API is told to stop.
    await eventually(
      async () =>
        (
          await locker!.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            [db.name],
          )
        ).rows[0]!.n,
      (n) => Number(n) >= 1,
    );
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const { code, at } = await exited;
    // The lock was never released: only the bound can have ended the process.
    expect(code).toBe(0);
    expect(at - signalledAt).toBeGreaterThanOrEqual(14_000);
    expect(at - signalledAt).toBeLessThan(25_000);
    expect(output).toContain('SIGTERM: closing the API');
    expect(output).toContain('SIGTERM: not closed within 15 s; exiting');
    // The stuck request's connection was closed after the requests' grace (not answered 5xx mid-write).
    expect(await write).toBe('connection closed');
    await locker.query('ROLLBACK');
  }, 60_000);
});
