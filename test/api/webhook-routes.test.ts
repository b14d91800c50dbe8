/** The admin's webhook redelivery endpoint and the status view's webhook list, against the recording fake. */
import request from 'supertest';
import { redeliverResponseSchema, statusViewSchema } from '../../api/http-schemas';
import { ADMIN_KEY, errorOf, SUPPORT_KEY, testApp } from './test-app';

const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
const support = { Authorization: `Bearer ${SUPPORT_KEY}` };
const delivery = {
  eventId: 'evt_1',
  type: 'connection.state_changed' as const,
  at: '2030-01-01T00:00:00.000Z',
  status: 'delivered' as const,
  attempts: 3,
  lastError: 'attempt 2: HTTP 503 receiver down',
  deliveredAt: '2030-01-01T00:00:05.000Z',
};

describe('POST /api/sellers/:sellerId/webhooks/:eventId/redeliver', () => {
  it('202 for a known event, through the redeliverWebhook command', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-w1', { webhooks: [delivery] });
    const res = await request(app).post('/api/sellers/s-w1/webhooks/evt_1/redeliver').set(admin);
    expect(res.status).toBe(202);
    expect(redeliverResponseSchema.parse(res.body)).toEqual({
      sellerId: 's-w1',
      eventId: 'evt_1',
      status: 'pending',
    });
    expect(connections.calls.filter((c) => c.method === 'redeliverWebhook')).toEqual([
      { method: 'redeliverWebhook', args: ['s-w1', 'evt_1'] },
    ]);
  });

  it('404 with a clear message for an unknown event id; 400 for a malformed one; admins only', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-w2', { webhooks: [delivery] });
    const unknown = await request(app).post('/api/sellers/s-w2/webhooks/evt_nope/redeliver').set(admin);
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown).code).toBe('webhook_not_found');
    expect(errorOf(unknown).message).toContain('evt_nope');
    const bad = await request(app).post('/api/sellers/s-w2/webhooks/evt%20x/redeliver').set(admin);
    expect(bad.status).toBe(400);
    const forbidden = await request(app).post('/api/sellers/s-w2/webhooks/evt_1/redeliver').set(support);
    expect(forbidden.status).toBe(403);
  });

  it('the full status view carries the webhook list and the API schema accepts it', async () => {
    const { app, connections } = testApp();
    connections.setSeller('s-w3', { webhooks: [delivery] });
    const res = await request(app).get('/api/sellers/s-w3/connection?view=full').set(support);
    expect(res.status).toBe(200);
    expect(statusViewSchema.parse(res.body).webhooks).toEqual([delivery]);
  });
});
