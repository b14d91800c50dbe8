/**
 * `npm run dev` and `npm run demo` as a newcomer runs them, on free ports and a temporary DATA_DIR so
 * the jest harness's own server is never touched: the stack comes up and prints its URLs, the demo
 * connects the demo seller (through the typed client), pushes stock that reaches OTTO and pulls an order
 * placed at OTTO from the shop's feed, a second launcher on the same data refuses to start, Ctrl-C (SIGINT to the
 * launcher's process group, as a terminal sends it) leaves no process behind, and after a restart the
 * seller is still active without a new consent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/temporal-dev-server';
import { DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB } from '../../worker/allocator';
import { tsEntry } from '../../scripts/ts-entry';

const ROOT = join(__dirname, '..', '..');

interface Launched {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(script: string, env: NodeJS.ProcessEnv): Launched {
  // Own process group, like a shell job: SIGINT to the group is what Ctrl-C does.
  const child = spawn(process.execPath, tsEntry(script), {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(p: Launched, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!p.output().includes(text)) {
    if (p.child.exitCode !== null)
      throw new Error(`exited (${p.child.exitCode}) before "${text}":\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle` (our temporary DATA_DIR is unique to this test). */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(`${pid} ${cmd}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

async function until(holds: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

describe('npm run dev / npm run demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'otto-dev-stack-'));
  const started: Launched[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const ports = {
      TEMPORAL_DEV_PORT: await freePort(),
      TEMPORAL_UI_PORT: await freePort(),
      OTTO_EMULATOR_PORT: await freePort(),
      PORT: await freePort(),
      OPS_PORT: await freePort(),
      WORKER_METRICS_PORT: await freePort(),
      WORKER_APP_METRICS_PORT: await freePort(),
    };
    // Nothing from the developer's shell may point the stack elsewhere.
    const base = { ...process.env };
    for (const key of [
      'OTTO_APPS',
      'OTTO_AUTH_BASE_URL',
      'OTTO_API_BASE_URL',
      'TEMPORAL_ADDRESS',
      'PUBLIC_BASE_URL',
      'SEAL_KEYS',
      'API_KEYS',
      'EMULATOR',
      // The stack draws two ports of its own (the dev server's HTTP and metrics ports): without this
      // worker's id it draws them from the slice of processes outside jest (processSlice), never from
      // this worker's, where the ports above lie unbound until the stack binds them.
      'JEST_WORKER_ID',
    ])
      delete base[key];
    env = {
      ...base,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      DATA_DIR: dataDir,
      LOG_PRETTY: '0',
      LOG_LEVEL: 'WARN',
    };
  });

  afterAll(async () => {
    // Whatever happened, nothing of ours survives the test.
    for (const p of started) {
      if (p.child.pid !== undefined && groupAlive(p.child.pid)) {
        process.kill(-p.child.pid, 'SIGINT');
        await Promise.race([p.exited, new Promise((r) => setTimeout(r, 20_000))]);
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const startDev = async (): Promise<{ dev: Launched; groups: number[] }> => {
    const dev = launch('scripts/dev.ts', env);
    started.push(dev);
    await waitForOutput(dev, 'otto-connect dev stack is up', 60_000);
    const lock = JSON.parse(readFileSync(join(dataDir, 'dev.lock'), 'utf8')) as {
      pid: number;
      groups: number[];
    };
    return { dev, groups: lock.groups };
  };

  const ctrlC = async ({ dev, groups }: { dev: Launched; groups: number[] }) => {
    process.kill(-dev.child.pid!, 'SIGINT');
    expect(await dev.exited).toBe(0);
    expect(dev.output()).toContain('temporal stopped');
    // No process of the stack is left: neither the children's groups nor anything using our DATA_DIR.
    expect(groups.filter(groupAlive)).toEqual([]);
    expect(groupAlive(dev.child.pid!)).toBe(false);
    expect(await until(() => processesMentioning(dataDir).length === 0, 2_000)).toBe(true);
    expect(existsSync(join(dataDir, 'dev.lock'))).toBe(false);
  };

  const status = async () => {
    // The full view: the checks below read the event log.
    const res = await fetch(`http://127.0.0.1:${env.PORT}/api/sellers/demo-seller/connection?view=full`, {
      headers: { Authorization: 'Bearer dev-support-key' },
    });
    return (await res.json()) as {
      state: string;
      events: Array<{ type: string }>;
      token: { refreshCount: number };
    };
  };

  /**
   * The demo's shop part: the stock it pushed through PUT …/stock is what OTTO (the emulator) holds after
   * the stock export, and the order it placed at OTTO came out of the shop's orders feed.
   */
  const expectShopExchange = (out: string) => {
    const pushed =
      /^Stock pushed:\s+(\S.*?) \(PUT \/api\/sellers\/demo-seller\/stock, shop key; changes \d+–\d+\)$/m.exec(
        out,
      )?.[1];
    expect(pushed).toMatch(/^DEMO-SKU-1=\d+, DEMO-SKU-2=\d+, DEMO-SKU-3=\d+$/);
    expect(out).toMatch(
      new RegExp(`^Stock at OTTO: ${pushed} \\(GET /__admin/partners/P-DEMO-0001/quantities\\)$`, 'm'),
    );
    const placed = /^Order placed at OTTO: (\S+) /m.exec(out)?.[1];
    expect(placed).toBeTruthy();
    expect(out).toMatch(
      new RegExp(
        `^Order pulled:\\s+${placed} \\(.*DEMO-SKU-\\d.*\\) from GET /api/sellers/demo-seller/orders$`,
        'm',
      ),
    );
  };

  it('starts, connects the demo seller, stops cleanly on Ctrl-C, and keeps the seller across a restart', async () => {
    const first = await startDev();
    const banner = first.dev.output();
    for (const url of [
      // No assistant URL with a seller id any more: how to ask for a one-time session link.
      `-H "Authorization: Bearer dev-admin-key" http://localhost:${env.PORT}/api/sellers/demo-seller/assistant-sessions`,
      `http://localhost:${env.TEMPORAL_UI_PORT}`,
      `http://localhost:${env.OTTO_EMULATOR_PORT}`,
      'demo-admin / demo-password',
      `http://127.0.0.1:${env.OPS_PORT}  (/healthz, /readyz, /metrics)`,
    ])
      expect(banner).toContain(url);
    // Readiness and metrics are on the API's ops port, not on its public port.
    expect((await fetch(`http://127.0.0.1:${env.OPS_PORT}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.PORT}/metrics`)).status).toBe(404);
    expect(banner.match(/otto-connect dev stack is up/g)).toHaveLength(1);
    for (const name of ['temporal', 'emulator', 'worker', 'api'])
      expect(banner).toMatch(new RegExp(`^${name}\\s*\\| `, 'm'));
    // The worker runs as in the Docker image: its main thread's young generation capped (worker/allocator.ts).
    expect(banner).toMatch(
      new RegExp(`^worker\\s*\\| .*main thread semi-space: ${DEFAULT_WORKFLOW_THREAD_SEMI_SPACE_MB} MB`, 'm'),
    );

    const demoEnv = {
      ...env,
      API_URL: `http://localhost:${env.PORT}`,
      EMULATOR_URL: `http://localhost:${env.OTTO_EMULATOR_PORT}`,
    };
    const demo = launch('scripts/demo.ts', demoEnv);
    // With the output, so that a failing demo says why.
    const code = await demo.exited;
    if (code !== 0) throw new Error(`the demo exited with ${code}:\n${demo.output()}`);
    expect(demo.output()).toMatch(/^State:\s+active$/m);
    expect(demo.output()).toContain(
      `http://localhost:${env.TEMPORAL_UI_PORT}/namespaces/default/workflows/otto-seller%3Ademo-seller/`,
    );
    expectShopExchange(demo.output());

    // Idempotent: a second demo only shows the connected seller.
    const again = launch('scripts/demo.ts', demoEnv);
    expect({ code: await again.exited, output: again.output() }).toMatchObject({ code: 0 });
    expect(again.output()).toContain('already connected (active)');
    expectShopExchange(again.output());
    expect(banner.slice(banner.indexOf('otto-connect dev stack is up'))).not.toContain('sellerId=');

    // Each demo ends with a fresh one-time assistant link; it opens the assistant once.
    const links = [demo.output(), again.output()].map(
      (out) => /^Assistant:\s+(http\S+)$/m.exec(out)?.[1] ?? '',
    );
    expect(links[0]).toMatch(new RegExp(`^http://localhost:${env.PORT}/assistant/otto/session\\?token=`));
    expect(links[1]).not.toBe(links[0]);
    const opened = await fetch(links[1]!, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe('/assistant/otto');
    const cookie = opened.headers.get('set-cookie')!.split(';')[0]!;
    const assistant = await fetch(`http://127.0.0.1:${env.PORT}/assistant/otto`, { headers: { cookie } });
    expect(await assistant.text()).toContain('authorization completed');
    expect((await fetch(links[1]!, { redirect: 'manual' })).status).toBe(410);

    // A second launcher on the same data refuses, and leaves the running stack alone.
    const second = launch('scripts/dev.ts', env);
    started.push(second);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('another dev stack');
    expect((await status()).state).toBe('active');

    await ctrlC(first);

    const restarted = await startDev();
    const after = await status();
    expect(after.state).toBe('active');
    expect(after.events.filter((e) => e.type === 'consent_requested')).toHaveLength(1);
    await ctrlC(restarted);
  }, 90_000);
});
