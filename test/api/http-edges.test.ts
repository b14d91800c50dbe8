/**
 * The HTTP edges a client can get wrong, each answered with a clear 4xx in the one error shape: JSON
 * bodies of the wrong kind, odd numbers in the query, the path's case, the wrong method, forms with
 * too many fields, the Authorization header's spelling, huge refusals, seller ids of dots, requests
 * Node's parser refuses, and validation errors on a seller's page.
 */
import { createServer, type Server } from 'node:http';
import request from 'supertest';
import { answerClientErrors } from '../../api/client-errors';
import { MAX_ERROR_DETAILS } from '../../api/errors';
import {
  ADMIN_KEY,
  SHOP_KEY,
  SUPPORT_KEY,
  assistantSession,
  errorOf,
  PUBLIC_BASE_URL,
  rawRequest,
  testApp,
} from './test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const support = { Authorization: `Bearer ${SUPPORT_KEY}` };
const shop = { Authorization: `Bearer ${SHOP_KEY}` };

interface Detail {
  path: string;
  message: string;
}

describe('JSON bodies that are valid JSON of the wrong kind', () => {
  it.each([
    ['null', 'null'],
    ['42', 'a number'],
    ['"v1"', 'a string'],
    ['true', 'a boolean'],
    ['[]', 'an array'],
  ])('%s to a route that takes an object: 400 "the body must be a JSON object"', async (body, kind) => {
    const { app, connections } = testApp();
    connections.setSeller('s-1');
    const res = await request(app)
      .post('/api/sellers/s-1/connection/pause')
      .set(admin)
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({
      code: 'validation_failed',
      message: `body: the body must be a JSON object, not ${kind}`,
      details: [{ path: 'body', message: `the body must be a JSON object, not ${kind}` }],
    });
    expect(connections.writes).toEqual([]);
  });

  it.each([
    ['null', 'null'],
    ['42', 'a number'],
    ['"A"', 'a string'],
    ['{"sku":"A","quantity":1}', 'an object'],
  ])('%s to PUT …/stock: 400 "the body must be a JSON array"', async (body, kind) => {
    const { app } = testApp();
    const res = await request(app)
      .put('/api/sellers/s-1/stock')
      .set(shop)
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatchObject({
      code: 'validation_failed',
      message: `body: the body must be a JSON array, not ${kind}`,
    });
  });

  it('a body that is not JSON at all is still malformed_body, and no body is still {}', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-1');
    const broken = await request(app)
      .post('/api/sellers/s-1/connection/pause')
      .set(admin)
      .set('Content-Type', 'application/json')
      .send('{"reason":');
    expect(broken.status).toBe(400);
    expect(errorOf(broken)).toEqual({
      code: 'malformed_body',
      message: 'the request body is not valid JSON',
    });
    const none = await request(app).post('/api/sellers/s-1/connection/pause').set(admin);
    expect(none.status).toBe(200);
  });
});

describe('whole numbers in the query', () => {
  const LIST_MESSAGE = 'limit must be a whole number from 1 to 1000, written in digits and given once';

  it.each([
    ['repeated', 'limit=1&limit=2'],
    ['empty', 'limit='],
    ['hexadecimal', 'limit=0x10'],
    ['with an exponent', 'limit=1e3'],
    ['padded with spaces', 'limit=%20%201'],
    ['fractional', 'limit=1.5'],
    ['negative', 'limit=-1'],
    ['zero', 'limit=0'],
    ['too large', 'limit=1001'],
  ])('GET /api/connections refuses a %s limit, saying what it takes', async (_name, query) => {
    const { app, connections } = testApp();
    const res = await request(app).get(`/api/connections?${query}`).set(support);
    expect(res.status).toBe(400);
    expect(errorOf(res)).toEqual({
      code: 'validation_failed',
      message: `query.limit: ${LIST_MESSAGE}`,
      details: [{ path: 'query.limit', message: LIST_MESSAGE }],
    });
    expect(connections.calls).toEqual([]);
  });

  it('takes digits: pageSize, limit and the feeds’ limit', async () => {
    const { app, connections } = testApp();
    expect((await request(app).get('/api/connections?pageSize=007').set(support)).status).toBe(200);
    expect((await request(app).get('/api/connections?limit=5').set(support)).status).toBe(200);
    expect(connections.calls.filter((c) => c.method === 'list').map((c) => c.args)).toEqual([
      [{ pageSize: 7 }],
      [{ pageSize: 5 }],
    ]);
    // The feeds take the same (no store here: a valid query gets as far as the 503).
    expect((await request(app).get('/api/sellers/s-1/orders?limit=10').set(shop)).status).toBe(503);
    for (const query of ['limit=1&limit=2', 'limit=', 'limit=0x10', 'limit=1e3']) {
      const res = await request(app).get(`/api/sellers/s-1/orders?${query}`).set(shop);
      expect([query, res.status]).toEqual([query, 400]);
      expect(errorOf(res).message).toBe(
        'query.limit: limit must be a whole number from 1 to 1000, written in digits and given once',
      );
    }
  });
});

