/**
 * The typed client cannot drift from the API: `npm run client:generate` run afresh into a temporary
 * directory must give exactly the committed client/openapi.json and client/api-types.ts (a route or
 * zod schema changed without regenerating fails here), the committed document is what
 * GET /api/openapi.json serves, and the client (openapi-fetch, loaded through CommonJS as ts-jest and
 * tsx load it) talks to the real app.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { createOttoConnectClient } from '../../client';
import type { SellerStore } from '../../store/seller-store';
import { openSqliteSellerStore } from '../../store/sqlite-seller-store';
import { ADMIN_KEY, SHOP_KEY, SUPPORT_KEY, testApp } from './test-app';
import { tsEntry } from '../../scripts/ts-entry';

const ROOT = join(__dirname, '..', '..');
const FILES = ['openapi.json', 'api-types.ts'];

/** The first line where two texts differ, to say what changed. */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split('\n');
  const b = fresh.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: committed ${JSON.stringify(a[i])}, now ${JSON.stringify(b[i])}`;
  }
  return 'identical';
}

describe('typed client (client/)', () => {
  it('is what `npm run client:generate` makes of the current API (run it and commit after API changes)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'otto-client-'));
    try {
      // A child process, as `npm run client:generate` runs: openapi-typescript is ESM only.
      await promisify(execFile)(process.execPath, [...tsEntry('scripts/generate-client.ts'), '--out', out], {
        cwd: ROOT,
        timeout: 60_000,
      });
      for (const file of FILES) {
        const committed = readFileSync(join(ROOT, 'client', file), 'utf8');
        const fresh = readFileSync(join(out, file), 'utf8');
        if (committed !== fresh)
          throw new Error(
            `client/${file} is out of date; run \`npm run client:generate\` (${firstDifference(committed, fresh)})`,
          );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('is generated from the document GET /api/openapi.json serves', async () => {
    const { app } = testApp();
    const served = (await request(app).get('/api/openapi.json')).body as Record<string, unknown>;
    const committed = JSON.parse(readFileSync(join(ROOT, 'client', 'openapi.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    // Only the server differs: the API names its PUBLIC_BASE_URL, the committed copy the dev stack's.
    expect({ ...served, servers: undefined }).toEqual({ ...committed, servers: undefined });
  });

  describe('against the app', () => {
    let dir: string;
    let store: SellerStore;
    let server: Server;
    let baseUrl: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'otto-client-app-'));
      store = openSqliteSellerStore(join(dir, 'seller-store.db'));
      server = createServer(testApp({ store }).app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(async () => {
      await new Promise((r) => server.close(r));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('sends the key, paths, query, headers and bodies, and types answers and errors', async () => {
      const support = createOttoConnectClient({ baseUrl, apiKey: SUPPORT_KEY });
      const health = await support.GET('/healthz');
      expect(health.data).toEqual({ status: 'ok' });

      const missing = await support.GET('/api/sellers/{sellerId}/connection', {
        params: { path: { sellerId: 'nobody' } },
      });
      expect(missing.response.status).toBe(404);
      expect(missing.error?.error.code).toBe('seller_not_connected');

      const forbidden = await support.POST('/api/sellers/{sellerId}/connection', {
        params: { path: { sellerId: 'nobody' } },
        body: {},
      });
      expect(forbidden.response.status).toBe(403);

      const shop = createOttoConnectClient({ baseUrl, apiKey: SHOP_KEY });
      const put = await shop.PUT('/api/sellers/{sellerId}/stock', {
        params: { path: { sellerId: 'client-seller' }, header: { 'Idempotency-Key': 'client-test-1' } },
        body: [
          { sku: 'SKU-1', quantity: 3 },
          { sku: 'SKU-2', quantity: 0 },
        ],
      });
      expect(put.error).toBeUndefined();
      expect(put.data).toEqual({ accepted: 2, firstChangeSeq: 1, changeSeq: 2 });
      const replayed = await shop.PUT('/api/sellers/{sellerId}/stock', {
        params: { path: { sellerId: 'client-seller' }, header: { 'Idempotency-Key': 'client-test-1' } },
        body: [
          { sku: 'SKU-1', quantity: 3 },
          { sku: 'SKU-2', quantity: 0 },
        ],
      });
      expect(replayed.response.headers.get('idempotent-replayed')).toBe('true');
      expect(replayed.data).toEqual(put.data);

      const bad = await shop.PUT('/api/sellers/{sellerId}/stock', {
        params: { path: { sellerId: 'client-seller' } },
        body: [{ sku: 'SKU-1', quantity: -1 }],
      });
      expect(bad.response.status).toBe(400);
      expect(JSON.stringify(bad.error?.error.details)).toContain('quantity');

      const feed = await shop.GET('/api/sellers/{sellerId}/orders', {
        params: { path: { sellerId: 'client-seller' }, query: { limit: 10 } },
      });
      expect(feed.data?.items).toEqual([]);
      expect(typeof feed.data?.next).toBe('string');

      const admin = createOttoConnectClient({ baseUrl, apiKey: ADMIN_KEY });
      const run = await admin.POST('/api/sellers/{sellerId}/transfers/{kind}/run', {
        params: { path: { sellerId: 'nobody', kind: 'stockExport' } },
      });
      expect(run.response.status).toBe(404);
    });

    it('gives up on a call after timeoutMs', async () => {
      const client = createOttoConnectClient({
        baseUrl,
        timeoutMs: 50,
        fetch: (req) =>
          new Promise<Response>((_resolve, reject) =>
            req.signal.addEventListener('abort', () => reject(req.signal.reason as Error)),
          ),
      });
      await expect(client.GET('/healthz')).rejects.toThrow(/timeout|aborted/i);
    });
  });
});
