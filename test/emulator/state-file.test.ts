import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createEmulator } from '../../emulator/create-emulator';
import { bearer, connect, harness, mint, testClock } from './helpers';

describe('state file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'otto-emulator-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a restart keeps partners, installations, tokens and seller data', async () => {
    const stateFile = join(dir, 'state.json');
    const first = await harness({ stateFile });
    const c = await connect(first, 'v1');
    await first.http.post(`/__admin/partners/${c.partnerId}/orders`).send({ count: 3 }).expect(201);
    await first.http
      .post('/v1/availability/quantities')
      .set(...bearer(c.token))
      .send([{ sku: 'A', quantity: 4 }])
      .expect(200);
    expect(readFileSync(stateFile, 'utf8')).toContain(c.partnerId);

    // A new process: same file, new emulator.
    const second = await harness({ stateFile });
    expect(second.emulator.state.partners.map((p) => p.partnerId)).toContain(c.partnerId);
    const orders = (
      await second.http
        .get('/v4/orders')
        .set(...bearer(c.token))
        .expect(200)
    ).body as { resources: unknown[] };
    expect(orders.resources).toHaveLength(3);
    expect((await second.http.get(`/__admin/partners/${c.partnerId}/quantities`).expect(200)).body).toEqual([
      expect.objectContaining({ sku: 'A', quantity: 4 }),
    ]);
    expect((await mint(second, second.apps.v1, c.installationId)).status).toBe(200);

    // Revocation persists too.
    await second.http.post(`/__admin/partners/${c.partnerId}/revoke`).send({}).expect(200);
    const third = await harness({ stateFile });
    expect((await mint(third, third.apps.v1, c.installationId)).status).toBe(403);
  });

  it('configured partners are added once, and reset returns to them', async () => {
    const stateFile = join(dir, 'state.json');
    const partners = [
      {
        partnerId: 'P-DEMO',
        users: [{ username: 'demo', password: 'pw', admin: true, dienstleisterFreigaben: true }],
      },
    ];
    const a = createEmulator({ stateFile, partners, now: testClock().now });
    expect(a.state.partners.map((p) => p.partnerId)).toEqual(['P-DEMO']);
    const b = createEmulator({ stateFile, partners, now: testClock().now });
    expect(b.state.partners.map((p) => p.partnerId)).toEqual(['P-DEMO']);
    await request(b.app)
      .post('/__admin/partners')
      .send({
        partnerId: 'P2',
        users: [{ username: 'x', password: 'y', admin: true, dienstleisterFreigaben: true }],
      })
      .expect(201);
    await request(b.app).post('/__admin/reset').expect(204);
    expect(createEmulator({ stateFile, partners }).state.partners.map((p) => p.partnerId)).toEqual([
      'P-DEMO',
    ]);
  });

  it('a corrupt state file is an error, not a silent reset', () => {
    const stateFile = join(dir, 'state.json');
    writeFileSync(stateFile, '{ not json');
    expect(() => createEmulator({ stateFile })).toThrow(/not valid JSON/);
    writeFileSync(stateFile, '{"something":"else"}');
    expect(() => createEmulator({ stateFile })).toThrow(/otto-emulator-state/);
  });
});
