/**
 * The SQLite store shared by several processes (the README: any number of worker and API processes on one
 * machine share the file): a write that meets another process's write lock waits for it (busy_timeout)
 * instead of failing at once, and what still fails for lack of the lock is "store unavailable" (503).
 * A file a newer release migrated is refused. Another process is a worker thread with its own connection here: better-sqlite3 is synchronous, so two
 * connections of one thread never overlap.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { isStoreUnavailable } from '../../store/store-errors';
import type { SellerStore } from '../../store/seller-store';
import { storeOrder } from '../support/store-fixtures';

/** Holds the store's write lock (BEGIN IMMEDIATE) until told the main thread writes, then a moment more. */
const HOLDER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
const flag = new Int32Array(workerData.flag);
db.exec('BEGIN IMMEDIATE');
db.prepare('UPDATE change_counter SET value = value WHERE id = 1').run();
parentPort.postMessage('locked');
Atomics.wait(flag, 0, 0);
// The main thread is (about to be) inside its write, waiting for this lock.
Atomics.wait(flag, 0, 1, 300);
db.exec('COMMIT');
db.close();
`;

let dir: string;
let store: SellerStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqlite-concurrency-'));
  store = openSqliteSellerStore(join(dir, 'store.db'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `write` while another connection holds the write lock, which it releases shortly after. */
async function whileLocked<T>(write: () => Promise<T>): Promise<T> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const holder = new Worker(HOLDER, {
    eval: true,
    workerData: { module: require.resolve('better-sqlite3'), file: join(dir, 'store.db'), flag: flag.buffer },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.once('message', () => resolve());
      holder.once('error', reject);
    });
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return await write();
  } finally {
    await holder.terminate();
  }
}

it.each([
  ['an orders import', (s: SellerStore) => s.upsertOrders('s', [storeOrder('o1', '2025-03-01T10:00:00Z')])],
  [
    'a returns import',
    (s: SellerStore) =>
      s.upsertReturns('s', [
        {
          positionItemId: 'p1',
          salesOrderId: 'o1',
          status: 'ANNOUNCED',
          occurredTime: '2025-03-01T10:00:00Z',
          details: null,
        },
      ]),
  ],
  [
    'a shipping profiles sync',
    (s: SellerStore) =>
      s.upsertShippingProfiles('s', [
        {
          shippingProfileId: 'sp1',
          shippingProfileName: 'p',
          workingDays: ['MONDAY'],
          orderCutoff: '12:00',
          deliveryType: 'PARCEL',
          defaultProcessingTime: 1,
          transportTime: 2,
          data: {},
        },
      ]),
  ],
])('%s waits for another process’s write lock instead of failing at once', async (_what, write) => {
  // Before: a transaction that read first failed with SQLITE_BUSY(_SNAPSHOT) the moment it had to write.
  await expect(whileLocked(() => write(store))).resolves.toMatchObject({ inserted: 1 });
});

it('what still fails for the lock is "store unavailable" (503), extended SQLite codes included', () => {
  for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_CANTOPEN_ISDIR'])
    expect([code, isStoreUnavailable(Object.assign(new Error('x'), { code }))]).toEqual([code, true]);
  expect(isStoreUnavailable(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBe(false);
});

it('a schema newer than the code is refused (as on PostgreSQL), the file left as it is', async () => {
  await store.close();
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(dir, 'store.db'));
  db.pragma('user_version = 99');
  db.close();
  expect(() => openSqliteSellerStore(join(dir, 'store.db'))).toThrow(
    /version 99, newer than this code knows/,
  );
  store = openSqliteSellerStore(':memory:');
});