describe('paths are case-sensitive', () => {
  it('/API/… runs no route: a JSON 404, also for a browser', async () => {
    const { app, connections } = testApp();
    for (const accept of ['application/json', 'text/html']) {
      const res = await request(app).get('/API/connections').set(support).set('Accept', accept);
      expect(res.status).toBe(404);
      expect(res.type).toBe('application/json');
      expect(errorOf(res)).toEqual({ code: 'route_not_found', message: 'there is no GET /API/connections' });
    }
    expect((await request(app).get('/Api/sellers/s-1/connection').set(support)).status).toBe(404);
    expect(connections.calls).toEqual([]);
  });

  it('browser paths in another case are a 404 page; one trailing slash is still fine', async () => {
    const { app } = testApp();
    const page = await request(app).get('/Assistant/otto').set('Accept', 'text/html');
    expect(page.status).toBe(404);
    expect(page.type).toBe('text/html');
    expect((await request(app).get('/OAuth/callback').set('Accept', 'text/html')).status).toBe(404);
    expect((await request(app).get('/api/connections/').set(support)).status).toBe(200);
  });
});

describe('a method the path does not take', () => {
  it.each([
    ['POST', '/api/connections', 'GET, HEAD'],
    ['PATCH', '/api/sellers/s-1/connection', 'DELETE, GET, HEAD, POST'],
    ['GET', '/api/sellers/s-1/stock', 'PUT'],
    ['PUT', '/oauth/callback', 'GET, HEAD'],
    ['DELETE', '/healthz/', 'GET, HEAD'],
  ])('%s %s: 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
    const { app } = testApp();
    const res = await request(app)[method.toLowerCase() as 'get'](path).set('Accept', 'application/json');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(errorOf(res)).toEqual({
      code: 'method_not_allowed',
      message: `${path} does not take ${method}; it takes ${allow}`,
    });
  });

  it('Allow is what OPTIONS lists; a path that does not exist is still a 404; the ops app does the same', async () => {
    const { app, opsApp } = testApp();
    const options = await request(app).options('/api/sellers/s-1/connection');
    expect(options.headers.allow).toBe('DELETE, GET, HEAD, POST');
    expect((await request(app).post('/api/nothing-here').set(admin)).status).toBe(404);
    const ops = await request(opsApp).post('/readyz');
    expect(ops.status).toBe(405);
    expect(ops.headers.allow).toBe('GET, HEAD');
  });
});

describe('forms and the body parser’s other refusals', () => {
  it('a form with too many fields is a 413 too_many_fields, not "could not be read"', async () => {
    const { app } = testApp();
    const { cookie } = await assistantSession(app, 's-1');
    const fields = Array.from({ length: 11 }, (_, i) => `f${i}=x`).join('&');
    const res = await request(app)
      .post('/assistant/otto/allow-access')
      .set('Cookie', cookie)
      .set('Origin', new URL(PUBLIC_BASE_URL).origin)
      .set('Accept', 'application/json')
      .type('form')
      .send(fields);
    expect(res.status).toBe(413);
    expect(errorOf(res)).toEqual({
      code: 'too_many_fields',
      message: 'the form has more fields than this route takes',
    });
  });
});

describe('the Authorization header', () => {
  it.each([
    ['bearer', `bearer ${SUPPORT_KEY}`],
    ['BEARER', `BEARER ${SUPPORT_KEY}`],
    ['Bearer with two spaces', `Bearer  ${SUPPORT_KEY}`],
  ])('takes the scheme spelled %s (case-insensitive, RFC 9110)', async (_name, header) => {
    const { app } = testApp();
    expect((await request(app).get('/api/connections').set('Authorization', header)).status).toBe(200);
  });

  it('a key longer than 512 characters is "not valid" (not a header format error) and never echoed', async () => {
    const { app } = testApp();
    const key = 'k'.repeat(600);
    const res = await request(app).get('/api/connections').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(401);
    expect(errorOf(res)).toEqual({ code: 'unauthorized', message: 'the API key is not valid' });
    expect(res.text).not.toContain('kkkkkkkk');
    const basic = await request(app).get('/api/connections').set('Authorization', 'Basic abc');
    expect(errorOf(basic).message).toBe('the Authorization header must be "Bearer <key>"');
  });
});

