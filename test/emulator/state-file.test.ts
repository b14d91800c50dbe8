import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createEmulator } from '../../emulator/create-emulator';
import { defaultApps } from '../../emulator/options';
import {
  adminConsent,
  authorizationCode,
  bearer,
  connect,
  createPartner,
  exchangeCode,
  harness,
  invite,
  mint,
  REDIRECT_URI,
  testClock,
} from './helpers';

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
    const before = (await first.http.get(`/__admin/partners/${c.partnerId}/orders`).expect(200))
      .body as unknown[];
    expect(before).toHaveLength(3);
    expect(readFileSync(stateFile, 'utf8')).toContain(c.partnerId);

    // A new process: same file, new emulator. (The data API itself is tested in data-api.test.ts.)
    const second = await harness({ stateFile });
    expect(second.emulator.state.partners.map((p) => p.partnerId)).toContain(c.partnerId);
    expect((await second.http.get(`/__admin/partners/${c.partnerId}/orders`).expect(200)).body).toEqual(
      before,
    );
    await second.http
      .get('/v4/orders')
      .set(...bearer(c.token))
      .expect(200);
    expect((await mint(second, second.apps.v1, c.installationId)).status).toBe(200);

    // Revocation persists too.
    await second.http.post(`/__admin/partners/${c.partnerId}/revoke`).send({}).expect(200);
    const third = await harness({ stateFile });
    expect((await mint(third, third.apps.v1, c.installationId)).status).toBe(403);
  });

  it('a restart keeps invitations (used or not), codes and user tokens', async () => {
    const stateFile = join(dir, 'state.json');
    const [v1, v2] = defaultApps();
    const options = { stateFile, apps: [{ ...v1!, visibility: 'private' as const }, v2!] };
    const first = await harness(options);
    const user = await createPartner(first);
    const used = await invite(first, first.apps.v1.appId);
    const unused = await invite(first, first.apps.v1.appId);
    await adminConsent(first, used.url, user).expect(200);
    const code = await authorizationCode(first, first.apps.v1, user);
    const persisted = JSON.parse(readFileSync(stateFile, 'utf8')) as { state: { invitations: unknown[] } };
    expect(persisted.state.invitations).toHaveLength(2);

    const second = await harness(options);
    expect((await adminConsent(second, used.url, user)).status).toBe(410);
    // Already installed for this partner: continue to the app, the unused invitation stays unused.
    expect((await adminConsent(second, unused.url, user).expect(200)).body).toEqual({
      redirectTo: REDIRECT_URI,
    });
    const other = await createPartner(second);
    expect((await adminConsent(second, unused.url, other).expect(200)).body).toEqual({
      redirectTo: REDIRECT_URI,
    });
    const exchanged = await exchangeCode(second, second.apps.v1, code).expect(200);
    const token = (exchanged.body as { access_token: string }).access_token;

    const third = await harness(options);
    expect((await adminConsent(third, unused.url, other)).status).toBe(410);
    await third.http
      .get(`/v1/apps/${third.apps.v1.appId}/installation`)
      .set(...bearer(token))
      .expect(200);
  });

  it('making the app public kills its earlier invitation links', async () => {
    const stateFile = join(dir, 'state.json');
    const [v1, v2] = defaultApps();
    const first = await harness({ stateFile, apps: [{ ...v1!, visibility: 'private' }, v2!] });
    const invitation = await invite(first, first.apps.v1.appId);
    const user = await createPartner(first);
    const second = await harness({ stateFile });
    const res = await adminConsent(second, invitation.url, user);
    expect(res.status).toBe(410);
    expect((res.body as { error: { code: string } }).error.code).toBe('invitation_revoked');
  });

  it('a state file without invitations (older format) still loads', async () => {
    const stateFile = join(dir, 'state.json');
    writeFileSync(
      stateFile,
      JSON.stringify({
        format: 'otto-emulator-state/1',
        state: { partners: [], installations: [], tokens: [], codes: [], data: {}, lastOrderChangeMs: 0 },
      }),
    );
    const h = await harness({ stateFile });
    expect(h.emulator.state.invitations).toEqual([]);
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
