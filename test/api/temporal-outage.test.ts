/**
 * What the API says when Temporal gives no answer, through the real Temporal adapter over a client whose
 * calls fail as the SDK's do: "unreachable" (no connection: nothing was changed) is not "no answer in
 * time", where an update Temporal accepted may still be applied. Commands say so and point at the
 * status; reads say only that the answer did not come in time; both are 503 with Retry-After.
 */
import type { Client } from '@temporalio/client';
import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import request from 'supertest';
import { createApp } from '../../api/create-app';
import { createTemporalSellerConnections, temporalOutage } from '../../api/seller-connections';
import { ADMIN_KEY, assistantSession, errorOf, SUPPORT_KEY, testConfig } from './test-app';

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details });
const UNREACHABLE = () =>
  new ServiceError('Failed to describe workflow', {
    cause: grpcError(14, 'UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED'),
  });
const DEADLINE = () =>
  new ServiceError('Failed to query workflow', {
    cause: grpcError(4, 'DEADLINE_EXCEEDED: Deadline exceeded'),
  });
/** Temporal's refusal for load: more than its 10 updates in flight for one workflow (the SDK's wrap). */
const BUSY = () =>
  new ServiceError('Workflow Update failed', {
    cause: grpcError(
      8,
      'RESOURCE_EXHAUSTED: limit on number of concurrent in-flight updates has been reached (10)',
    ),
  });
const UPDATE_TIMEOUT = () =>
  new WorkflowUpdateRPCTimeoutOrCancelledError('Timed out or cancelled waiting for Workflow Update', {
    cause: grpcError(4, 'DEADLINE_EXCEEDED: Deadline exceeded'),
  });

/** A Temporal client whose every workflow call fails with `failure()`. */
function failingClient(failure: () => Error): Client {
  const fail = () => Promise.reject(failure());
  return {
    options: { namespace: 'default' },
    connection: { withDeadline: (_deadline: number, work: () => Promise<unknown>) => work() },
    workflow: { getHandle: () => ({ describe: fail, query: fail, executeUpdate: fail }) },
  } as unknown as Client;
}

function appOver(failure: () => Error) {
  const connections = createTemporalSellerConnections({
    client: failingClient(failure),
    taskQueue: 'outage',
    uiUrl: 'http://temporal-ui.test',
    callTimeoutMs: 1_000,
  });
  return createApp({ config: testConfig(), connections, log: { error: () => undefined } });
}

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const support = { Authorization: `Bearer ${SUPPORT_KEY}` };

describe('Temporal without an answer', () => {
  it('a command that got no answer in time may still take effect: 503 temporal_timeout says to check the status first', async () => {
    const app = appOver(UPDATE_TIMEOUT);
    for (const call of [
      request(app).post('/api/sellers/s-1/connection/pause').set(admin),
      request(app).post('/api/sellers/s-1/connection/resume').set(admin),
      request(app).delete('/api/sellers/s-1/connection').set(admin),
      request(app).post('/api/sellers/s-1/transfers/ordersImport/run').set(admin),
    ]) {
      const res = await call;
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(errorOf(res).code).toBe('temporal_timeout');
      expect(errorOf(res).message).toContain('did not answer in time');
      expect(errorOf(res).message).toContain(
        'The command may still take effect: check the connection status (GET /api/sellers/s-1/connection) before sending it again',
      );
      expect(errorOf(res).message).not.toContain('Nothing was changed');
    }
  });

  it('a read that got no answer in time is a 503 temporal_timeout that says only that', async () => {
    const res = await request(appOver(DEADLINE)).get('/api/sellers/s-1/connection?view=full').set(support);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(errorOf(res)).toEqual({
      code: 'temporal_timeout',
      message:
        'The workflow service (Temporal) or the seller’s worker did not answer in time; please try again shortly.',
    });
  });

  it('Temporal unreachable: 503 temporal_unavailable, and nothing was changed, for reads and commands', async () => {
    const app = appOver(UNREACHABLE);
    for (const call of [
      request(app).get('/api/sellers/s-1/connection').set(support),
      request(app).post('/api/sellers/s-1/connection/pause').set(admin),
    ]) {
      const res = await call;
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(errorOf(res)).toEqual({
        code: 'temporal_unavailable',
        message:
          'The workflow service (Temporal) is unreachable. Nothing was changed; please try again shortly.',
      });
    }
  });

  it('Temporal refusing for load (RESOURCE_EXHAUSTED): 503 temporal_busy, nothing was changed; before, a 500', async () => {
    const app = appOver(BUSY);
    for (const call of [
      request(app).post('/api/sellers/s-1/transfers/ordersImport/run').set(admin),
      request(app).post('/api/sellers/s-1/connection/pause').set(admin),
      request(app).get('/api/sellers/s-1/connection?view=full').set(support),
    ]) {
      const res = await call;
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(errorOf(res)).toEqual({
        code: 'temporal_busy',
        message:
          'The workflow service (Temporal) is busy (too many requests for this seller at once, or a rate limit). Nothing was changed; please try again shortly.',
      });
    }
    const { cookie } = await assistantSession(app, 's-1');
    const page = await request(app).get('/assistant/otto').set('Cookie', cookie);
    expect(page.status).toBe(503);
    expect(page.text).toContain('busy right now');
  });

  it('the seller’s page says it in the seller’s words', async () => {
    const app = appOver(DEADLINE);
    const { cookie } = await assistantSession(app, 's-1');
    const page = await request(app).get('/assistant/otto').set('Cookie', cookie);
    expect(page.status).toBe(503);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('This is taking longer than usual');
    expect(page.text).not.toContain('GET /api/');
  });

  it('classifies the SDK’s failures: a connection failure anywhere in the chain is "unreachable"', () => {
    expect(temporalOutage(UNREACHABLE())).toBe('unreachable');
    expect(temporalOutage(DEADLINE())).toBe('no_answer');
    expect(temporalOutage(BUSY())).toBe('busy');
    // Refused while polling for the outcome of an update Temporal had accepted: it may still be applied.
    expect(
      temporalOutage(
        new ServiceError('Workflow Update Poll failed', { cause: grpcError(8, 'RESOURCE_EXHAUSTED') }),
      ),
    ).toBe('no_answer');
    expect(temporalOutage(UPDATE_TIMEOUT())).toBe('no_answer');
    expect(temporalOutage(new ServiceError('cancelled', { cause: grpcError(1, 'CANCELLED') }))).toBe(
      'no_answer',
    );
    expect(
      temporalOutage(
        new WorkflowUpdateRPCTimeoutOrCancelledError('Timed out', {
          cause: grpcError(14, 'UNAVAILABLE: No connection established'),
        }),
      ),
    ).toBe('unreachable');
    expect(
      temporalOutage(new ServiceError('bad', { cause: grpcError(3, 'INVALID_ARGUMENT') })),
    ).toBeUndefined();
    expect(temporalOutage(new Error('boom'))).toBeUndefined();
  });
});
