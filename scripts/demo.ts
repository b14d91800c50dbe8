/**
 * `npm run demo`: connects the demo seller end to end against a running `npm run dev`, without a
 * browser, making the same hops a seller's browser makes (otto-api.md §2): our consent link ("Allow
 * access": sets the browser-binding cookie, on to OTTO's installation link); login and "Confirm" in OPC
 * (the emulator's consent automation) → OTTO redirects to /oauth/callback without parameters; we send
 * the browser to OTTO's login (/oauth2/auth); login there → OTTO redirects back with the code; the code
 * callback. Then it waits for `active` and prints the status view. Idempotent: a seller already
 * connected is just shown.
 */
import type { StatusView } from '../api/seller-connections';

const env = process.env;
const API_URL = (env.API_URL ?? `http://localhost:${env.PORT ?? 3000}`).replace(/\/+$/, '');
const EMULATOR_URL = (env.EMULATOR_URL ?? `http://localhost:${env.OTTO_EMULATOR_PORT ?? 3900}`).replace(
  /\/+$/,
  '',
);
const ADMIN_KEY = env.DEMO_ADMIN_KEY ?? 'dev-admin-key';
const SELLER_ID = env.DEMO_SELLER_ID ?? 'demo-seller';
const OPC_USER = {
  username: env.DEMO_OPC_USER ?? 'demo-admin',
  password: env.DEMO_OPC_PASSWORD ?? 'demo-password',
};
const TIMEOUT_MS = Number(env.DEMO_TIMEOUT_MS ?? 60_000);

const CONNECTED = new Set(['active', 'degraded', 'paused']);
const auth = { Authorization: `Bearer ${ADMIN_KEY}` };
const sellerPath = `${API_URL}/api/sellers/${encodeURIComponent(SELLER_ID)}/connection`;

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new Error(
      `cannot reach ${new URL(url).origin} (${err instanceof Error ? err.message : String(err)}); is \`npm run dev\` running?`,
      { cause: err },
    );
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

function fail(step: string, res: { status: number; body: unknown }): never {
  throw new Error(`${step} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
}

async function currentStatus(): Promise<StatusView | undefined> {
  const res = await call(sellerPath, { headers: auth });
  if (res.status === 404) return undefined;
  if (res.status !== 200) fail(`GET ${sellerPath}`, res);
  return res.body as StatusView;
}

/** One hop of a browser that does not follow redirects: the Location it is sent to, and its cookie. */
async function hop(
  step: string,
  url: string,
  cookie?: string,
): Promise<{ location: string; cookie?: string }> {
  const res = await fetch(url, {
    redirect: 'manual',
    headers: cookie ? { cookie } : {},
    signal: AbortSignal.timeout(15_000),
  });
  const location = res.headers.get('location');
  if (res.status < 300 || res.status > 399 || !location)
    fail(step, { status: res.status, body: await res.text() });
  const set = res.headers.get('set-cookie');
  return { location: new URL(location, url).toString(), ...(set ? { cookie: set.split(';')[0] } : {}) };
}

/** What the seller does at OTTO (OPC installation page or OTTO's login), via the emulator's automation. */
async function atOtto(step: string, url: string): Promise<string> {
  const consent = await call(`${EMULATOR_URL}/__admin/consent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ authorizeUrl: url, ...OPC_USER, decision: 'confirm' }),
  });
  if (consent.status !== 200) fail(`${step} (POST /__admin/consent)`, consent);
  return (consent.body as { redirectTo: string }).redirectTo;
}

async function connect(): Promise<void> {
  const started = await call(sellerPath, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({}),
  });
  if (started.status === 409) return; // connected meanwhile
  if (started.status !== 201) fail('POST /api/sellers/:sellerId/connection ("Allow access")', started);
  const { authorizeUrl } = started.body as { authorizeUrl: string };

  const start = await hop('our consent link', authorizeUrl);
  if (!start.cookie) throw new Error('our consent link set no cookie');
  console.log(`1. "Allow access": the browser is bound to this consent and sent to OPC: ${start.location}`);

  const consentCallback = await atOtto('installing the app in OPC', start.location);
  console.log(
    `2. OPC login as ${OPC_USER.username}, app installed ("Confirm"): OTTO redirects to ${consentCallback}`,
  );
  const login = await hop('the consent callback', consentCallback, start.cookie);
  console.log(
    `3. the consent callback sends the browser to OTTO's login: ${new URL(login.location).origin}/oauth2/auth`,
  );

  const codeCallback = await atOtto("OTTO's login", login.location);
  console.log(
    `4. OTTO login as ${OPC_USER.username}: redirect back with the code to ${new URL(codeCallback).pathname}`,
  );
  const done = await hop('the code callback', codeCallback, start.cookie);
  console.log(`5. callback accepted; the assistant is at ${done.location}`);
}

async function main(): Promise<void> {
  let status = await currentStatus();
  if (status && CONNECTED.has(status.state)) {
    console.log(`Seller ${SELLER_ID} is already connected (${status.state}).`);
  } else {
    console.log(`Connecting seller ${SELLER_ID} through the OTTO emulator …`);
    await connect();
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      status = await currentStatus();
      if (status && CONNECTED.has(status.state)) break;
      if (Date.now() > deadline)
        throw new Error(`seller ${SELLER_ID} not active after ${TIMEOUT_MS} ms: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(`6. ${SELLER_ID} is ${status.state}.`);
  }
  console.log('');
  console.log(`Status view (GET ${sellerPath}):`);
  console.log(JSON.stringify(status, null, 2));
  console.log('');
  console.log(`State:        ${status.state}`);
  console.log(`Temporal UI:  ${status.temporal.uiUrl}`);
  // The assistant opens only through a one-time session link, as the shop's backend would ask for it.
  const session = await call(`${API_URL}/api/sellers/${encodeURIComponent(SELLER_ID)}/assistant-sessions`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({}),
  });
  if (session.status !== 201) fail('POST /api/sellers/:sellerId/assistant-sessions', session);
  const link = session.body as { url: string; expiresAt: string };
  console.log(`Assistant:    ${link.url}`);
  console.log(`              (one-time link: open it once in a browser before ${link.expiresAt})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
