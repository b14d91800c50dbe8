/**
 * POST /api/settings/apply (issue 14 item 3): every running seller re-resolves its settings from the
 * workers' configuration now. The route on the recording fake; the Temporal adapter's batch (running
 * runs only, paged listing, 8 updates at a time, failures listed) on a scripted client; and the status
 * view's response schema, which is the workflow's own (common/status-schema.ts) plus the UI link.
 */
import { WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import request from 'supertest';
import { SellerConnectionError } from '../../api/connection-errors';
import { applySettingsResponseSchema, statusViewSchema } from '../../api/http-schemas';
import { buildOpenApiDocument } from '../../api/openapi';
import {
  APPLY_SETTINGS_CONCURRENCY,
  APPLY_SETTINGS_GIVE_UP_AFTER_TIMEOUTS,
  createTemporalSellerConnections,
} from '../../api/seller-connections';
import { applySettingsUpdate, sellerWorkflowId } from '../../workflows/definitions';
import { connectionStatusSchema } from '../../common/status-schema';
import { ADMIN_KEY, SHOP_KEY, SUPPORT_KEY, errorOf, testApp } from './test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };

describe('POST /api/settings/apply', () => {
  it('applies to every running seller and answers matched, applied and the failures', async () => {
    const { app, connections } = testApp();
    connections.setSeller('a-1');
    connections.setSeller('p-1', { state: 'paused' });
    connections.setSeller('gone-1', { state: 'revoked' }, false);
    connections.applySettingsFailures.set(
      'p-1',
      'the running seller workflow does not handle this command yet',
    );
    const res = await request(app).post('/api/settings/apply').set(admin);
    expect(res.status).toBe(200);
    expect(applySettingsResponseSchema.parse(res.body)).toEqual({
      matched: 2,
      applied: 1,
      failed: [{ sellerId: 'p-1', message: 'the running seller workflow does not handle this command yet' }],
    });
    expect(connections.settingsApplied).toEqual(new Map([['a-1', 1]]));
    // `{}` is accepted as the body too.
    const again = await request(app).post('/api/settings/apply').set(admin).send({});
    expect(again.body).toEqual({ matched: 2, applied: 2, failed: [] });
  });

  it('is for admins only, takes no options, and is a 503 while Temporal is unreachable', async () => {
    const { app, connections } = testApp();
    connections.setSeller('a-1');
    for (const key of [SUPPORT_KEY, SHOP_KEY]) {
      const res = await request(app)
        .post('/api/settings/apply')
        .set({ Authorization: `Bearer ${key}` });
      expect(res.status).toBe(403);
    }
    expect((await request(app).post('/api/settings/apply')).status).toBe(401);
    const withBody = await request(app).post('/api/settings/apply').set(admin).send({ overrides: {} });
    expect(withBody.status).toBe(400);
    const notJson = await request(app).post('/api/settings/apply').set(admin).type('form').send('all=1');
    expect(notJson.status).toBe(415);
    expect(connections.writes).toEqual([]);

    connections.failAll = new SellerConnectionError(
      'unavailable',
      'The workflow service (Temporal) is unreachable',
    );
    const down = await request(app).post('/api/settings/apply').set(admin);
    expect(down.status).toBe(503);
    expect(errorOf(down).code).toBe('temporal_unavailable');
  });

  it('is in the OpenAPI document with its response schema', () => {
    const doc = buildOpenApiDocument({ serverUrl: 'http://localhost:3000' }) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, unknown>; 'x-required-role'?: string }>
      >;
    };
    const op = doc.paths['/api/settings/apply']?.post;
    expect(op?.['x-required-role']).toBe('admin');
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual([
      '200',
      '400',
      '401',
      '403',
      '415',
      '429',
      '503',
    ]);
    expect(JSON.stringify(op?.responses['200'])).toContain('"failed"');
  });
});

// ---- the Temporal adapter's batch, on a scripted client ---------------------------------------------

interface Scripted {
  client: Client;
  queries: string[];
  updates: Array<{ workflowId: string; name: string; args: unknown }>;
  maxInFlight: () => number;
}

/** A Client with just what applySettings uses: visibility pages, deadlines and updates. */
function scriptedClient(pages: string[][], failFor: Map<string, Error> = new Map()): Scripted {
  const queries: string[] = [];
  const updates: Scripted['updates'] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    options: { namespace: 'default' },
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflowService: {
      listWorkflowExecutions: async (req: { query: string; nextPageToken?: Uint8Array }) => {
        queries.push(req.query);
        const index = req.nextPageToken?.length ? req.nextPageToken[0]! : 0;
        const ids = pages[index] ?? [];
        return await Promise.resolve({
          executions: ids.map((workflowId) => ({ execution: { workflowId, runId: `run-${workflowId}` } })),
          nextPageToken: index + 1 < pages.length ? Uint8Array.of(index + 1) : new Uint8Array(),
        });
      },
    },
    workflow: {
      getHandle: (workflowId: string) => ({
        executeUpdate: async (def: { name: string }, opts: { args: unknown[] }) => {
          updates.push({ workflowId, name: def.name, args: opts.args });
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inFlight--;
          const failure = failFor.get(workflowId);
          if (failure) throw failure;
          return { state: 'active', tokenTaskQueue: 'q', transferIntervalsMs: {} };
        },
      }),
    },
  } as unknown as Client;
  return { client, queries, updates, maxInFlight: () => maxInFlight };
}

