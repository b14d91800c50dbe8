/** Both seller store backends for contract-style tests: a temporary SQLite file and a fresh Postgres database. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresSellerStore } from '../../store/postgres-seller-store';
import type { SellerStore } from '../../store/seller-store';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { createTestDatabase } from './postgres';

/** One store's backing storage: open() gives a new handle on it (as another worker process would). */
export interface Backing {
  open(): Promise<SellerStore>;
  destroy(): Promise<void>;
}

/** `[name, make]` pairs for describe.each; `name` prefixes the temporary directory and database. */
export function storeBackends(name: string): Array<[string, () => Promise<Backing>]> {
  return [
    [
      'sqlite',
      () => {
        const dir = mkdtempSync(join(tmpdir(), `otto-${name}-`));
        const file = join(dir, 'seller-store.db');
        return Promise.resolve({
          open: () => Promise.resolve(openSqliteSellerStore(file)),
          destroy: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
        });
      },
    ],
    [
      'postgres',
      async () => {
        const db = await createTestDatabase(name.replace(/-/g, '_'));
        return { open: () => openPostgresSellerStore(db.url), destroy: () => db.drop() };
      },
    ],
  ];
}