describe('refusals stay small', () => {
  it('an unknown key of 15,000 characters is named shortened', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-1');
    const long = 'x'.repeat(15_000);
    const res = await request(app)
      .post('/api/sellers/s-1/connection/pause')
      .set(admin)
      .send({ [long]: 1 });
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(1_000);
    const message = `Unrecognized key: "${'x'.repeat(64)}… (15000 characters)"`;
    expect(errorOf(res)).toEqual({
      code: 'validation_failed',
      message: `body: ${message}`,
      details: [{ path: 'body', message }],
    });
  });

  it('many unknown keys: ten are named, and how many more', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-1');
    const body = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, 1]));
    const res = await request(app).post('/api/sellers/s-1/connection/pause').set(admin).send(body);
    expect(errorOf(res).message).toBe(
      `body: Unrecognized keys: ${Array.from({ length: 10 }, (_, i) => `"k${i}"`).join(', ')} and 15 more`,
    );
  });

  it('an unknown path of 5,000 characters is repeated shortened', async () => {
    const { app } = testApp();
    const res = await request(app).get(`/api/${'p'.repeat(5_000)}`);
    expect(res.status).toBe(404);
    expect(errorOf(res).message).toBe(`there is no GET /api/${'p'.repeat(195)}…`);
  });

  it(`a batch of 1,000 invalid items lists the first ${MAX_ERROR_DETAILS} problems and says how many there were`, async () => {
    const { app } = testApp();
    const items = Array.from({ length: 1000 }, (_, i) => ({ sku: `S${i}`, quantity: -1, [`extra${i}`]: 1 }));
    const res = await request(app).put('/api/sellers/s-1/stock').set(shop).send(items);
    expect(res.status).toBe(400);
    const error = errorOf(res);
    const details = error.details as Detail[];
    expect(details).toHaveLength(MAX_ERROR_DETAILS);
    expect(details[0]!.path).toBe('body.0.quantity');
    expect(error.message).toMatch(
      /^body\.0\.quantity: .* \(2000 problems in all; details lists the first 100\)$/,
    );
    expect(res.text.length).toBeLessThan(20_000);
  });
});

describe('seller ids', () => {
  it.each(['.', '..', '...'])('%j is refused: a URL cannot carry it', async (id) => {
    const { app, connections } = testApp();
    const res = await request(app)
      .post(`/api/sellers/${encodeURIComponent(id).replace(/\./g, '%2E')}/connection`)
      .set(admin)
      .send({});
    expect(res.status).toBe(400);
    expect(errorOf(res)).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('not dots only') as string,
    });
    expect(connections.writes).toEqual([]);
  });

  it('ids with dots and other characters are accepted as before', async () => {
    const { app, connections } = testApp();
    for (const id of ['a.b', '.a', 'a..', '_', '-.', 'x'.repeat(64)]) {
      const res = await request(app)
        .post(`/api/sellers/${id}/connection`)
        .set(admin)
        .send({ appVersion: 'v1' });
      expect([id, res.status]).toEqual([id, 201]);
    }
    expect(connections.writes).toHaveLength(6);
  });
});

describe('requests Node’s parser refuses', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer(testApp().app);
    answerClientErrors(server, () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const raw = (bytes: string) => rawRequest(port, bytes);

  it('a malformed request line: 400 in the JSON error shape, and the connection closes', async () => {
    const res = await raw('GARBAGE\r\n\r\n');
    expect(res.status).toBe(400);
    expect(res.head).toMatch(/\r\nConnection: close(\r\n|$)/);
    expect(res.head).toMatch(/\r\nContent-Type: application\/json; charset=utf-8(\r\n|$)/);
    expect(JSON.parse(res.body)).toEqual({
      error: {
        code: 'malformed_request',
        message: 'the request is not valid HTTP/1.1 (request line, headers or framing)',
      },
    });
  });

  it('headers over the limit: 431 in the JSON error shape', async () => {
    const res = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'headers_too_large', message: 'the request headers are too large' },
    });
  });

  it('the server keeps answering', async () => {
    const res = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
  });
});

describe('validation errors on a seller’s page', () => {
  it('the page says it plainly; the same refusal as JSON keeps its details', async () => {
    const { app } = testApp();
    const { cookie } = await assistantSession(app, 's-1');
    const page = await request(app)
      .get('/assistant/otto?sellerId=a&sellerId=b')
      .set('Cookie', cookie)
      .set('Accept', 'text/html');
    expect(page.status).toBe(400);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain(
      'This page was opened with a link or form we could not read. Please open the OTTO Market settings from your shop again.',
    );
    expect(page.text).not.toContain('query.sellerId');
    expect(page.text).not.toContain('Invalid input');
    const json = await request(app)
      .get('/assistant/otto?sellerId=a&sellerId=b')
      .set('Cookie', cookie)
      .set('Accept', 'application/json');
    expect(json.status).toBe(400);
    expect(errorOf(json).message).toMatch(/^query\.sellerId: /);
  });
});