describe('the Temporal adapter: applySettings', () => {
  it('lists running seller runs page by page and sends `{}` to each seller once, at most 8 at a time', async () => {
    const sellers = Array.from({ length: 30 }, (_, i) => `s-${String(i).padStart(2, '0')}`);
    const ids = sellers.map(sellerWorkflowId);
    const fake = scriptedClient(
      // s-05 twice: for a moment after a continue-as-new, visibility may list its old run as running too.
      [ids.slice(0, 12), ids.slice(12), ['not-a-seller-workflow', sellerWorkflowId('s-05')]],
      new Map([
        [sellerWorkflowId('s-03'), new WorkflowNotFoundError('gone', sellerWorkflowId('s-03'), undefined)],
        [sellerWorkflowId('s-17'), new Error('boom')],
      ]),
    );
    const port = createTemporalSellerConnections({
      client: fake.client,
      taskQueue: 'sellers-q',
      uiUrl: 'http://localhost:8233',
      callTimeoutMs: 5_000,
      scopeToTaskQueue: true,
    });
    const outcome = await port.applySettings();
    expect(outcome).toEqual({
      matched: 30,
      applied: 28,
      failed: [
        { sellerId: 's-03', message: 'the workflow ended before the update reached it' },
        { sellerId: 's-17', message: 'boom' },
      ],
    });
    expect(fake.queries).toHaveLength(3);
    for (const q of fake.queries) {
      expect(q).toContain(`ExecutionStatus = 'Running'`);
      expect(q).toContain(`TaskQueue = 'sellers-q'`);
    }
    expect(fake.updates.map((u) => u.workflowId).sort()).toEqual(ids);
    for (const u of fake.updates) {
      expect(u.name).toBe(applySettingsUpdate.name);
      expect(u.args).toEqual([{}]);
    }
    expect(fake.maxInFlight()).toBe(APPLY_SETTINGS_CONCURRENCY);
  });

  it('stops sending once 16 sellers in a row did not answer in time (workers down): the rest are reported as not tried', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => sellerWorkflowId(`s-${String(i).padStart(3, '0')}`));
    const timeout = () =>
      new WorkflowUpdateRPCTimeoutOrCancelledError('Timed out or cancelled waiting for Workflow Update', {
        cause: Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }),
      });
    const fake = scriptedClient([ids], new Map(ids.map((id) => [id, timeout()])));
    const port = createTemporalSellerConnections({
      client: fake.client,
      taskQueue: 'q',
      uiUrl: 'http://localhost:8233',
      callTimeoutMs: 5_000,
    });
    const outcome = await port.applySettings();
    // Before: all 200 were tried, each waiting the whole call timeout (here 5 ms; in production 10 s each).
    expect(fake.updates.length).toBeGreaterThanOrEqual(APPLY_SETTINGS_GIVE_UP_AFTER_TIMEOUTS);
    expect(fake.updates.length).toBeLessThan(
      APPLY_SETTINGS_GIVE_UP_AFTER_TIMEOUTS + APPLY_SETTINGS_CONCURRENCY,
    );
    expect(outcome.matched).toBe(200);
    expect(outcome.applied).toBe(0);
    expect(outcome.failed).toHaveLength(200);
    const notTried = outcome.failed.filter((f) => f.message.startsWith('not tried:'));
    expect(notTried).toHaveLength(200 - fake.updates.length);
    expect(notTried[0]!.message).toContain('did not answer in time');
    const tried = new Set(fake.updates.map((u) => u.workflowId.replace('otto-seller:', '')));
    expect(notTried.every((f) => !tried.has(f.sellerId))).toBe(true);
  });

  it('with no running seller, sends nothing', async () => {
    const fake = scriptedClient([[]]);
    const port = createTemporalSellerConnections({
      client: fake.client,
      taskQueue: 'q',
      uiUrl: 'http://localhost:8233',
      callTimeoutMs: 5_000,
    });
    expect(await port.applySettings()).toEqual({ matched: 0, applied: 0, failed: [] });
    expect(fake.updates).toEqual([]);
    // Unscoped: every seller workflow in the namespace, running runs only.
    expect(fake.queries[0]).not.toContain('TaskQueue');
  });
});

describe('the status view schema', () => {
  it('is the workflow query’s schema with the Temporal UI link', () => {
    expect(Object.keys(statusViewSchema.shape).sort()).toEqual(
      Object.keys(connectionStatusSchema.shape).sort(),
    );
    const transfer = {
      intervalMs: 900_000,
      lastRunAt: null,
      lastResult: null,
      lastCount: null,
      lastDetail: null,
      nextDueAt: '2030-01-01T00:15:00.000Z',
      running: true,
      resumable: false,
    };
    const view = {
      sellerId: 's-1',
      state: 'degraded',
      appVersion: 'v1',
      partnerId: 'P-1',
      installationId: 'i-1',
      scopes: [],
      token: { expiresAt: null, lastRefreshedAt: null, nextRefreshAt: null, refreshCount: 0 },
      pendingConsent: null,
      transfers: { ordersImport: transfer },
      health: {
        failing: ['token'],
        incident: 'OTTO refuses most installations of app v1',
        revocationSuspectedAt: null,
        refusals: 0,
      },
      upgradeAvailable: false,
      lastError: 'OTTO refuses most installations of app v1',
      events: [],
      webhooks: [],
      temporal: { workflowId: 'otto-seller:s-1', runId: 'r', uiUrl: 'http://localhost:8233/x' },
    };
    expect(statusViewSchema.parse(view)).toEqual(view);
    // The query's answer lacks the UI link: the API adds it, and the response schema requires it.
    expect(() => statusViewSchema.parse({ ...view, temporal: { workflowId: 'w', runId: 'r' } })).toThrow();
    const doc = JSON.stringify(buildOpenApiDocument({ serverUrl: 'http://localhost:3000' }));
    for (const field of ['"resumable"', '"revocationSuspectedAt"', '"incident"'])
      expect(doc).toContain(field);
  });
});
