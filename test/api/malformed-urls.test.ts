/**
 * No request can crash the API (issue 12): malformed percent-encoding anywhere in a path or query is a
 * 400 `malformed_url` (JSON for the API, a page for browser routes), nothing throws from a response
 * listener, and the process keeps answering. Checked three ways: createApp through supertest; the real
 * HTTP server on a port with raw request lines (node:net, so nothing client-side re-encodes the path);
 * and api/index.ts as deployed, in its own process, with its ops port.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import request from 'supertest';
import { createApp } from '../../api/create-app';
import { createMetrics } from '../../api/metrics';
import { safeListener } from '../../api/safe-listener';
import { malformedPart } from '../../api/url-guard';
import { createLogger } from '../../common/logger';
import { capturingLogger } from '../support/capturing-logger';
import { startApiProcess, standaloneApiEnv, type ApiProcess } from '../support/api-process';
import { FakeSellerConnections } from './fake-seller-connections';
import { SUPPORT_KEY, errorOf, rawRequest, testApp, testConfig, type RawResponse } from './test-app';

/** Malformed request targets: the four, then more of the same family. */
const MALFORMED: { path: string; why: string }[] = [
  { path: '/api/sellers/%', why: 'a lone % in a path parameter' },
  { path: '/api/sellers/%E0%A4%A/connection', why: 'a truncated UTF-8 sequence' },
  { path: '/%', why: 'a lone % at the root' },
  { path: '/oauth/callback/%', why: 'a lone % under the callback' },
  { path: '/assistant/otto?sellerId=%', why: 'a lone % in a page query' },
  { path: '/api/connections?state=%ZZ', why: 'non-hex digits in an API query' },
  { path: '/%%', why: 'two lone %' },
  { path: '/api/sellers/%C0%AF/connection', why: 'overlong UTF-8 for /' },
  { path: '/%C0%80', why: 'overlong UTF-8 for NUL' },
  { path: '/api/sellers/%00/connection', why: 'NUL in a path parameter' },
  { path: '/oauth/callback?code=x&state=%00', why: 'NUL in the callback query' },
  { path: '/api/sellers/%ED%A0%80/connection', why: 'a UTF-16 surrogate encoded as UTF-8' },
  { path: '/api/sellers/%FF%FE/connection', why: 'bytes that are never UTF-8' },
  { path: '/healthz?probe=%E2%82', why: 'a truncated sequence on the health check' },
  { path: '/api/docs/%G0', why: 'a bad hex digit under the docs' },
  { path: '/oauth/callback?%=1', why: 'a lone % as a query key' },
];

const STACK_TRACE = /at .*\.(ts|js):\d+|URIError|node:internal/;

