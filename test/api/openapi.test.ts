/**
 * /api/openapi.json: structurally valid OpenAPI 3.1 (no validator dependency: the checks below are the
 * spec's required fields and reference rules), and covering every route the app really registers.
 */
import request from 'supertest';
import { z } from 'zod';
import { testApp } from './test-app';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Routes registered on the Express app, read from its router stack (routers are mounted without prefix). */
function registeredRoutes(app: unknown): string[] {
  const out: string[] = [];
  const walk = (stack: unknown[]) => {
    for (const layer of stack as {
      route?: { path: string; methods: Record<string, boolean> };
      handle?: { stack?: unknown[] };
    }[]) {
      if (layer.route) for (const m of Object.keys(layer.route.methods)) out.push(`${m} ${layer.route.path}`);
      else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as { router: { stack: unknown[] } }).router.stack);
  // HEAD goes with every GET in HTTP and is not an operation of its own in the document; the few routes
  // that register it explicitly do so only to answer it without the GET's effect (api/routing.ts).
  return out.filter((route) => !route.startsWith('head ')).sort();
}

const operationSchema = z.object({
  summary: z.string().min(1),
  operationId: z.string().regex(/^[A-Za-z0-9]+$/),
  parameters: z.array(
    z.object({
      name: z.string(),
      in: z.enum(['path', 'query', 'header', 'cookie']),
      required: z.boolean(),
      schema: z.record(z.string(), z.unknown()),
    }),
  ),
  requestBody: z
    .object({ content: z.record(z.string(), z.object({ schema: z.record(z.string(), z.unknown()) })) })
    .optional(),
  responses: z.record(z.string().regex(/^[1-5]\d\d$/), z.object({ description: z.string().min(1) })),
});

describe('GET /api/openapi.json', () => {
  it('is a structurally valid OpenAPI 3.1 document covering every route', async () => {
    const { app } = testApp();
    const res = await request(app).get('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = z
      .object({
        openapi: z.string().regex(/^3\.\d+\.\d+$/),
        info: z.object({ title: z.string().min(1), version: z.string().min(1) }),
        paths: z.record(z.string().startsWith('/'), z.record(z.string(), z.unknown())),
        components: z.object({ securitySchemes: z.record(z.string(), z.object({ type: z.string() })) }),
      })
      .parse(res.body);

    const documented: string[] = [];
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      const templated = [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1]);
      for (const [method, raw] of Object.entries(item)) {
        expect(METHODS).toContain(method);
        const op = operationSchema.parse(raw);
        expect(operationIds.has(op.operationId)).toBe(false);
        operationIds.add(op.operationId);
        // Every templated segment is a required path parameter, and only those.
        const pathParams = op.parameters.filter((p) => p.in === 'path');
        expect(pathParams.map((p) => p.name).sort()).toEqual([...templated].sort());
        expect(pathParams.every((p) => p.required)).toBe(true);
        // Security requirements name declared schemes only.
        for (const requirement of (raw as { security?: Record<string, unknown>[] }).security ?? []) {
          for (const scheme of Object.keys(requirement))
            expect(doc.components.securitySchemes).toHaveProperty(scheme);
        }
        documented.push(`${method} ${path.replace(/\{([A-Za-z]+)\}/g, ':$1')}`);
      }
    }
    expect(documented.sort()).toEqual(registeredRoutes(app));
    // No schema leaks a JSON-Schema dialect marker that OpenAPI does not expect inside operations.
    expect(JSON.stringify(doc.paths)).not.toContain('"$schema"');
  });

  it('describes inputs from the same zod schemas the routes parse with', async () => {
    const { app } = testApp();
    const doc = (await request(app).get('/api/openapi.json')).body as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters: { name: string; required: boolean; schema: { pattern?: string; enum?: string[] } }[];
            requestBody?: {
              content: Record<
                string,
                {
                  schema: { properties: Record<string, { enum?: string[]; type?: string; format?: string }> };
                }
              >;
            };
            responses: Record<
              string,
              {
                content?: Record<
                  string,
                  { schema: { properties?: Record<string, unknown>; required?: string[] } }
                >;
              }
            >;
          }
        >
      >;
    };
    const post = doc.paths['/api/sellers/{sellerId}/connection']!.post!;
    // The workflow's seller id rule, without ids of dots only (a URL cannot carry "." or "..").
    expect(post.parameters.find((p) => p.name === 'sellerId')?.schema.pattern).toBe(
      '^(?!\\.+$)[A-Za-z0-9._-]{1,64}$',
    );
    expect(post.requestBody?.content['application/json']?.schema.properties.appVersion?.enum).toEqual([
      'v1',
      'v2',
    ]);
    const body = post.requestBody!.content['application/json']!.schema.properties;
    expect(body.invitationUrl).toMatchObject({ type: 'string', format: 'uri' });
    expect(body.allowPartnerChange).toMatchObject({ type: 'boolean' });
    const created = post.responses['201']!.content!['application/json']!.schema;
    expect(Object.keys(created.properties!).sort()).toEqual(
      ['appVersion', 'authorizeUrl', 'consentDeadline', 'installationUrl', 'linkExpiresAt', 'state'].sort(),
    );
    expect([...created.required!].sort()).toEqual(Object.keys(created.properties!).sort());
    const start = doc.paths['/oauth/start']!.get!;
    expect(start.parameters.map((p) => [p.name, p.required])).toEqual([['ticket', true]]);
    expect(Object.keys(start.responses).sort()).toEqual(['303', '400', '503']);
    // Assistant sessions: the shop's backend asks (admin key) for a one-time link …
    const sessions = doc.paths['/api/sellers/{sellerId}/assistant-sessions']!.post!;
    expect(sessions.parameters.map((p) => [p.name, p.required])).toEqual([['sellerId', true]]);
    expect(Object.keys(sessions.requestBody!.content['application/json']!.schema.properties).sort()).toEqual([
      'appVersion',
      'invitationUrl',
    ]);
    const link = sessions.responses['201']!.content!['application/json']!.schema;
    expect(Object.keys(link.properties!).sort()).toEqual(['expiresAt', 'url']);
    expect([...link.required!].sort()).toEqual(['expiresAt', 'url']);
    // … the link sets the session; the assistant and "Allow access" need it, and take no seller id.
    const session = doc.paths['/assistant/otto/session']!.get!;
    expect(session.parameters.map((p) => [p.name, p.required])).toEqual([['token', true]]);
    expect(Object.keys(session.responses).sort()).toEqual(['303', '400', '410', '503']);
    const allow = doc.paths['/assistant/otto/allow-access']!.post!;
    expect(
      Object.keys(allow.requestBody!.content['application/x-www-form-urlencoded']!.schema.properties).sort(),
    ).toEqual(['appVersion', 'formToken']);
    for (const op of [doc.paths['/assistant/otto']!.get!, allow]) {
      expect((op as { security?: unknown }).security).toEqual([{ assistantSession: [] }]);
      expect(Object.keys(op.responses)).toContain('401');
    }
    const run = doc.paths['/api/sellers/{sellerId}/transfers/{kind}/run']!.post!;
    expect(run.parameters.find((p) => p.name === 'kind')?.schema.enum).toContain('ordersImport');
  });
});
