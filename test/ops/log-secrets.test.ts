/**
 * A full lifecycle — consent through the API, OTTO's consent, the callback, several refreshes of
 * 2-second tokens, revocation — with every log line of the API (request logs, errors) and of the
 * Temporal runtime (worker, activities, workflows, core) going through common/logger.ts into a captured
 * stream. Every plaintext secret that crossed the connector (codes, PKCE verifiers, access tokens,
 * client secrets, seal keys) is recorded on the way (TestStack wraps fetch) and must not appear in them.
 */
import request from 'supertest';
import { Runtime } from '@temporalio/worker';
import { createApp } from '../../api/create-app';
import { statusViewSchema } from '../../api/http-schemas';
import { temporalLogger } from '../../worker/temporal-logger';
import { TestStack } from '../support/stack';
import { capturingLogger } from '../support/capturing-logger';
import { stackApiConfig, stackConnections, walkConsent } from '../support/stack-api';
import { eventually, uniqueName } from '../support/temporal';

const ADMIN_KEY = 'log-test-admin-key-0001';
const { logger, lines } = capturingLogger('log-secrets', 'trace');

let stack: TestStack;

beforeAll(async () => {
  // Before TestStack connects (which would install a quiet runtime): the SDK logs at DEBUG into ours.
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'DEBUG', other: 'DEBUG' } } },
  });
  stack = await TestStack.start({ tokenTtlSeconds: 2 });
});
afterAll(async () => {
  await stack?.close();
});

it('logs a whole lifecycle without a single plaintext code, token or secret', async () => {
  const config = stackApiConfig(stack, {
    admin: ADMIN_KEY,
    stateKey: 'log-test-state-signing-key-0123456789',
  });
  const connections = stackConnections(stack, config, {
    tokenRefreshMarginMs: 1_700,
    refreshJitterMs: 0,
    refreshRetryMaxIntervalMs: 200,
    revocationConfirmWindowMs: 0,
    revocationProbeIntervalMs: 1_000,
  });
  const app = createApp({ config, connections, sealer: stack.sealer, logger });
  const admin = { Authorization: `Bearer ${ADMIN_KEY}` };
  const secrets = stack.captured.secrets;
  secrets.add(stack.sealKeys.split(':')[1]!);
  secrets.add(ADMIN_KEY);
  secrets.add(config.STATE_SIGNING_KEY);

  const sellerId = uniqueName('log-seller');
  const partner = await stack.createPartner();
  secrets.add(partner.password);
  const started = await request(app).post(`/api/sellers/${sellerId}/connection`).set(admin).send({});
  expect(started.status).toBe(201);
  const authorizeUrl = (started.body as { authorizeUrl: string }).authorizeUrl;
  // The consent link's ticket binds a browser to the consent: it must not reach the logs either.
  secrets.add(new URL(authorizeUrl).searchParams.get('ticket')!);
  const { params, cookie } = await walkConsent(stack, app, authorizeUrl, partner);
  secrets.add(params.code!);
  expect((await request(app).get('/oauth/callback').set('Cookie', cookie).query(params)).status).toBe(303);

  const status = async () =>
    statusViewSchema.parse(
      (await request(app).get(`/api/sellers/${sellerId}/connection?view=full`).set(admin)).body,
    );
  await eventually(status, (s) => s.state === 'active' && s.token.refreshCount >= 4, 30_000);
  await stack.admin('POST', `/partners/${partner.partnerId}/revoke`, {});
  await eventually(status, (s) => s.state === 'revoked', 30_000);

  // A careless caller, too: secrets under secret-looking keys and inside text are scrubbed as well.
  const [token] = [...secrets].filter((s) => s.length > 20);
  logger.warn(
    {
      clientSecret: stack.apps[0]!.clientSecret,
      nested: { access_token: token },
      url: `/oauth/callback?code=${params.code}`,
    },
    `retrying with Authorization: Bearer ${token}`,
  );

  const text = lines.join('');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  // The logs are real: request lines with the seller, and SDK lines tied to the seller's workflow.
  expect(parsed.some((l) => l.path === '/oauth/callback' && l.sellerId === sellerId)).toBe(true);
  expect(
    parsed.some((l) => l.name === 'log-secrets' && l.sellerId === sellerId && typeof l.runId === 'string'),
  ).toBe(true);
  expect(secrets.size).toBeGreaterThanOrEqual(10); // codes, verifier, ≥ 5 tokens, client secrets, keys
  const leaked = [...secrets].filter((secret) => secret.length >= 6 && text.includes(secret));
  expect(leaked).toEqual([]);
}, 90_000);
