/**
 * docker-compose.yml cannot be run here (no container engine), so its promises are checked statically:
 * every app service's environment, interpolated as `docker compose` would with a production .env, is
 * accepted by that process's zod config schema and names no variable the process does not read; ports,
 * dependencies and the Temporal jobs agree with the code; the Temporal server and admin-tools images are
 * a pair Temporal ships together; the Dockerfile runs what compose names. Beyond the static checks:
 * `docker compose config` (a real Compose build, when .tools/bin/docker-compose or COMPOSE_BIN exists)
 * accepts the file, and the namespace job's script runs against the test Temporal server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix } from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { API_ROLES } from '../../api/api-keys';
import { apiConfigSchema } from '../../api/config';
import { loadConfig } from '../../common/config';
import { generateSealKey } from '../../common/seal';
import { defaultApps } from '../../emulator/options';
import { workerConfigSchema } from '../../worker/config';
import { JEMALLOC_PATHS, WORKER_MAIN_THREAD_NODE_OPTION } from '../../worker/allocator';
import { searchAttributes, SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../workflows/definitions';
import { createEmulator } from '../../emulator/create-emulator';
import {
  GENERATED_KEY_ROLES,
  generateEnv,
  TRIAL_EMULATOR_URL,
  writeEnvFile,
} from '../../scripts/generate-env';

const ROOT = join(__dirname, '..', '..');
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The secrets an operator's .env holds (strong, as production requires). */
const OPERATOR_SECRETS: Record<string, string> = {
  SEAL_KEYS: generateSealKey('prod1'),
  API_KEYS: GENERATED_KEY_ROLES.map((role) => `${role}:${randomBytes(24).toString('hex')}`).join(','),
  STATE_SIGNING_KEY: randomBytes(32).toString('base64url'),
  POSTGRES_PASSWORD: 'pg-secret',
  GRAFANA_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
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
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  stop_grace_period?: string;
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

/**
 * Like compose: parse the YAML first, then interpolate each string (so JSON values stay strings). An
 * environment key without a value is compose's pass-through: the shell's or .env's value, or, when
 * neither sets it, no variable at all in the container (compose-go resolves it, and the engine drops a
 * name without `=`; `docker compose config` shows it as null).
 */
function load(env: Record<string, string | undefined>): Compose {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return interpolate(value, env);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const out = walk(raw()) as Compose;
  for (const s of Object.values(out.services)) {
    if (!s.environment) continue;
    s.environment = Object.fromEntries(
      Object.entries(s.environment).flatMap(([name, value]) => {
        const resolved = value ?? env[name];
        return resolved === undefined ? [] : [[name, resolved]];
      }),
    );
  }
  return out;
}

/** The file as written: anchors merged, nothing interpolated (pass-through keys are null). */
function raw(): Compose {
  return parse(composeText, { merge: true }) as Compose;
}
/** Every variable a service's environment names, set by the file or passed through. */
const forwarded = (name: string): string[] => Object.keys(raw().services[name]?.environment ?? {});
/** The keys a service passes through from the shell or .env as they are (no value in the file). */
const passedThrough = (name: string): string[] =>
  Object.entries(raw().services[name]?.environment ?? {})
    .filter(([, value]) => value === null)
    .map(([key]) => key);

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
/**
 * Read outside the schema: by Node, by common/dev-secrets.ts, or by the seller store; LD_PRELOAD by the
 * dynamic linker (the image's jemalloc, worker/allocator.ts).
 */
const PROCESS_LEVEL = new Set(['NODE_ENV', 'DATA_DIR', 'SELLER_STORE', 'LD_PRELOAD']);
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

/**
 * Variables a process's config schema reads that compose deliberately does not give that service, each
 * with the reason. Every other key of the worker's and the API's schema is in its service's environment
 * (set, or passed through from .env), so no setting the README documents is silently dropped.
 */
const NOT_FORWARDED: Record<'worker' | 'api', Record<string, string>> = {
  worker: {
    TEMPORAL_UI_URL:
      "in the Temporal fragment both schemas share (common/config.ts); only the API's status view links to the UI",
  },
  api: {
    OTTO_PARTNER_ID_CLAIM:
      'in the OTTO fragment both schemas share (common/otto-settings.ts); only the worker reads user tokens',
    OTTO_INSTALLATION_TOKEN_SCOPE:
      'in the OTTO fragment both schemas share (common/otto-settings.ts); only the worker mints installation tokens',
  },
};
const SCHEMAS = { worker: workerConfigSchema, api: apiConfigSchema } as const;

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

/**
 * Server and admin-tools tags that Temporal itself pairs, with where it does (read there, not guessed):
 * keep this table to pairs found in Temporal's own files.
 */
const VERIFIED_PAIRS: ReadonlyArray<{ server: string; adminTools: string; source: string }> = [
  {
    server: '1.29.1',
    adminTools: '1.29.1-tctl-1.18.4-cli-1.5.0',
    source:
      'temporalio/samples-server compose/.env at 21ba633 (2026-01-05); temporalio/helm-charts charts/temporal/values.yaml at 790373a (chart 0.69.0)',
  },
  {
    server: '1.29.2',
    adminTools: '1.29.1-tctl-1.18.4-cli-1.5.0',
    source: 'temporalio/helm-charts charts/temporal/values.yaml at 4f47773 (chart 1.0.0-rc.2)',
  },
  {
    server: '1.30.1',
    adminTools: '1.30.1',
    source: 'temporalio/samples-server compose/.env at 80d59e2 (2026-03-07)',
  },
  {
    server: '1.30.2',
    adminTools: '1.30.2',
    source: 'temporalio/helm-charts charts/temporal/values.yaml at cae2e33 (chart 1.0.0-rc.3)',
  },
];
/** Dynamic config keys Temporal marks for development only. */
const DEV_ONLY_DYNAMIC_CONFIG = ['system.forceSearchAttributesCacheRefreshOnRead'];
/** OTTO's token endpoint: 10 requests/s per IP (docs/otto-api.md §5). */
const OTTO_TOKEN_REQUESTS_PER_IP = 10;

/** Go/compose durations (`90s`, `1m30s`, `720h`) in ms. */
function goDurationMs(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}

/** A one-shot job's script: the file its command runs, read from the directory its volume mounts. */
function jobScript(name: string): { path: string; text: string } {
  const s = service(name);
  expect(s.entrypoint).toEqual(['/bin/sh']);
  const [inContainer] = s.command as string[];
  const mount = (s.volumes ?? [])
    .map((v) => v.split(':'))
    .find(([, target]) => inContainer!.startsWith(`${target}/`));
  if (!mount) throw new Error(`${name}: ${inContainer} is not in a mounted directory`);
  const path = join(ROOT, mount[0]!, inContainer!.slice(mount[1]!.length));
  return { path, text: readFileSync(path, 'utf8') };
}

/** A .env file as Compose reads it (the subset generate-env writes: KEY=value and KEY='literal'). */
function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(raw.trim());
    if (!m) continue;
    const value = m[2]!;
    out[m[1]!] = /^'.*'$/.test(value) ? value.slice(1, -1) : value;
  }
  return out;
}