/** One raw HTTP/1.1 request; the target goes on the wire exactly as given. */
async function raw(port: number, target: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const lines = Object.entries({ Host: 'localhost', Connection: 'close', ...headers }).map(
    ([k, v]) => `${k}: ${v}`,
  );
  return await rawRequest(port, `GET ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
}

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

describe('url-guard', () => {
  it.each(MALFORMED.map((m) => [m.why, m.path] as const))('refuses %s', (_why, path) => {
    expect(malformedPart(path)).toBeDefined();
  });

  it.each([
    '/api/sellers/s-1/connection',
    '/api/sellers/caf%C3%A9/connection',
    '/api/sellers/%E2%82%AC',
    '/api/connections?state=active&x=a%2Bb%20c+d',
    '/oauth/callback?code=abc&state=x.y-z_%3D',
    '/',
  ])('lets %s through', (path) => {
    expect(malformedPart(path)).toBeUndefined();
  });
});

describe('malformed URLs through createApp (supertest)', () => {
  it.each(MALFORMED.map((m) => [m.why, m.path] as const))('%s → 400 malformed_url', async (_why, path) => {
    const { app, errors } = testApp();
    const res = await request(app).get(path).set('Accept', 'application/json');
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe('malformed_url');
    expect(res.text).not.toMatch(STACK_TRACE);
    expect(errors).toEqual([]);
  });

  it('browser routes get the error as a page; the API gets JSON whatever it accepts', async () => {
    const { app } = testApp();
    for (const path of ['/assistant/otto?sellerId=%', '/oauth/callback/%', '/%']) {
      const page = await request(app).get(path).set('Accept', 'text/html');
      expect(page.status).toBe(400);
      expect(page.type).toBe('text/html');
      expect(page.text).toContain('malformed_url');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    }
    const api = await request(app).get('/api/sellers/%').set('Accept', 'text/html');
    expect(api.type).toBe('application/json');
    expect(errorOf(api).code).toBe('malformed_url');
  });

  it('a valid key does not get a malformed URL past the guard, and the ops app refuses them too', async () => {
    const { app, opsApp, connections } = testApp();
    const res = await request(app)
      .get('/api/sellers/%/connection')
      .set('Authorization', `Bearer ${SUPPORT_KEY}`);
    expect(res.status).toBe(400);
    expect(connections.calls).toEqual([]);
    for (const path of ['/metrics?%', '/readyz/%', '/%00']) {
      const ops = await request(opsApp).get(path).set('Accept', 'application/json');
      expect(ops.status).toBe(400);
      expect(errorOf(ops).code).toBe('malformed_url');
    }
  });
});

describe('malformed URLs against the real HTTP server (raw request lines)', () => {
  // With the request logger: its `finish` listener was where the process died.
  const { logger, lines } = capturingLogger('api', 'debug');
  let server: Server;
  let port: number;

  beforeAll(async () => {
    ({ server, port } = await listen(
      createApp({ config: testConfig(), connections: new FakeSellerConnections(), logger }),
    ));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers every malformed URL 4xx without a stack trace, then still answers /healthz', async () => {
    for (const { path } of MALFORMED) {
      for (const accept of ['application/json', 'text/html']) {
        const res = await raw(port, path, { Accept: accept });
        expect([path, accept, res.status]).toEqual([path, accept, 400]);
        expect(res.body).toContain('malformed_url');
        expect(res.body).not.toMatch(STACK_TRACE);
      }
    }
    const health = await raw(port, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    // A normal request still works end to end.
    const api = await raw(port, '/api/sellers/s-1/connection', { Authorization: `Bearer ${SUPPORT_KEY}` });
    expect(api.status).toBe(404);
    // Each refusal was logged (the listener ran to the end), none of them failed to log.
    const logged = lines.map((l) => JSON.parse(l) as { status?: number; msg: string });
    expect(logged.filter((l) => l.status === 400)).toHaveLength(MALFORMED.length * 2);
    expect(logged.filter((l) => l.msg.includes('could not be written'))).toEqual([]);
    expect(lines.join('\n')).not.toContain('URIError');
  });

  it('keeps serving on one keep-alive connection after malformed requests', async () => {
    const answers = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('GET /api/sellers/% HTTP/1.1\r\nHost: x\r\n\r\n');
        socket.write('GET /%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n');
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('error', reject);
      socket.on('end', () => resolve(text));
    });
    // Bodies carry no trailing newline: the next status line follows right after one.
    expect([...answers.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['400', '400', '200']);
  });

  it('a logger that throws inside the response listener does not take the server down', async () => {
    const throwing = createLogger({
      name: 'api',
      level: 'debug',
      pretty: false,
      destination: {
        write: () => {
          throw new Error('disk full');
        },
      },
    });
    const metrics = createMetrics();
    const { server: s, port: p } = await listen(
      createApp({
        config: testConfig(),
        connections: new FakeSellerConnections(),
        logger: throwing,
        metrics,
      }),
    );
    try {
      for (const path of ['/api/sellers/%', '/healthz', '/api/connections']) {
        expect((await raw(p, path)).status).toBeGreaterThanOrEqual(200);
      }
      expect((await raw(p, '/healthz')).status).toBe(200);
      // The metrics listener ran too.
      expect(await metrics.registry.metrics()).toContain('route="/healthz",status="200"');
    } finally {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });

  it('safeListener hands a listener error to its reporter and never throws', () => {
    const seen: unknown[] = [];
    const listener = safeListener(
      () => {
        throw new Error('boom');
      },
      (err) => {
        seen.push(err);
        throw new Error('the reporter fails too');
      },
    );
    expect(() => listener()).not.toThrow();
    expect(seen).toHaveLength(1);
  });
});

describe('api/index.ts as deployed: public port and ops port', () => {
  let api: ApiProcess | undefined;

  afterAll(async () => {
    await api?.kill();
  });

  it('survives the malformed URLs, keeps answering, serves /readyz and /metrics on the ops port only', async () => {
    const key = (role: string) => `${role}:${randomBytes(24).toString('base64url')}`;
    api = await startApiProcess({
      ...standaloneApiEnv(),
      TEMPORAL_CALL_TIMEOUT: '5s',
      API_KEYS: `${key('admin')},${key('support')}`,
    });
    const { port, opsPort } = api;
    const output = () => api!.output();

    for (const { path } of MALFORMED) {
      const res = await raw(port, path, { Accept: 'application/json' });
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body).not.toMatch(STACK_TRACE);
    }
    expect((await raw(port, '/healthz')).status).toBe(200);
    expect(api.child.exitCode).toBeNull();
    expect(output()).not.toContain('URIError');

    // A request line Node's parser refuses (a space in the target) is answered in the JSON error shape
    // too (api/client-errors.ts), on both ports, and the server keeps answering.
    for (const p of [port, opsPort]) {
      const garbage = await raw(p, '/a b');
      expect(garbage.status).toBe(400);
      expect(garbage.head).toMatch(/\r\nConnection: close(\r\n|$)/);
      expect(JSON.parse(garbage.body)).toMatchObject({ error: { code: 'malformed_request' } });
      expect((await raw(p, '/healthz')).status).toBe(200);
    }

    // /readyz and /metrics are not on the public port; the ops port (loopback by default) has them.
    expect((await raw(port, '/readyz')).status).toBe(404);
    expect((await raw(port, '/metrics')).status).toBe(404);
    expect((await raw(opsPort, '/healthz')).status).toBe(200);
    const ready = await raw(opsPort, '/readyz');
    expect(ready.status).toBe(200);
    const metrics = await raw(opsPort, '/metrics');
    expect(metrics.status).toBe(200);
    // The public port's traffic, malformed requests included, is counted on the ops port.
    expect(metrics.body).toContain('route="unmatched",status="400"');
    expect(output()).toContain(`ops endpoints on http://127.0.0.1:${opsPort}`);

    process.kill(api.child.pid!, 'SIGTERM');
    expect((await api.exited).code).toBe(0);
  }, 60_000);
});
