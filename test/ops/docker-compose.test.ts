/**
 * docker-compose.yml cannot be run here (no container engine), so its promises are checked statically:
 * every app service's environment, interpolated as `docker compose` would with a production .env, is
 * accepted by that process's zod config schema and names no variable the process does not read; ports,
 * dependencies and the search-attribute job agree with the code; the Dockerfile runs what compose names.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { apiConfigSchema } from '../../api/config';
import { loadConfig } from '../../common/config';
import { generateSealKey } from '../../common/seal';
import { defaultApps } from '../../emulator/options';
import { workerConfigSchema } from '../../worker/config';
import { searchAttributes, SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../workflows/definitions';

const ROOT = join(__dirname, '..', '..');
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The secrets an operator's .env holds (strong, as production requires). */
const OPERATOR_SECRETS: Record<string, string> = {
  SEAL_KEYS: generateSealKey('prod1'),
  API_KEYS: `admin:${randomBytes(24).toString('hex')},support:${randomBytes(24).toString('hex')}`,
  STATE_SIGNING_KEY: randomBytes(32).toString('base64url'),
  POSTGRES_PASSWORD: 'pg-secret',
  SELLER_STORE_PASSWORD: randomBytes(24).toString('hex'),
  OTTO_APPS: JSON.stringify(
    defaultApps().map(({ version, appId, clientId, clientSecret, scopes }) => ({
      version,
      appId,
      clientId,
      clientSecret,
      scopes,
    })),
  ),
};
/** The same apps without their client secrets: what the API gets (client ids only). */
OPERATOR_SECRETS.OTTO_APPS_PUBLIC = JSON.stringify(
  (JSON.parse(OPERATOR_SECRETS.OTTO_APPS!) as Array<Record<string, unknown>>).map(
    ({ clientSecret: _secret, ...app }) => app,
  ),
);
/** A production start against the real OTTO, behind a TLS proxy. */
const PRODUCTION_ENV: Record<string, string> = {
  ...OPERATOR_SECRETS,
  PUBLIC_BASE_URL: 'https://connect.shop.example',
  OTTO_AUTH_BASE_URL: 'https://api.otto.market',
  OTTO_API_BASE_URL: 'https://api.otto.market',
};
/** The emulator trial on one host: compose's http://localhost defaults, which need dev mode. */
const TRIAL_ENV: Record<string, string> = { ...OPERATOR_SECRETS, OTTO_CONNECT_ENV: 'dev' };

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, nesting, and $$. */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$') {
      out += ch;
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (text[i + 1] !== '{') {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (!m) throw new Error(`bare $ at ${i}`);
      out += env[m[0]] ?? '';
      i += m[0].length;
      continue;
    }
    let depth = 1;
    let j = i + 2;
    for (; j < text.length && depth > 0; j++) {
      if (text[j] === '{' && text[j - 1] === '$') depth++;
      else if (text[j] === '}') depth--;
    }
    const expr = text.slice(i + 2, j - 1);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([\s\S]*))?$/.exec(expr);
    if (!m?.[1]) throw new Error(`cannot interpolate \${${expr}}`);
    const [, name, op, arg = ''] = m;
    const value = env[name];
    const unset = op?.startsWith(':') ? !value : value === undefined;
    if (op?.endsWith('-')) out += unset ? interpolate(arg, env) : value;
    else if (op?.endsWith('?')) {
      if (unset) throw new Error(`required variable ${name} is missing: ${arg}`);
      out += value;
    } else out += value ?? '';
    i = j - 1;
  }
  return out;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  restart?: string;
  deploy?: { replicas?: number | string };
  healthcheck?: unknown;
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, unknown>;
}

/** Like compose: parse the YAML first, then interpolate each string (so JSON values stay strings). */
function load(env: Record<string, string | undefined>): Compose {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return interpolate(value, env);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(parse(composeText, { merge: true })) as Compose;
}

const compose = load(PRODUCTION_ENV);
const trial = load(TRIAL_ENV);
const services = compose.services;
const service = (name: string, c: Compose = compose): Service => {
  const found = c.services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
};
const envOf = (name: string, c: Compose = compose): Record<string, string> =>
  Object.fromEntries(Object.entries(service(name, c).environment ?? {}).map(([k, v]) => [k, String(v)]));
