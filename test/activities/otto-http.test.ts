/**
 * `ottoRequest` over both transports against a real local HTTP server: production's undici transport
 * and the fetch transport tests' fakes use must answer every case alike (statuses, error bodies,
 * Retry-After, redirects, cancellation, timeouts, a refused connection).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CancelledFailure } from '@temporalio/common';
import {
  describeOttoDeprecation,
  fetchTransport,
  forgetOttoDeprecationWarnings,
  OttoHttpError,
  MAX_OTTO_RESPONSE_BYTES,
  OttoNetworkError,
  ottoRequest,
  undiciTransport,
  type HttpRequest,
  type HttpTransport,
  type OttoDeprecation,
} from '../../activities/otto-http';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { z } from 'zod';
import { createOttoDataClient } from '../../activities/otto-data-client';
import { createSealer, generateSealKey, parseSealKeys } from '../../common/seal';
import { freePort } from '../../scripts/temporal-dev-server';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** Requests that never get an answer, ended when the test is over. */
const hanging = new Set<ServerResponse>();

function route(req: IncomingMessage, body: string, res: ServerResponse): void {
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };
  switch (new URL(req.url ?? '/', base).pathname) {
    case '/v4/orders':
      return json(200, { resources: [{ id: 1 }], echo: body });
    case '/v1/token':
      return json(400, { error: 'invalid_grant', error_description: 'code expired' });
    case '/v2/quantities':
      return json(
        429,
        { errors: [{ title: 'Too Many Requests', detail: 'slow down' }] },
        { 'retry-after': '7' },
      );
    case '/moved':
      res.writeHead(Number(new URL(req.url ?? '/', base).searchParams.get('status') ?? 302), {
        location: '/v4/orders',
      });
      return void res.end();
    case '/huge': {
      // Chunked, no length announced: the cap must hold while reading, not only against a header.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = (): void => {
        while (sent < MAX_OTTO_RESPONSE_BYTES / chunk.length + 2) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      return more();
    }
    case '/v3/returns':
      return json(
        200,
        { positionItems: [] },
        {
          deprecation: '@1767225600',
          sunset: 'Wed, 01 Jul 2026 00:00:00 GMT',
          link: '<https://docs.otto.market/returns-v3>; rel="deprecation", </v4/returns>; rel="successor-version"',
        },
      );
    case '/v1/shipping-profiles/sp-1':
      return json(404, { errors: [{ title: 'Not Found' }] }, { sunset: 'Thu, 31 Dec 2026 23:59:59 GMT' });
    case '/hang':
      hanging.add(res);
      return;
    case '/not-json':
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('plain words');
    default:
      return json(404, {});
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      route(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const res of hanging) res.destroy();
  hanging.clear();
  seen.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const transports: [string, () => HttpTransport][] = [
  ['undici (production)', () => undiciTransport()],
  ['fetch', () => fetchTransport(fetch)],
];

describe.each(transports)('ottoRequest over %s', (_name, make) => {
  const transport = make();
  /** What the request rejected with (a request that succeeds fails the test here). */
  const rejection = (req: HttpRequest): Promise<unknown> =>
    ottoRequest(transport, req).then(
      () => {
        throw new Error(`${req.method} ${req.url} succeeded`);
      },
      (err: unknown) => err,
    );

  it('sends the bearer, JSON body and headers, and parses the JSON answer', async () => {
    const { status, body } = await ottoRequest<{ resources: unknown[]; echo: string }>(transport, {
      method: 'POST',
      url: `${base}/v4/orders`,
      bearer: 'secret-token',
      json: { sku: 'a', quantity: 3 },
      headers: { 'x-request-timestamp': '2030-01-01T00:00:00.000Z' },
    });
    expect(status).toBe(200);
    expect(body.resources).toEqual([{ id: 1 }]);
    expect(JSON.parse(body.echo)).toEqual({ sku: 'a', quantity: 3 });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v4/orders' });
    expect(seen[0]!.headers).toMatchObject({
      authorization: 'Bearer secret-token',
      'content-type': 'application/json',
      accept: 'application/json',
      'x-request-timestamp': '2030-01-01T00:00:00.000Z',
    });
  });

  it('sends a form and turns an OAuth error body into an OttoHttpError with reason and description', async () => {
    const err = await rejection({
      method: 'POST',
      url: `${base}/v1/token`,
      form: { grant_type: 'authorization_code', code: 'abc' },
    });
    expect(err).toBeInstanceOf(OttoHttpError);
    expect(err).toMatchObject({ status: 400, reason: 'invalid_grant', description: 'code expired' });
    expect(seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(seen[0]!.body).get('code')).toBe('abc');
  });

  it('reads Retry-After and OTTO’s error list from a 429', async () => {
    const err = await rejection({
      method: 'POST',
      url: `${base}/v2/quantities`,
      json: [],
    });
    expect(err).toBeInstanceOf(OttoHttpError);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    expect((err as OttoHttpError).errorText).toContain('slow down');
  });

  it('never follows a redirect: a 3xx is an error answer, the secret form and the token stay where they were sent', async () => {
    for (const status of [302, 307, 308]) {
      seen.length = 0;
      const err = await rejection({
        method: 'POST',
        url: `${base}/moved?status=${status}`,
        bearer: 'secret-token',
        form: { grant_type: 'client_credentials', client_secret: 'the-client-secret' },
      });
      expect(err).toBeInstanceOf(OttoHttpError);
      expect(err).toMatchObject({ status });
      expect(seen.map((s) => s.url)).toEqual([`/moved?status=${status}`]);
    }
  });

  describe('Sunset / Deprecation (OTTO retires old major versions 6 months after their successor)', () => {
    beforeEach(() => forgetOttoDeprecationWarnings());

    it('tells the listener once per endpoint pattern and process: the endpoint, the dates and the successor', async () => {
      const notices: OttoDeprecation[] = [];
      const onDeprecation = (n: OttoDeprecation) => notices.push(n);
      await ottoRequest(transport, { method: 'GET', url: `${base}/v3/returns?page=1`, onDeprecation });
      await ottoRequest(transport, { method: 'GET', url: `${base}/v3/returns?page=2`, onDeprecation });
      await ottoRequest(transport, { method: 'GET', url: `${base}/v4/orders`, onDeprecation });
      // An error answer carries them too (another endpoint: told once more).
      await rejection({ method: 'GET', url: `${base}/v1/shipping-profiles/sp-1`, onDeprecation });
      expect(notices).toEqual([
        {
          endpoint: '/v3/returns',
          method: 'GET',
          status: 200,
          deprecation: '@1767225600',
          deprecatedAt: '2026-01-01T00:00:00.000Z',
          sunset: 'Wed, 01 Jul 2026 00:00:00 GMT',
          sunsetAt: '2026-07-01T00:00:00.000Z',
          successor: `${base}/v4/returns`,
        },
        {
          endpoint: '/v1/shipping-profiles/:id',
          method: 'GET',
          status: 404,
          deprecation: null,
          deprecatedAt: null,
          sunset: 'Thu, 31 Dec 2026 23:59:59 GMT',
          sunsetAt: '2026-12-31T23:59:59.000Z',
          successor: null,
        },
      ]);
      expect(describeOttoDeprecation(notices[0]!)).toBe(
        `OTTO announces the end of GET /v3/returns: deprecated 2026-01-01T00:00:00.000Z; sunset 2026-07-01T00:00:00.000Z; successor ${base}/v4/returns (old major versions live 6 months: move to the successor before the sunset)`,
      );
    });

    it('a request without a listener does not use up the warning; a listener that throws never fails the call', async () => {
      await ottoRequest(transport, { method: 'GET', url: `${base}/v3/returns` });
      const { status } = await ottoRequest(transport, {
        method: 'GET',
        url: `${base}/v3/returns`,
        onDeprecation: () => {
          throw new Error('listener broke');
        },
      });
      expect(status).toBe(200);
      const notices: OttoDeprecation[] = [];
      await ottoRequest(transport, {
        method: 'GET',
        url: `${base}/v3/returns`,
        onDeprecation: (n) => notices.push(n),
      });
      expect(notices).toEqual([]);
    });
  });

  it('keeps a body that is not JSON as text', async () => {
    expect((await ottoRequest(transport, { method: 'GET', url: `${base}/not-json` })).body).toBe(
      'plain words',
    );
  });

  it('the activity’s cancellation aborts a request in flight and rejects with a CancelledFailure', async () => {
    const controller = new AbortController();
    const pending = ottoRequest(transport, { method: 'GET', url: `${base}/hang`, signal: controller.signal });
    await until(() => hanging.size === 1);
    controller.abort(new CancelledFailure('activity cancelled'));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect((err as Error).message).toBe('activity cancelled');
  });

  it('a request OTTO does not answer in time is a network error naming the path, never the token', async () => {
    const err = await rejection({
      method: 'GET',
      url: `${base}/hang`,
      bearer: 'secret-token',
      timeoutMs: 200,
    });
    expect(err).toBeInstanceOf(OttoNetworkError);
    expect((err as Error).message).toMatch(/^GET \/hang failed/);
    expect((err as Error).message).not.toContain('secret-token');
  });

  it('a refused connection is a network error', async () => {
    const closed = await freePort();
    const err = await rejection({
      method: 'GET',
      url: `http://127.0.0.1:${closed}/v4/orders`,
    });
    expect(err).toBeInstanceOf(OttoNetworkError);
  });
});

/** Waits for a condition of the server's state, checking on each turn of the event loop's I/O. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('the production transport (undici)', () => {
  it('refuses an answer over MAX_OTTO_RESPONSE_BYTES (undici) instead of buffering it', async () => {
    const err = await ottoRequest(undiciTransport(), { method: 'GET', url: `${base}/huge` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OttoNetworkError);
    expect(String(err)).toMatch(/size|exceed/i);
  });
});

describe('the data client’s default: a warning in the activity’s log, once per endpoint', () => {
  beforeEach(() => forgetOttoDeprecationWarnings());

  it('logs the endpoint, the sunset and the successor once, however many answers carry them', async () => {
    const sealer = createSealer(parseSealKeys(generateSealKey('k')));
    const warnings: LogEntry[] = [];
    const env = new MockActivityEnvironment(undefined, {
      logger: new DefaultLogger('WARN', (entry) => warnings.push(entry)),
    });
    const otto = createOttoDataClient({ apiBaseUrl: base, sealer });
    const ctx = {
      sellerId: 's',
      partnerId: 'p',
      sealedToken: sealer.seal('t', { purpose: 'installation-token', sellerId: 's' }),
      tokenExpiresAt: Date.now() + 25 * 60_000,
    };
    await env.run(async () => {
      for (const page of [1, 2, 3])
        await otto.call(ctx, { method: 'GET', path: `/v3/returns?page=${page}` }, z.unknown());
    });
    const deprecations = warnings.filter((w) => w.message.startsWith('OTTO announces the end of'));
    expect(deprecations).toHaveLength(1);
    expect(deprecations[0]!.message).toContain('GET /v3/returns');
    expect(deprecations[0]!.message).toContain('sunset 2026-07-01T00:00:00.000Z');
    expect(deprecations[0]!.message).toContain(`successor ${base}/v4/returns`);
    expect(deprecations[0]!.meta).toMatchObject({
      endpoint: '/v3/returns',
      sunset: 'Wed, 01 Jul 2026 00:00:00 GMT',
    });
  });
});