const COMPOSE_BIN_DEFAULT = '.tools/bin/docker-compose';
const COMPOSE_INSTALL_HINT =
  'go mod download github.com/docker/compose/v5@v5.6.0, then go build ./cmd in that module (see README)';
function composeBinary(): string | undefined {
  const candidate = process.env.COMPOSE_BIN ?? join(ROOT, COMPOSE_BIN_DEFAULT);
  if (!existsSync(candidate)) return undefined;
  return spawnSync(candidate, ['version'], { encoding: 'utf8' }).status === 0 ? candidate : undefined;
}

describe('docker-compose.yml', () => {
  it('has the production shape: PostgreSQL, Temporal on it with its two jobs, the UI, worker, API, emulator and observability profiles', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'api',
        'emulator',
        'grafana',
        'postgresql',
        'prometheus',
        'seller-store-db',
        'temporal',
        'temporal-admin-tools',
        'temporal-namespace',
        'temporal-ui',
        'worker',
      ].sort(),
    );
    expect(service('postgresql').image).toMatch(/^postgres:/);
    expect(service('temporal').image).toMatch(/^temporalio\/server:/);
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

  it.each(['worker', 'api'] as const)(
    "forwards every variable the %s's config schema reads, or names the reason it does not",
    (name) => {
      const keys = schemaKeys(SCHEMAS[name]);
      const given = new Set([...forwarded(name), ...Object.keys(imageEnv)]);
      expect(keys.filter((key) => !given.has(key) && !(key in NOT_FORWARDED[name]))).toEqual([]);
      // The exceptions are current: read by the schema, and really not given to the service.
      for (const key of Object.keys(NOT_FORWARDED[name]))
        expect([key, keys.includes(key), given.has(key)]).toEqual([key, true, false]);
    },
  );

  it('passes operator settings through as set in .env; left out, they stay unset and the code default applies', () => {
    for (const name of ['worker', 'api'] as const) {
      const keys = passedThrough(name);
      expect(keys.length).toBeGreaterThan(5);
      // Left out of .env: absent from the container (an empty string is not unset: a duration or a
      // number refuses it or reads 0).
      expect(keys.filter((key) => key in containerEnv(name))).toEqual([]);
      const marked = load({ ...PRODUCTION_ENV, ...Object.fromEntries(keys.map((k) => [k, `set-${k}`])) });
      for (const key of keys) expect([key, envOf(name, marked)[key]]).toEqual([key, `set-${key}`]);
    }
    // Through the schemas: what the operator set is what the process runs with.
    const set = load({
      ...PRODUCTION_ENV,
      STATE_TTL: '20m',
      CONSENT_COOKIE_TTL: '2h',
      OTTO_ISSUER: 'https://api.otto.market/sec-api/auth/realms/other',
      TEMPORAL_CALL_TIMEOUT: '3s',
      ASSISTANT_FRAME_ANCESTORS: 'https://admin.shop.example',
      REVOCATION_CONFIRM_WINDOW: '45m',
      TRANSFER_INTERVALS: 'returnsImport=off',
      PRICES_EXPORT_HOUR: '4',
      FLEET_BREAKER_RATIO: '0.7',
      OTTO_PARTNER_REQUESTS_PER_SECOND: '5',
      MAX_CACHED_WORKFLOWS: '500',
      OTTO_INSTALLATION_TOKEN_SCOPE: 'orders returns',
      OTTO_PARTNER_ID_CLAIM: 'partner',
    });
    const api = loadConfig(apiConfigSchema, containerEnv('api', set));
    expect([api.STATE_TTL, api.CONSENT_COOKIE_TTL, api.TEMPORAL_CALL_TIMEOUT]).toEqual([
      20 * 60_000,
      2 * 3_600_000,
      3_000,
    ]);
    expect(api.OTTO_ISSUER).toBe('https://api.otto.market/sec-api/auth/realms/other');
    expect(api.ASSISTANT_FRAME_ANCESTORS).toContain('https://admin.shop.example');
    const worker = loadConfig(workerConfigSchema, containerEnv('worker', set));
    expect(worker).toMatchObject({
      REVOCATION_CONFIRM_WINDOW: 45 * 60_000,
      TRANSFER_INTERVALS: { returnsImport: null },
      PRICES_EXPORT_HOUR: 4,
      FLEET_BREAKER_RATIO: 0.7,
      OTTO_PARTNER_REQUESTS_PER_SECOND: 5,
      MAX_CACHED_WORKFLOWS: 500,
      OTTO_INSTALLATION_TOKEN_SCOPE: 'orders returns',
      OTTO_PARTNER_ID_CLAIM: ['partner'],
    });
    // Left out: the schemas' own defaults, as without compose.
    const unset = (schema: z.ZodType, name: string) => {
      const env = containerEnv(name);
      return {
        compose: loadConfig(schema, env) as Record<string, unknown>,
        bare: loadConfig(
          schema,
          Object.fromEntries(Object.entries(env).filter(([k]) => !passedThrough(name).includes(k))),
        ) as Record<string, unknown>,
      };
    };
    for (const name of ['worker', 'api'] as const) {
      const { compose: viaCompose, bare } = unset(SCHEMAS[name], name);
      for (const key of passedThrough(name)) expect([key, viaCompose[key]]).toEqual([key, bare[key]]);
    }
  });

  it('gives an empty ${NAME:-} default only to settings whose schema reads an empty value as unset', () => {
    for (const name of ['worker', 'api'] as const) {
      const rawEnv = raw().services[name]?.environment ?? {};
      const emptyDefault = Object.entries(rawEnv)
        .filter(([, value]) => typeof value === 'string' && /^\$\{[A-Z_][A-Z0-9_]*:-\}$/.test(value))
        .map(([key]) => key);
      const env = containerEnv(name);
      for (const key of emptyDefault) {
        const { [key]: _dropped, ...without } = env;
        const asEmpty = loadConfig(SCHEMAS[name], { ...env, [key]: '' }) as Record<string, unknown>;
        const asUnset = loadConfig(SCHEMAS[name], without) as Record<string, unknown>;
        expect([key, asEmpty[key]]).toEqual([key, asUnset[key]]);
      }
    }
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
    // The schema job before the server; the namespace job after it; the app services after both.
    expect(service('temporal').depends_on?.['temporal-admin-tools']?.condition).toBe(
      'service_completed_successfully',
    );
    expect(service('temporal-admin-tools').depends_on?.postgresql?.condition).toBe('service_healthy');
    expect(service('temporal-namespace').depends_on?.temporal?.condition).toBe('service_healthy');
    for (const name of ['worker', 'api'])
      expect([name, service(name).depends_on?.['temporal-namespace']?.condition]).toEqual([
        name,
        'service_completed_successfully',
      ]);
  });

  it('the namespace job registers exactly the keys of workflows/definitions.ts, as Keyword', () => {
    const script = jobScript('temporal-namespace');
    const registered = [...script.text.matchAll(/^\s*register\s+(\S+)\s+(\S+)\s*$/gm)].map(
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
    expect(script.text).toContain('temporal operator search-attribute create');
    expect(script.text).toContain('--name "$1" --type "$2"');
    // The app services' namespace is the one the job creates.
    expect(envOf('temporal-namespace').TEMPORAL_NAMESPACE).toBe(envOf('worker').TEMPORAL_NAMESPACE);
    expect(envOf('temporal-namespace').TEMPORAL_ADDRESS).toBe(envOf('worker').TEMPORAL_ADDRESS);
  });

  it('Temporal gets updates and update-with-start enabled, and no dev-only dynamic config', () => {
    const env = envOf('temporal');
    // DYNAMIC_CONFIG_FILE_PATH is relative to the image's /etc/temporal (config_template.yaml).
    const target = posix.resolve('/etc/temporal', env.DYNAMIC_CONFIG_FILE_PATH!);
    const mount = (service('temporal').volumes ?? []).map((v) => v.split(':')).find((v) => v[1] === target);
    expect(mount?.[0]).toBe('./deploy/temporal/dynamicconfig.yaml');
    const text = readFileSync(join(ROOT, mount![0]!), 'utf8');
    const config = parse(text) as Record<string, Array<{ value: unknown }>>;
    expect(config['frontend.enableUpdateWorkflowExecution']?.[0]?.value).toBe(true);
    expect(config['frontend.enableExecuteMultiOperation']?.[0]?.value).toBe(true);
    // Temporal: "Dev setup only. Please don't turn this on in production." (samples-server development-sql.yaml)
    // Not set anywhere (the compose file's comments may name it; its content may not).
    for (const source of [text, JSON.stringify(parse(composeText))])
      expect(source).not.toContain('system.forceSearchAttributesCacheRefreshOnRead');
    expect(Object.keys(config).filter((k) => DEV_ONLY_DYNAMIC_CONFIG.includes(k))).toEqual([]);
  });

  it('runs no deprecated Temporal image, and a server and admin-tools pair that Temporal ships together', () => {
    const images = Object.entries(services).map(([name, s]) => `${name} ${s.image ?? '(build)'}`);
    expect(images.filter((i) => /auto-setup/.test(i))).toEqual([]);
    const server = /^temporalio\/server:(\S+)$/.exec(service('temporal').image ?? '')?.[1];
    const tools = ['temporal-admin-tools', 'temporal-namespace'].map(
      (name) => /^temporalio\/admin-tools:(\S+)$/.exec(service(name).image ?? '')?.[1],
    );
    expect(tools[0]).toBe(tools[1]);
    expect(VERIFIED_PAIRS.some((p) => p.server === server && p.adminTools === tools[0])).toBe(true);
    // Pinned (no floating tags) and on the 1.29 line or newer; the app's own image is built here.
    for (const [name, { image, build }] of Object.entries(services))
      if (!build) expect([name, image, /:(latest)?$/.test(image ?? ':')]).toEqual([name, image, false]);
    const [major, minor] = server!.split('.').map(Number);
    expect(major! * 1000 + minor!).toBeGreaterThanOrEqual(1029);
    // The UI and server are the ones of the dev server the tests and `npm run dev` run.
    const dev = /Server (\S+), UI (\S+)\)/.exec(process.env.TEMPORAL_TEST_SERVER_VERSION ?? '');
    if (dev) {
      expect(server).toBe(dev[1]);
      expect(service('temporal-ui').image).toBe(`temporalio/ui:${dev[2]}`);
    } else console.log('[compose test] no dev server version (external Temporal): server match not checked');
  });

  it("the schema job creates and migrates both of Temporal's PostgreSQL stores with temporal-sql-tool", () => {
    const job = service('temporal-admin-tools');
    expect(job.restart).toBe('no');
    const env = envOf('temporal-admin-tools');
    const server = envOf('temporal');
    expect(env.POSTGRES_SEEDS).toBe(server.POSTGRES_SEEDS);
    expect(env.POSTGRES_USER).toBe(server.POSTGRES_USER);
    expect(env.SQL_PASSWORD).toBe(server.POSTGRES_PWD);
    expect(services[env.POSTGRES_SEEDS!]?.image).toMatch(/^postgres:/);
    const { text } = jobScript('temporal-admin-tools');
    expect(text).toContain('temporal-sql-tool --plugin postgres12');
    // The databases the server's config_template.yaml defaults to (DBNAME, VISIBILITY_DBNAME).
    expect(text).toContain('temporal:temporal temporal_visibility:visibility');
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d "$dir"'])
      expect(text).toContain(step);
    expect(text).toContain('/etc/temporal/schema/postgresql/v12');
    expect(spawnSync('sh', ['-n', join(ROOT, 'deploy/temporal/setup-schema.sh')]).status).toBe(0);
  });

  it('keeps closed histories for a stated retention (30 days by default), set on every start', () => {
    const env = envOf('temporal-namespace');
    expect(env.TEMPORAL_RETENTION).toBe('720h');
    expect(goDurationMs(env.TEMPORAL_RETENTION!)).toBe(30 * 24 * 3_600_000);
    expect(
      envOf('temporal-namespace', load({ ...PRODUCTION_ENV, TEMPORAL_RETENTION: '2160h' }))
        .TEMPORAL_RETENTION,
    ).toBe('2160h');
    const { text } = jobScript('temporal-namespace');
    expect(text).toMatch(/namespace create [^\n]*\n?[^\n]*--retention "\$TEMPORAL_RETENTION"/);
    expect(text).toMatch(/namespace update [^\n]*--retention "\$TEMPORAL_RETENTION"/);
  });

  it('lets a stopping worker finish a page of a transfer: shutdown grace inside the stop grace period', () => {
    const worker = loadConfig(workerConfigSchema, containerEnv('worker'));
    expect(worker.WORKER_SHUTDOWN_GRACE).toBe(30_000);
    const stop = goDurationMs(service('worker').stop_grace_period ?? '10s');
    expect(stop).toBeGreaterThanOrEqual(60_000);
    // Room after the activities' grace for the SDK to shut down and the process to close its store.
    expect(stop - worker.WORKER_SHUTDOWN_GRACE).toBeGreaterThanOrEqual(15_000);
    expect(goDurationMs(service('api').stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(30_000);
    // An operator's longer grace is passed through.
    const longer = load({ ...PRODUCTION_ENV, WORKER_SHUTDOWN_GRACE: '45s' });
    expect(loadConfig(workerConfigSchema, containerEnv('worker', longer)).WORKER_SHUTDOWN_GRACE).toBe(45_000);
  });

  it("keeps the token requests of all replicas behind one egress IP under OTTO's 10/s", () => {
    const worker = loadConfig(workerConfigSchema, containerEnv('worker'));
    const replicas = Number(service('worker').deploy?.replicas);
    expect(replicas).toBe(2);
    // Task-queue-wide: the Temporal server enforces it across every replica.
    expect(worker.TOKEN_ACTIVITIES_PER_SECOND).toBeLessThan(OTTO_TOKEN_REQUESTS_PER_IP);
    // Per process: the replicas add up (compose runs them all behind the host's egress IP). Background
    // mints stay under 10; code exchanges may use the headroom up to exactly 10.
    expect(replicas * worker.TOKEN_REQUESTS_PER_SECOND).toBeLessThan(OTTO_TOKEN_REQUESTS_PER_IP);
    expect(
      replicas * (worker.TOKEN_REQUESTS_PER_SECOND + worker.TOKEN_EXCHANGE_HEADROOM),
    ).toBeLessThanOrEqual(OTTO_TOKEN_REQUESTS_PER_IP);
    expect(worker.TOKEN_EXCHANGE_HEADROOM).toBeGreaterThan(0);
    // The documented scaling steps stay under it too.
    for (const [n, each] of [
      [3, 3],
      [4, 2],
    ] as const) {
      const scaled = load({
        ...PRODUCTION_ENV,
        WORKER_REPLICAS: String(n),
        TOKEN_REQUESTS_PER_SECOND: String(each),
        TOKEN_EXCHANGE_HEADROOM: '0',
      });
      const c = loadConfig(workerConfigSchema, containerEnv('worker', scaled));
      const scaledReplicas = Number(scaled.services.worker?.deploy?.replicas);
      expect(scaledReplicas * c.TOKEN_REQUESTS_PER_SECOND).toBeLessThan(OTTO_TOKEN_REQUESTS_PER_IP);
      expect(scaledReplicas * (c.TOKEN_REQUESTS_PER_SECOND + c.TOKEN_EXCHANGE_HEADROOM)).toBeLessThanOrEqual(
        OTTO_TOKEN_REQUESTS_PER_IP,
      );
    }
  });

  it('starts workers from the workflow bundle built into the image', () => {
    const env = envOf('worker');
    expect(loadConfig(workerConfigSchema, containerEnv('worker')).WORKFLOW_BUNDLE).toBe(
      '/app/lib/workflow-bundle.js',
    );
    const build = dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM '));
    expect(build).toContain(
      `node lib/scripts/build-workflow-bundle.js ${env.WORKFLOW_BUNDLE!.replace('/app/', '')}`,
    );
    expect(existsSync(join(ROOT, 'scripts/build-workflow-bundle.ts'))).toBe(true);
    const start = (service('worker').healthcheck as { start_period?: string }).start_period ?? '0s';
    expect(goDurationMs(start)).toBeLessThan(60_000);
  });

  it('the observability profile: pinned Prometheus and Grafana on loopback, mounting the deploy/ files', () => {
    for (const name of ['prometheus', 'grafana']) expect(service(name).profiles).toEqual(['observability']);
    expect(service('prometheus').image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(service('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    const sources = (name: string) => (service(name).volumes ?? []).map((v) => v.split(':')[0]);
    expect(sources('prometheus')).toEqual(
      expect.arrayContaining(['./deploy/prometheus/prometheus.yml', './deploy/prometheus/alerts.yml']),
    );
    expect(sources('grafana')).toEqual(
      expect.arrayContaining(['./deploy/grafana/provisioning', './deploy/grafana/dashboards']),
    );
    // Grafana refuses to start without GRAFANA_ADMIN_PASSWORD (no admin/admin), and only Grafana: the
    // default start does not need it.
    const entry = service('grafana').entrypoint as string[];
    const runEntry = (password: string) =>
      spawnSync(entry[0]!, [...entry.slice(1), 'web'], {
        env: { PATH: process.env.PATH, GF_SECURITY_ADMIN_PASSWORD: password },
        encoding: 'utf8',
      });
    const refused = runEntry('');
    expect([refused.status, refused.stderr]).toEqual([
      1,
      expect.stringContaining('set GRAFANA_ADMIN_PASSWORD'),
    ]);
    expect(runEntry('s3cret').stderr).toContain('/run.sh'); // got as far as Grafana's own entrypoint
    const { GRAFANA_ADMIN_PASSWORD: _omitted, ...withoutGrafana } = PRODUCTION_ENV;
    expect(envOf('grafana', load(withoutGrafana)).GF_SECURITY_ADMIN_PASSWORD).toBe('');
    expect(envOf('grafana').GF_SECURITY_ADMIN_PASSWORD).toBe(PRODUCTION_ENV.GRAFANA_ADMIN_PASSWORD);
    for (const name of ['prometheus', 'grafana'])
      for (const p of service(name).ports ?? [])
        expect([name, containerPort(p).ip]).toEqual([name, '127.0.0.1']);
  });

  it('.env.example names every variable the compose file reads; env:generate writes a .env compose accepts', () => {
    const read = new Set([
      ...[...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!),
      ...Object.keys(services).flatMap(passedThrough),
    ]);
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s?([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    expect([...read].filter((v) => !documented.has(v)).sort()).toEqual([]);
    expect([...documented].filter((v) => !read.has(v)).sort()).toEqual([]);
    expect(example).not.toMatch(/^#?\s?[A-Z_]+=.*\$\(/m);

    // The emulator trial, exactly as written: both schemas accept it (dev mode).
    const trialEnv = parseDotEnv(generateEnv({ emulator: true }));
    expect(Object.values(trialEnv).join('\n')).not.toMatch(/\$\(/);
    const trialCompose = load(trialEnv);
    expect(loadConfig(workerConfigSchema, containerEnv('worker', trialCompose)).OTTO_CONNECT_ENV).toBe('dev');
    expect(loadConfig(apiConfigSchema, containerEnv('api', trialCompose)).OTTO_APPS).toHaveLength(2);
    // Production: compose refuses it until OTTO_APPS is filled in; then the secrets pass production's checks.
    const prodEnv = parseDotEnv(generateEnv({ webhookUrl: 'https://shop.example/hooks' }));
    expect(() => load(prodEnv)).toThrow('required variable OTTO_APPS is missing');
    const filled = load({
      ...prodEnv,
      OTTO_APPS: PRODUCTION_ENV.OTTO_APPS,
      OTTO_APPS_PUBLIC: PRODUCTION_ENV.OTTO_APPS_PUBLIC,
    });
    const worker = loadConfig(workerConfigSchema, containerEnv('worker', filled));
    expect(worker.WEBHOOK_URL).toBe('https://shop.example/hooks');
    // A key for every role: the shop's backend needs its own (shop routes refuse admin and support keys).
    expect(
      loadConfig(apiConfigSchema, containerEnv('api', filled))
        .API_KEYS.map((k) => k.role)
        .sort(),
    ).toEqual([...API_ROLES].sort());
    // Without --webhook-url the webhook lines stay commented out, and compose passes empty values: off.
    const noHooks = load({
      ...parseDotEnv(generateEnv()),
      OTTO_APPS: PRODUCTION_ENV.OTTO_APPS,
      OTTO_APPS_PUBLIC: PRODUCTION_ENV.OTTO_APPS_PUBLIC,
    });
    expect(loadConfig(workerConfigSchema, containerEnv('worker', noHooks)).WEBHOOK_URL).toBeUndefined();
    // Fresh secrets every time; an existing .env is never overwritten without --force.
    expect(parseDotEnv(generateEnv()).SEAL_KEYS).not.toBe(parseDotEnv(generateEnv()).SEAL_KEYS);
    const dir = mkdtempSync(join(tmpdir(), 'otto-env-'));
    try {
      const path = join(dir, '.env');
      writeEnvFile(path, 'FIRST=1\n');
      expect(() => writeEnvFile(path, 'SECOND=1\n')).toThrow(/exists: not overwritten.*--force/);
      expect(readFileSync(path, 'utf8')).toBe('FIRST=1\n');
      writeEnvFile(path, 'SECOND=1\n', true);
      expect(readFileSync(path, 'utf8')).toBe('SECOND=1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run env:generate', () => {
  it('writes a key for every API role: admin, support and the shop backend', () => {
    for (const options of [{}, { emulator: true }]) {
      const keys = parseDotEnv(generateEnv(options)).API_KEYS!.split(',');
      expect(keys.map((entry) => entry.split(':')[0]).sort()).toEqual([...API_ROLES].sort());
      expect(new Set(keys.map((entry) => entry.split(':')[1])).size).toBe(keys.length);
    }
    expect([...GENERATED_KEY_ROLES].sort()).toEqual([...API_ROLES].sort());
  });

  it('gives the emulator trial public apps, with the installation links its emulator serves to browsers here', async () => {
    const trialCompose = load(parseDotEnv(generateEnv({ emulator: true })));
    const emulatorUrl = envOf('emulator', trialCompose).EMULATOR_PUBLIC_BASE_URL!;
    expect(TRIAL_EMULATOR_URL).toBe(emulatorUrl);
    const emulator = createEmulator({ publicBaseUrl: emulatorUrl });
    const api = loadConfig(apiConfigSchema, containerEnv('api', trialCompose));
    const worker = loadConfig(workerConfigSchema, containerEnv('worker', trialCompose));
    expect(api.OTTO_APPS.map((a) => a.version)).toEqual(['v1', 'v2']);
    for (const apps of [api.OTTO_APPS, worker.OTTO_APPS])
      for (const app of apps) {
        // Without it the API calls the app private and refuses a consent without an invitation link
        // (which the emulator gives to private apps only): the trial could not connect anyone.
        expect([app.appId, app.installationUrl]).toEqual([app.appId, emulator.installationUrl(app.appId)]);
        expect(new URL(app.installationUrl!).origin).toBe(new URL(api.OTTO_PORTAL_BASE_URL).origin);
        const opened = await request(emulator.app).get(new URL(app.installationUrl!).pathname);
        expect([app.appId, opened.status]).toEqual([app.appId, 200]);
      }
  });

  it('names OPC for the real OTTO and shows installationUrl in its OTTO_APPS templates', () => {
    const text = generateEnv();
    expect(parseDotEnv(text).OTTO_PORTAL_BASE_URL).toBe('https://portal.otto.market');
    const templates = text.split('\n').filter((l) => /^# OTTO_APPS(_PUBLIC)?=/.test(l));
    expect(templates).toHaveLength(2);
    for (const template of templates)
      expect(template).toContain('"installationUrl":"https://portal.otto.market/');
    const filled = load({
      ...parseDotEnv(text),
      OTTO_APPS: PRODUCTION_ENV.OTTO_APPS,
      OTTO_APPS_PUBLIC: PRODUCTION_ENV.OTTO_APPS_PUBLIC,
    });
    expect(loadConfig(apiConfigSchema, containerEnv('api', filled)).OTTO_PORTAL_BASE_URL).toBe(
      'https://portal.otto.market',
    );
  });
});

describe('docker compose config (a real Compose implementation)', () => {
  const bin = composeBinary();
  if (!bin)
    console.log(
      `[compose test] no Compose binary (${COMPOSE_BIN_DEFAULT} or COMPOSE_BIN): \`docker compose config\` not run. Install: ${COMPOSE_INSTALL_HINT}`,
    );
  const itWithCompose = bin ? it : it.skip;
  const run = (envText: string, args: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'otto-compose-'));
    try {
      const envFile = join(dir, '.env');
      writeFileSync(envFile, envText);
      return spawnSync(bin!, ['-f', join(ROOT, 'docker-compose.yml'), '--env-file', envFile, ...args], {
        encoding: 'utf8',
        // No variables from this process leak into the interpolation.
        env: { PATH: process.env.PATH, HOME: dir },
        timeout: 60_000,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const trialEnv = generateEnv({ emulator: true });

  itWithCompose(
    'accepts the file with a generated .env, every profile, and resolves what the static checks assume',
    () => {
      const result = run(trialEnv, [
        '--profile',
        'emulator',
        '--profile',
        'observability',
        'config',
        '--format',
        'json',
      ]);
      expect([result.status, result.stderr]).toEqual([0, expect.anything()]);
      const model = JSON.parse(result.stdout) as { services: Record<string, Record<string, unknown>> };
      expect(Object.keys(model.services).sort()).toEqual(Object.keys(services).sort());
      const worker = model.services.worker as {
        environment: Record<string, string>;
        stop_grace_period?: string;
      };
      // Compose's own interpolation of the generated .env agrees with this file's (JSON kept literal).
      const mine = envOf('worker', load(parseDotEnv(trialEnv)));
      for (const key of ['OTTO_APPS', 'SEAL_KEYS', 'TOKEN_REQUESTS_PER_SECOND', 'WORKER_SHUTDOWN_GRACE'])
        expect([key, worker.environment[key]]).toEqual([key, mine[key]]);
      expect(JSON.parse(worker.environment.OTTO_APPS!)).toHaveLength(2);
      expect(model.services.temporal?.image).toBe(service('temporal').image);
    },
  );

  itWithCompose(
    'without the observability profile, the default start still validates (no Grafana password needed)',
    () => {
      const result = run(trialEnv.replace(/^GRAFANA_ADMIN_PASSWORD=.*$/m, ''), ['config', '--services']);
      expect([result.status, result.stderr]).toEqual([0, expect.anything()]);
      expect(result.stdout.trim().split('\n').sort()).toEqual(
        Object.entries(services)
          .filter(([, s]) => !s.profiles)
          .map(([name]) => name)
          .sort(),
      );
    },
  );

  itWithCompose('passes a setting in .env through to its service, and leaves those .env omits unset', () => {
    const result = run(`${trialEnv}STATE_TTL=20m\nTRANSFER_INTERVALS=returnsImport=off\n`, [
      'config',
      '--format',
      'json',
    ]);
    expect([result.status, result.stderr]).toEqual([0, expect.anything()]);
    const model = JSON.parse(result.stdout) as {
      services: Record<string, { environment: Record<string, string | null> }>;
    };
    expect(model.services.api?.environment.STATE_TTL).toBe('20m');
    expect(model.services.worker?.environment.TRANSFER_INTERVALS).toBe('returnsImport=off');
    // null: compose resolves nothing, and the container gets no such variable (not an empty one).
    for (const name of ['worker', 'api'])
      for (const key of passedThrough(name).filter((k) => !['STATE_TTL', 'TRANSFER_INTERVALS'].includes(k)))
        expect([name, key, model.services[name]?.environment[key]]).toEqual([name, key, null]);
  });

  itWithCompose('refuses a .env without the secrets, naming the variable', () => {
    const without = trialEnv.replace(/^SEAL_KEYS=.*$/m, '');
    const result = run(without, ['config', '--quiet']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('SEAL_KEYS');
  });
});

describe('the namespace job against a real Temporal server (the test dev server)', () => {
  const address = process.env.TEMPORAL_TEST_ADDRESS;
  const cli = process.env.TEMPORAL_TEST_CLI;
  const itWithTemporal = address && cli ? it : it.skip;
  itWithTemporal(
    'creates the namespace with the retention and the search attributes; a re-run only updates',
    () => {
      const namespace = `compose-job-${randomBytes(4).toString('hex')}`;
      const env = {
        PATH: `${dirname(cli!)}${delimiter}${process.env.PATH ?? ''}`,
        HOME: process.env.HOME ?? tmpdir(),
        TEMPORAL_ADDRESS: address!,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_RETENTION: '720h',
        SETUP_MAX_TRIES: '15',
      };
      const script = join(ROOT, 'deploy/temporal/setup-namespace.sh');
      const runJob = (extra: Record<string, string> = {}) =>
        execFileSync('sh', [script], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 90_000 });
      expect(runJob()).toContain(`namespace ${namespace}: created, retention 720h`);
      const describeNs = () =>
        JSON.parse(
          execFileSync(
            cli!,
            ['operator', 'namespace', 'describe', '--address', address!, '-n', namespace, '-o', 'json'],
            {
              encoding: 'utf8',
            },
          ),
        ) as { config: { workflowExecutionRetentionTtl: string } };
      expect(describeNs().config.workflowExecutionRetentionTtl).toBe(`${30 * 24 * 3600}s`);
      const listed = execFileSync(
        cli!,
        ['operator', 'search-attribute', 'list', '--address', address!, '-n', namespace, '-o', 'json'],
        { encoding: 'utf8' },
      );
      for (const { name } of SEARCH_ATTRIBUTE_REGISTRATIONS) expect(listed).toContain(name);
      // Re-run with another retention: the namespace is updated, the attributes are accepted as they are.
      expect(runJob({ TEMPORAL_RETENTION: '1440h' })).toContain(
        `namespace ${namespace}: retention set to 1440h`,
      );
      expect(describeNs().config.workflowExecutionRetentionTtl).toBe(`${60 * 24 * 3600}s`);
    },
    120_000,
  );
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
    // Node 24 LTS in both stages.
    expect([...dockerfile.matchAll(/^FROM\s+(\S+)/gim)].map((m) => m[1])).toEqual([
      'node:24-bookworm-slim',
      'node:24-bookworm-slim',
    ]);
  });

  it('every app command runs a compiled entry point that the build produces', () => {
    for (const name of ['worker', 'api', 'emulator']) {
      const [node, ...args] = service(name).command as string[];
      expect(node).toBe('node');
      // Node's own options first (the worker's semi-space cap), then the entry point.
      const entry = args.find((a) => !a.startsWith('--'));
      expect(args.slice(args.indexOf(entry!) + 1)).toEqual([]);
      const source = entry!.replace(/^lib\//, '').replace(/\.js$/, '.ts');
      expect([name, existsSync(join(ROOT, source))]).toEqual([name, true]);
      expect(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')).toContain(
        `"${source.split('/')[0]}/**/*.ts"`,
      );
    }
  });

  it("starts the worker with its main thread's semi-space capped, as npm run start:worker does", () => {
    expect(service('worker').command).toContain(WORKER_MAIN_THREAD_NODE_OPTION);
    const scripts = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts['start:worker']).toContain(WORKER_MAIN_THREAD_NODE_OPTION);
    // The API and the emulator keep V8's default: the cap is the worker's (worker/allocator.ts).
    for (const name of ['api', 'emulator'])
      expect(service(name).command).not.toContain(WORKER_MAIN_THREAD_NODE_OPTION);
  });

  it('runs on jemalloc: installed in the runtime stage, linked where worker/allocator.ts looks, preloaded', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/apt-get install[^\n]*\blibjemalloc2\b/);
    expect(runtime).not.toMatch(/apt-get purge[^\n]*libjemalloc2/);
    const link = /ln -s "\/usr\/lib\/\$\(uname -m\)-linux-gnu\/libjemalloc\.so\.2" (\S+)/.exec(runtime)?.[1];
    expect(link).toBe(JEMALLOC_PATHS[0]);
    expect(runtime).toMatch(new RegExp(`^ENV LD_PRELOAD=${link!.replace(/\./g, '\\.')}\\b`, 'm'));
  });

  it('keeps local state, secrets and dependencies out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.data', '.tools', '.env', 'lib']) expect(ignored).toContain(entry);
  });
});