/** The image's own ENV lines (runtime stage), which every app container also gets. */
const imageEnv: Record<string, string> = (() => {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
  const out: Record<string, string> = {};
  for (const m of runtime.matchAll(/^ENV\s+([\s\S]*?)(?:\n(?!\s))/gm)) {
    for (const pair of (m[1] ?? '').replace(/\\\n/g, ' ').matchAll(/([A-Z_]+)=(\S+)/g))
      if (pair[1] && pair[2]) out[pair[1]] = pair[2];
  }
  return out;
})();
const containerEnv = (name: string, c: Compose = compose) => ({ ...imageEnv, ...envOf(name, c) });

/** Keys a schema reads, whether it is a plain object or wrapped in refinements and transforms. */
function schemaKeys(schema: z.ZodType): string[] {
  let s: unknown = schema;
  for (let i = 0; i < 5 && s && typeof s === 'object'; i++) {
    if ('shape' in s && s.shape && typeof s.shape === 'object') return Object.keys(s.shape);
    s = 'in' in s ? s.in : undefined;
  }
  throw new Error('schema has no object shape');
}
/** Read outside the schema: by Node, by common/dev-secrets.ts, or by the seller store. */
const PROCESS_LEVEL = new Set(['NODE_ENV', 'DATA_DIR', 'SELLER_STORE']);
// emulator/index.ts reads these (its schema is not exported; keep in step with its envSchema).
const EMULATOR_KEYS = [
  'OTTO_EMULATOR_PORT',
  'OTTO_EMULATOR_HOST',
  'EMULATOR_TOKEN_TTL_SECONDS',
  'EMULATOR_STATE_FILE',
  'EMULATOR_SEED_DEMO',
  'EMULATOR_PUBLIC_BASE_URL',
  'EMULATOR_REDIRECT_URIS',
  'PUBLIC_BASE_URL',
];

/** A short-syntax port mapping, `[ip:]host:container[/proto]` or `container`; ip may be `[::1]`. */
function containerPort(mapping: string): { ip?: string; host?: number; container: number } {
  const m = /^(?:(?:(\[[^\]]+\]|[^:]+):)?(\d+):)?(\d+)(?:\/\w+)?$/.exec(mapping);
  if (!m?.[3]) throw new Error(`cannot read the port mapping ${mapping}`);
  return {
    ...(m[1] === undefined ? {} : { ip: m[1].replace(/^\[|\]$/g, '') }),
    ...(m[2] === undefined ? {} : { host: Number(m[2]) }),
    container: Number(m[3]),
  };
}
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
/** Published on every interface of the host (no ip, or a wildcard ip). */
const publicOnHost = (mapping: string) => {
  const { ip } = containerPort(mapping);
  return ip === undefined || !LOOPBACK.has(ip);
};

