/**
 * The typed client for otto-connect's HTTP API: openapi-fetch typed by `paths`, which
 * `npm run client:generate` generates (openapi-typescript) from the same document
 * `GET /api/openapi.json` serves. Paths, parameters, bodies and answers are checked by the compiler;
 * every call resolves to `{ data, error, response }` (no throw on 4xx/5xx).
 *
 *   const api = createOttoConnectClient({ baseUrl: 'http://localhost:3000', apiKey: 'dev-shop-key' });
 *   const { data, error } = await api.PUT('/api/sellers/{sellerId}/stock', {
 *     params: { path: { sellerId: 'demo-seller' } },
 *     body: [{ sku: 'SKU-1', quantity: 7 }],
 *   });
 */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './api-types';

export type { components, operations, paths } from './api-types';

export type OttoConnectClient = Client<paths>;

export interface OttoConnectClientOptions {
  /** Where the API answers, e.g. `http://localhost:3000` (no trailing `/api`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`: an `admin`, `support` or `shop` key from API_KEYS. */
  apiKey?: string;
  /** Longest wait for one call (ms); default 15 s. 0: none. */
  timeoutMs?: number;
  /** Another fetch (tests, proxies); default the global one. */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers sent with every call. */
  headers?: Record<string, string>;
}

/** A client for one API and one key; make one per key (role) you need. */
export function createOttoConnectClient(options: OttoConnectClientOptions): OttoConnectClient {
  const baseFetch = options.fetch ?? ((input: Request) => globalThis.fetch(input));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: {
      ...options.headers,
      ...(options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {}),
    },
    fetch:
      timeoutMs > 0
        ? (request: Request) =>
            baseFetch(
              new Request(request, {
                signal: AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]),
              }),
            )
        : baseFetch,
  });
  return client;
}
