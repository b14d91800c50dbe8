/**
 * `npm run demo`: connects the demo seller end to end against a running `npm run dev`, without a
 * browser, making the same hops a seller's browser makes (docs/otto-api.md §2): our consent link ("Allow
 * access": sets the browser-binding cookie, on to OTTO's installation link); login and "Confirm" in OPC
 * (the emulator's consent automation) → OTTO redirects to /oauth/callback without parameters; we send
 * the browser to OTTO's login (/oauth2/auth); login there → OTTO redirects back with the code; the code
 * callback. Then it waits for `active` and prints the status view. Idempotent: a seller already
 * connected is just shown.
 *
 * Then the shop's side (issue 13): it registers a few SKUs as the seller's products at OTTO (the
 * emulator), pushes their stock through `PUT /api/sellers/:id/stock` with a shop key, places an order
 * at OTTO, runs the orders import and the stock export now, and waits until the order is in the shop's
 * orders feed and the stock at OTTO. Every call to our API goes through the typed client (client/);
 * only the browser's redirect hops and the emulator's admin API are plain fetches.
 */
import { randomUUID } from 'node:crypto';
import { createOttoConnectClient, type operations } from '../client';

type StatusView =
  operations['getApiSellersSellerIdConnection']['responses'][200]['content']['application/json'];
type OrderFeedPage =
  operations['getApiSellersSellerIdOrders']['responses'][200]['content']['application/json'];

const env = process.env;
const API_URL = (env.API_URL ?? `http://localhost:${env.PORT ?? 3000}`).replace(/\/+$/, '');
const EMULATOR_URL = (env.EMULATOR_URL ?? `http://localhost:${env.OTTO_EMULATOR_PORT ?? 3900}`).replace(
  /\/+$/,
  '',
);
const ADMIN_KEY = env.DEMO_ADMIN_KEY ?? 'dev-admin-key';
const SHOP_KEY = env.DEMO_SHOP_KEY ?? 'dev-shop-key';
const SELLER_ID = env.DEMO_SELLER_ID ?? 'demo-seller';
/** The emulator's demo partner (EMULATOR_SEED_DEMO), if the status view names none. */
const DEFAULT_PARTNER_ID = 'P-DEMO-0001';
const OPC_USER = {
  username: env.DEMO_OPC_USER ?? 'demo-admin',
  password: env.DEMO_OPC_PASSWORD ?? 'demo-password',
};
const TIMEOUT_MS = Number(env.DEMO_TIMEOUT_MS ?? 60_000);
const DEMO_SKUS = ['DEMO-SKU-1', 'DEMO-SKU-2', 'DEMO-SKU-3'];

const CONNECTED = new Set(['active', 'degraded', 'paused']);
/** Our API, typed by client/api-types.ts: one client per key (role). */
const admin = createOttoConnectClient({ baseUrl: API_URL, apiKey: ADMIN_KEY });
const shop = createOttoConnectClient({ baseUrl: API_URL, apiKey: SHOP_KEY });
const seller = { path: { sellerId: SELLER_ID } };
const sellerPath = `/api/sellers/${encodeURIComponent(SELLER_ID)}`;

function unreachable(url: string, err: unknown): Error {
  return new Error(
    `cannot reach ${new URL(url).origin} (${err instanceof Error ? err.message : String(err)}); is \`npm run dev\` running?`,
    { cause: err },
  );
}

/** A call through the typed client; a network failure says what to check. */
async function api<T extends { response: Response }>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw unreachable(API_URL, err);
  }
}

/** A plain call (the emulator's admin API). */
async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw unreachable(url, err);
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

