/**
 * The API's stop is bounded (api/index.ts): after SIGTERM it gives requests SHUTDOWN_GRACE_MS (10 s), then
 * closing Temporal and the store CLOSE_GRACE_MS (5 s), and exits even if that close never settles. Here
 * the close cannot settle: a shop write waits on a PostgreSQL table lock held by the test, so its pool
 * connection is never given back and `pool.end()` waits for it. Without the bound the process stayed until
 * the lock went (an orchestrator then SIGKILLs it, mid-whatever).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { openSellerStore } from '../../store/open-seller-store';
import { startApiProcess, standaloneApiEnv, type ApiProcess } from '../support/api-process';
import { createTestDatabase, type TestDatabase } from '../support/postgres';
import { eventually } from '../support/temporal';

describe('api/index.ts stops within its bound when closing hangs', () => {
  let db: TestDatabase;
  let api: ApiProcess | undefined;
  let locker: Client | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('bounded_stop');
    // The schema, as the API would create it at start (so the lock below has a table to hold).
    await (await openSellerStore(db.url)).close();
  });
  afterAll(async () => {
    await api?.kill();
    await locker?.end().catch(() => undefined);
    await db?.drop();
  });

  it('exits about 15 s after SIGTERM with a write stuck on a lock, saying why', async () => {
    const shopKey = randomBytes(24).toString('base64url');
    api = await startApiProcess({ ...standaloneApiEnv(), API_KEYS: `shop:${shopKey}`, SELLER_STORE: db.url });

    // Hold the stock table: the write below takes a pool connection and waits for the lock.
    locker = new Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE stock IN ACCESS EXCLUSIVE MODE');
    const write = fetch(`http://127.0.0.1:${api.port}/api/sellers/s-1/stock`, {
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
    api.child.kill('SIGTERM');
    const { code, at } = await api.exited;
    // The lock was never released: only the bound can have ended the process.
    expect(code).toBe(0);
    expect(at - signalledAt).toBeGreaterThanOrEqual(14_000);
    expect(at - signalledAt).toBeLessThan(25_000);
    expect(api.output()).toContain('SIGTERM: closing the API');
    expect(api.output()).toContain('SIGTERM: not closed within 15 s; exiting');
    // The stuck request's connection was closed after the requests' grace (not answered 5xx mid-write).
    expect(await write).toBe('connection closed');
    await locker.query('ROLLBACK');
  }, 60_000);
});