describe('docker-compose.yml', () => {
  it('has the production shape: PostgreSQL, Temporal on it, the UI, the search-attribute job, worker, API, emulator profile', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'emulator',
        'postgresql',
        'seller-store-db',
        'temporal',
        'temporal-search-attributes',
        'temporal-ui',
        'worker',
      ].sort(),
    );
    expect(service('postgresql').image).toMatch(/^postgres:/);
    expect(service('temporal').image).toMatch(/^temporalio\/auto-setup:/);
    expect(envOf('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:/);
    expect(service('emulator').profiles).toEqual(['emulator']);
    for (const name of ['worker', 'api', 'emulator']) expect(service(name).build).toBe('.');
    expect(Number(service('worker').deploy?.replicas)).toBeGreaterThanOrEqual(2);
    expect(Number(load({ ...PRODUCTION_ENV, WORKER_REPLICAS: '5' }).services.worker?.deploy?.replicas)).toBe(
      5,
    );
  });

  it('refuses to start without the production secrets (no silent defaults)', () => {
    for (const name of [
      'SEAL_KEYS',
      'API_KEYS',
      'STATE_SIGNING_KEY',
      'OTTO_APPS',
      'OTTO_APPS_PUBLIC',
      'POSTGRES_PASSWORD',
      'SELLER_STORE_PASSWORD',
    ]) {
      const env = { ...PRODUCTION_ENV, [name]: undefined };
      expect(() => load(env)).toThrow(`required variable ${name} is missing`);
    }
  });

  it("the worker's environment passes workerConfigSchema and names nothing it does not read", () => {
    const env = containerEnv('worker');
    const config = loadConfig(workerConfigSchema, env);
    expect(config.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(config.OTTO_APPS.map((a) => a.version)).toEqual(['v1', 'v2']);
    expect(config.WORKER_METRICS_HOST).toBe('0.0.0.0');
    const known = new Set([...schemaKeys(workerConfigSchema), ...PROCESS_LEVEL]);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
  });

  it("the API's environment passes the API schema in production and names nothing it does not read", () => {
    const env = containerEnv('api');
    expect(env.NODE_ENV).toBe('production');
    const config = loadConfig(apiConfigSchema, env);
    expect(config.PORT).toBe(3000);
    expect(config.API_KEYS.length).toBeGreaterThan(0);
    // Client ids only: no client secret reaches the API's container, let alone its memory.
    expect(config.OTTO_APPS.map((a) => a.clientId)).toEqual(defaultApps().map((a) => a.clientId));
    for (const { clientSecret } of defaultApps()) expect(JSON.stringify(env)).not.toContain(clientSecret);
    const known = new Set([...schemaKeys(apiConfigSchema), ...PROCESS_LEVEL]);
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    // Without a secret, the schema itself names the variable (what the container would log).
    const { STATE_SIGNING_KEY: _omitted, ...without } = env;
    expect(() => loadConfig(apiConfigSchema, without)).toThrow('STATE_SIGNING_KEY');
  });

  it('the emulator trial passes both schemas in dev mode; the same http:// defaults fail closed without it', () => {
    const api = loadConfig(apiConfigSchema, containerEnv('api', trial));
    expect(api.OTTO_CONNECT_ENV).toBe('dev');
    expect(api.HOST).toBe('0.0.0.0'); // dev mode would bind loopback: unreachable from outside the container
    expect(loadConfig(workerConfigSchema, containerEnv('worker', trial)).OTTO_CONNECT_ENV).toBe('dev');
    const notDev = load(OPERATOR_SECRETS);
    expect(envOf('api', notDev).OTTO_CONNECT_ENV).toBe('production');
    expect(() => loadConfig(apiConfigSchema, containerEnv('api', notDev))).toThrow(/PUBLIC_BASE_URL/);
    expect(() => loadConfig(workerConfigSchema, containerEnv('worker', notDev))).toThrow(/OTTO_API_BASE_URL/);
  });

  it('the emulator reads every variable it is given', () => {
    expect(Object.keys(envOf('emulator')).filter((k) => !EMULATOR_KEYS.includes(k))).toEqual([]);
  });

  it('worker and API agree on Temporal, task queues, seal keys and OTTO', () => {
    const worker = envOf('worker');
    const api = envOf('api');
    for (const key of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'TASK_QUEUE',
      'SEAL_KEYS',
      'OTTO_API_BASE_URL',
      'PUBLIC_BASE_URL',
    ])
      expect([key, worker[key]]).toEqual([key, api[key]]);
    // The same apps: the API's list is the worker's without the client secrets.
    const ids = (apps: string) =>
      (JSON.parse(apps) as Array<{ version: string; appId: string; clientId: string }>).map(
        ({ version, appId, clientId }) => ({ version, appId, clientId }),
      );
    expect(ids(api.OTTO_APPS!)).toEqual(ids(worker.OTTO_APPS!));
    // Same OTTO for both when it is the real one.
    const real = load({
      ...PRODUCTION_ENV,
      OTTO_AUTH_BASE_URL: 'https://sandbox.api.otto.market',
      OTTO_API_BASE_URL: 'https://sandbox.api.otto.market',
    });
    expect(real.services.worker?.environment?.OTTO_AUTH_BASE_URL).toBe(
      real.services.api?.environment?.OTTO_AUTH_BASE_URL,
    );
    expect(real.services.worker?.environment?.OTTO_API_BASE_URL).toBe('https://sandbox.api.otto.market');
  });

  it('ports are unique on the host and match what each process listens on', () => {
    const hostPorts = Object.values(services).flatMap((s) =>
      (s.ports ?? []).map((p) => containerPort(p).host),
    );
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(service('api').ports?.map(containerPort)).toEqual([
      { host: 3000, container: Number(envOf('api').PORT) },
    ]);
    expect(service('emulator').ports?.map(containerPort)).toEqual([
      { ip: '127.0.0.1', host: 3900, container: Number(envOf('emulator').OTTO_EMULATOR_PORT) },
    ]);
    expect(service('temporal').ports?.map(containerPort)).toEqual([
      { ip: '127.0.0.1', host: 7233, container: 7233 },
    ]);
    expect(service('temporal-ui').ports?.map(containerPort)).toEqual([
      { ip: '127.0.0.1', host: 8233, container: 8080 },
    ]);
    // Replicas cannot share host ports: the worker publishes none, and exposes its metrics ports.
    expect(service('worker').ports).toBeUndefined();
    const w = envOf('worker');
    expect(service('worker').expose?.sort()).toEqual(
      [w.WORKER_METRICS_PORT, w.WORKER_APP_METRICS_PORT].sort(),
    );
    // Addresses point at services that exist, on the ports they serve.
    const [host, port] = w.TEMPORAL_ADDRESS!.split(':');
    expect(services[host!]?.expose).toContain(port);
    // The trial: the worker reaches the emulator on the network, browsers on this host.
    const tw = envOf('worker', trial);
    expect(new URL(tw.OTTO_API_BASE_URL!).hostname).toBe('emulator');
    expect(new URL(tw.OTTO_AUTH_BASE_URL!).host).toBe('emulator:3900');
    expect(new URL(envOf('api', trial).OTTO_AUTH_BASE_URL!).origin).toBe(
      envOf('emulator', trial).EMULATOR_PUBLIC_BASE_URL,
    );
  });

  it('publishes only the API to the world: Temporal and the emulator on loopback, the ops port not at all', () => {
    // Whatever .env says about the rest, the only port open on every interface is the API's.
    for (const env of [
      PRODUCTION_ENV,
      { ...PRODUCTION_ENV, OTTO_AUTH_BASE_URL: 'https://api.otto.market' },
    ]) {
      const all = load(env).services;
      const open = Object.entries(all).flatMap(([name, s]) =>
        (s.ports ?? []).filter(publicOnHost).map((p) => `${name} ${p}`),
      );
      expect(open).toEqual([`api 3000:${envOf('api').PORT}`]);
    }
    // Temporal's frontend and UI, and the emulator (whose /__admin API is unauthenticated): loopback only.
    for (const name of ['temporal', 'temporal-ui', 'emulator']) {
      const ports = service(name).ports ?? [];
      expect([name, ports.filter(publicOnHost)]).toEqual([name, []]);
      for (const p of ports)
        expect([name, p, LOOPBACK.has(containerPort(p).ip ?? '')]).toEqual([name, p, true]);
    }
    // The API's ops server (/readyz, /metrics) listens on the compose network and is never published.
    const api = envOf('api');
    const config = loadConfig(apiConfigSchema, containerEnv('api'));
    expect(config.OPS_PORT).toBe(Number(api.OPS_PORT));
    expect(config.OPS_PORT).not.toBe(config.PORT);
    expect(api.OPS_HOST).toBe('0.0.0.0');
    expect(service('api').expose).toContain(String(config.OPS_PORT));
    const published = Object.values(services).flatMap((s) => (s.ports ?? []).map(containerPort));
    expect(published.filter((p) => p.host === config.OPS_PORT)).toEqual([]);
    expect(service('api').ports?.map((p) => containerPort(p).container)).not.toContain(config.OPS_PORT);
    // The healthcheck stays on the public port's /healthz (it is on both).
    expect(JSON.stringify(service('api').healthcheck)).toContain(`127.0.0.1:${api.PORT}/healthz`);
  });

  it('the seller store is its own database and user on the PostgreSQL service; workers keep no volume', () => {
    const worker = envOf('worker');
    const api = envOf('api');
    expect(api.SELLER_STORE).toBe(worker.SELLER_STORE);
    const url = new URL(worker.SELLER_STORE!);
    expect(url.protocol).toBe('postgres:');
    expect(services[url.hostname]?.image).toMatch(/^postgres:/);
    expect(services[url.hostname]?.expose).toContain(url.port);
    expect(decodeURIComponent(url.password)).toBe(OPERATOR_SECRETS.SELLER_STORE_PASSWORD);
    const database = url.pathname.slice(1);
    // Not Temporal's user or databases.
    expect(url.username).not.toBe(envOf('temporal').POSTGRES_USER);
    expect(['temporal', 'temporal_visibility', 'postgres']).not.toContain(database);
    // The one-shot job creates exactly that user and database, with the password the URL carries.
    const job = service('seller-store-db');
    expect(job.restart).toBe('no');
    expect(job.image).toBe(service('postgresql').image);
    expect(job.depends_on?.postgresql?.condition).toBe('service_healthy');
    const jobEnv = envOf('seller-store-db');
    expect(jobEnv.PGHOST).toBe(url.hostname);
    expect(jobEnv.PGPASSWORD).toBe(envOf('temporal').POSTGRES_PWD);
    expect(jobEnv.SELLER_STORE_PASSWORD).toBe(OPERATOR_SECRETS.SELLER_STORE_PASSWORD);
    const script = [job.entrypoint, job.command].flat().join('\n');
    expect(script).toContain(`CREATE ROLE ${url.username} LOGIN`);
    expect(script).toContain(`CREATE DATABASE ${database} OWNER ${url.username}`);
    expect(script).toContain(`ALTER ROLE ${url.username} WITH LOGIN NOSUPERUSER`);
    expect(script).toContain('\\getenv store_password SELLER_STORE_PASSWORD');
    for (const name of ['worker', 'api'])
      expect([name, service(name).depends_on?.['seller-store-db']?.condition]).toEqual([
        name,
        'service_completed_successfully',
      ]);
    // Replicas are stateless: no volume for the worker (the emulator keeps its trial state).
    expect((service('worker') as { volumes?: unknown }).volumes).toBeUndefined();
    expect(Object.keys(compose.volumes ?? {})).not.toContain('worker-data');
  });

  it('the Temporal UI is read-only', () => {
    expect(envOf('temporal-ui').TEMPORAL_DISABLE_WRITE_ACTIONS).toBe('true');
  });

  it('depends_on names existing services with valid conditions; one-shot jobs do not restart', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect([name, target, target in services]).toEqual([name, target, true]);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_completed_successfully') expect(services[target]?.restart).toBe('no');
      }
    }
    expect(service('worker').depends_on?.['temporal-search-attributes']?.condition).toBe(
      'service_completed_successfully',
    );
    expect(service('api').depends_on?.['temporal-search-attributes']?.condition).toBe(
      'service_completed_successfully',
    );
  });

  it('the search-attribute job registers exactly the keys of workflows/definitions.ts, as Keyword', () => {
    const job = service('temporal-search-attributes');
    const script = [job.entrypoint, job.command].flat().join('\n');
    const registered = [...script.matchAll(/^\s*register\s+(\S+)\s+(\S+)\s*$/gm)].map(
      (m) => `${m[1]}=${m[2]}`,
    );
    expect(registered.sort()).toEqual(
      Object.values(searchAttributes)
        .map((k) => `${k.name}=Keyword`)
        .sort(),
    );
    expect(registered.sort()).toEqual(
      SEARCH_ATTRIBUTE_REGISTRATIONS.map((r) => `${r.name}=${r.cliType}`).sort(),
    );
    expect(script).toContain('temporal operator search-attribute create --name "$1" --type "$2"');
  });

  it('Temporal gets updates and update-with-start enabled', () => {
    const config = JSON.stringify(compose.configs);
    expect(config).toContain('frontend.enableUpdateWorkflowExecution');
    expect(config).toContain('frontend.enableExecuteMultiOperation');
  });
});

describe('Dockerfile and .dockerignore', () => {
  it('is multi-stage, installs production dependencies only in the runtime stage and runs as non-root', () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/gim)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toContain('npm ci --omit=dev');
    expect(runtime).toMatch(/^COPY --from=build .*\/app\/lib/m);
    expect(runtime).toMatch(/^USER (node|\d+)/m);
    expect(dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM '))).toContain('npm run build');
  });

  it('every app command runs a compiled entry point that the build produces', () => {
    for (const name of ['worker', 'api', 'emulator']) {
      const [node, entry] = service(name).command as string[];
      expect(node).toBe('node');
      const source = entry!.replace(/^lib\//, '').replace(/\.js$/, '.ts');
      expect([name, existsSync(join(ROOT, source))]).toEqual([name, true]);
      expect(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')).toContain(
        `"${source.split('/')[0]}/**/*.ts"`,
      );
    }
  });

  it('keeps local state, secrets and dependencies out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.data', '.tools', '.env', 'lib']) expect(ignored).toContain(entry);
  });
});