/** A typed client's answer that is not the expected status. */
function failed(step: string, res: { response: Response; error?: unknown }): never {
  fail(step, { status: res.response.status, body: res.error });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns something, or fails after TIMEOUT_MS saying what it waited for. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${TIMEOUT_MS} ms`);
    await sleep(250);
  }
}

async function currentStatus(): Promise<StatusView | undefined> {
  const res = await api(() => admin.GET('/api/sellers/{sellerId}/connection', { params: seller }));
  if (res.response.status === 404) return undefined;
  if (!res.data) failed(`GET ${sellerPath}/connection`, res);
  return res.data;
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
  const started = await api(() =>
    admin.POST('/api/sellers/{sellerId}/connection', { params: seller, body: {} }),
  );
  if (started.response.status === 409) return; // connected meanwhile
  if (!started.data) failed('POST /api/sellers/:sellerId/connection ("Allow access")', started);
  // From here on the seller's browser: it follows our one-time link and OTTO's redirects.
  const { authorizeUrl } = started.data;

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

/** The emulator's admin API for the seller's partner at OTTO. */
const ottoAdmin = (partnerId: string, what: string) =>
  `${EMULATOR_URL}/__admin/partners/${encodeURIComponent(partnerId)}/${what}`;

/** The orders feed from `after` to its end: its items and the cursor to continue with. */
async function readOrderFeed(after?: string): Promise<{ items: OrderFeedPage['items']; next?: string }> {
  const items: OrderFeedPage['items'] = [];
  let cursor = after;
  for (;;) {
    const page = await api(() =>
      shop.GET('/api/sellers/{sellerId}/orders', {
        params: { ...seller, query: { limit: 1000, ...(cursor ? { after: cursor } : {}) } },
      }),
    );
    if (!page.data) failed(`GET ${sellerPath}/orders`, page);
    items.push(...page.data.items);
    cursor = page.data.next;
    if (!page.data.hasMore) return { items, ...(cursor ? { next: cursor } : {}) };
  }
}

const listed = (stock: { sku: string; quantity: number }[]) =>
  stock.map((s) => `${s.sku}=${s.quantity}`).join(', ');

/**
 * The shop's side: stock in through our API and out at OTTO, an order at OTTO and into the shop's
 * orders feed.
 */
async function exchangeShopData(status: StatusView): Promise<void> {
  // The partner the seller connected (the status view names it); the emulator's admin API is per partner.
  const partnerId = status.partnerId ?? env.DEMO_PARTNER_ID ?? DEFAULT_PARTNER_ID;
  console.log('');
  console.log(`The shop's data (seller ${SELLER_ID}, OTTO partner ${partnerId}):`);

  // OTTO accepts stock only for the seller's products; the emulator has no product API, so register them.
  const products = await call(ottoAdmin(partnerId, 'products'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ skus: DEMO_SKUS }),
  });
  if (products.status !== 201) fail(`POST /__admin/partners/${partnerId}/products`, products);

  // Data in: the shop pushes stock levels (shop key), one change number each; the next export sends them.
  const stock = DEMO_SKUS.map((sku) => ({ sku, quantity: Math.floor(Math.random() * 100) }));
  const pushed = await api(() =>
    shop.PUT('/api/sellers/{sellerId}/stock', {
      params: { ...seller, header: { 'Idempotency-Key': randomUUID() } },
      body: stock,
    }),
  );
  if (!pushed.data) failed(`PUT ${sellerPath}/stock`, pushed);
  console.log(
    `Stock pushed:  ${listed(stock)} (PUT ${sellerPath}/stock, shop key; changes ${pushed.data.firstChangeSeq}–${pushed.data.changeSeq})`,
  );

  // Where the shop's orders feed ends now, so that only the new order is waited for.
  const { next: feedEnd } = await readOrderFeed();

  // A customer orders at OTTO.
  const created = await call(ottoAdmin(partnerId, 'orders'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: 1, skus: DEMO_SKUS }),
  });
  if (created.status !== 201) fail(`POST /__admin/partners/${partnerId}/orders`, created);
  const placed = (created.body as { salesOrderId: string; orderNumber: string }[])[0]!;
  console.log(`Order placed at OTTO: ${placed.salesOrderId} (order number ${placed.orderNumber})`);

  // Both transfers now instead of at their next interval (admin key).
  for (const kind of ['ordersImport', 'stockExport'] as const) {
    const run = await api(() =>
      admin.POST('/api/sellers/{sellerId}/transfers/{kind}/run', {
        params: { path: { sellerId: SELLER_ID, kind } },
      }),
    );
    if (!run.data) failed(`POST ${sellerPath}/transfers/${kind}/run`, run);
  }
  console.log(`Ran ordersImport and stockExport now (POST ${sellerPath}/transfers/:kind/run).`);

  // Data out: the order arrives in the shop's feed …
  let cursor = feedEnd;
  const pulled = await waitFor(`order ${placed.salesOrderId} in the orders feed`, async () => {
    const page = await readOrderFeed(cursor);
    cursor = page.next ?? cursor;
    return page.items.find((o) => o.salesOrderId === placed.salesOrderId);
  });
  console.log(
    `Order pulled:  ${pulled.salesOrderId} (order number ${pulled.orderNumber}, ${pulled.fulfillmentStatus}, ${pulled.positionItems.length} position item(s): ${[...new Set(pulled.positionItems.map((p) => p.sku))].join(', ')}) from GET ${sellerPath}/orders`,
  );

  // … and OTTO holds the stock.
  const otto = await waitFor('the pushed stock at OTTO', async () => {
    const res = await call(ottoAdmin(partnerId, 'quantities'));
    if (res.status !== 200) fail(`GET /__admin/partners/${partnerId}/quantities`, res);
    const held = new Map((res.body as { sku: string; quantity: number }[]).map((q) => [q.sku, q.quantity]));
    return stock.every((s) => held.get(s.sku) === s.quantity)
      ? stock.map((s) => ({ sku: s.sku, quantity: held.get(s.sku)! }))
      : undefined;
  });
  console.log(`Stock at OTTO: ${listed(otto)} (GET /__admin/partners/${partnerId}/quantities)`);
}

async function main(): Promise<void> {
  let status = await currentStatus();
  if (status && CONNECTED.has(status.state)) {
    console.log(`Seller ${SELLER_ID} is already connected (${status.state}).`);
  } else {
    console.log(`Connecting seller ${SELLER_ID} through the OTTO emulator …`);
    await connect();
    status = await waitFor(`seller ${SELLER_ID} active`, async () => {
      const now = await currentStatus();
      // The workflow refused the authorization (another seller holds this OTTO account, the app is not
      // installed …): its reason, at once, instead of waiting out the timeout.
      if (now?.state === 'pending_consent' && now.lastError !== null)
        throw new Error(`seller ${SELLER_ID} was not connected: ${now.lastError}`);
      return now && CONNECTED.has(now.state) ? now : undefined;
    });
    console.log(`6. ${SELLER_ID} is ${status.state}.`);
  }
  console.log('');
  console.log(`Status view (GET ${sellerPath}/connection):`);
  console.log(JSON.stringify(status, null, 2));
  console.log('');
  console.log(`State:        ${status.state}`);
  console.log(`Temporal UI:  ${status.temporal.uiUrl}`);

  await exchangeShopData(status);

  // The assistant opens only through a one-time session link, as the shop's backend would ask for it.
  const session = await api(() =>
    admin.POST('/api/sellers/{sellerId}/assistant-sessions', { params: seller, body: {} }),
  );
  if (!session.data) failed('POST /api/sellers/:sellerId/assistant-sessions', session);
  console.log('');
  console.log(`Assistant:    ${session.data.url}`);
  console.log(`              (one-time link: open it once in a browser before ${session.data.expiresAt})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
