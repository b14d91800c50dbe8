/**
 * A real PostgreSQL server for the test run (like the Temporal dev server): started by global-setup in a
 * temp dir on a free loopback port with fsync off, its admin URL exported as POSTGRES_TEST_URL, stopped
 * by global-teardown. Test files create a database of their own with createTestDatabase().
 *
 * POSTGRES_TEST_URL set before the run: that server is used (its user must be allowed to create
 * databases). The binaries come from PATH (`postgres`, `initdb`) or Debian's /usr/lib/postgresql/N/bin;
 * `.ci/run` installs Debian's `postgresql` package when they are missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../scripts/temporal-dev-server';

export const POSTGRES_TEST_URL_ENV = 'POSTGRES_TEST_URL';

export interface PostgresServer {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/** The directory holding `initdb` and `postgres`, or undefined when PostgreSQL is not installed. */
export function findPostgresBin(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const onPath = which.status === 0 ? which.stdout.trim() : '';
  if (onPath) {
    const real = spawnSync('readlink', ['-f', onPath], { encoding: 'utf8' }).stdout.trim() || onPath;
    return real.replace(/\/initdb$/, '');
  }
  const debian = '/usr/lib/postgresql';
  if (!existsSync(debian)) return undefined;
  const versions = readdirSync(debian)
    .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(debian, versions[0], 'bin') : undefined;
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` user (or nobody). */
function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL');
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startPostgres(opts: { readyTimeoutMs?: number } = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin)
    throw new Error(
      'PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): apt-get install postgresql, or set POSTGRES_TEST_URL',
    );
  const ids = unprivilegedIds();
  const dir = mkdtempSync(join(tmpdir(), 'otto-postgres-'));
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  const asUser = ids ? { uid: ids.uid, gid: ids.gid } : {};
  const init = spawnSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { encoding: 'utf8', ...asUser },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}):\n${init.stdout}\n${init.stderr}`);
  }
  const version = (spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout ?? '').trim();
  const logFile = join(dir, 'postgres.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const log = openSync(logFile, 'a');
    if (ids) chownSync(logFile, ids.uid, ids.gid);
    const child: ChildProcess = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
      ],
      { stdio: ['ignore', log, log], ...asUser },
    );
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
    let ready = false;
    while (!ready && child.exitCode === null && Date.now() < deadline) {
      ready = await canConnect(url);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    if (ready) {
      return {
        url,
        pid: child.pid!,
        version,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<void>((r) => child.once('exit', () => r()));
            child.kill('SIGQUIT'); // immediate shutdown: the data is thrown away anyway
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    if (attempt < 3 && text.includes('could not bind')) continue;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start on port ${port}:\n${text}`);
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** The harness's server (POSTGRES_TEST_URL), or an error saying why there is none. */
export function postgresTestUrl(): string {
  const url = process.env[POSTGRES_TEST_URL_ENV];
  if (!url)
    throw new Error(
      `${POSTGRES_TEST_URL_ENV} is not set: the test harness could not start PostgreSQL (see its [harness] line; .ci/run installs Debian's postgresql)`,
    );
  return url;
}

/** A new, empty database on the harness's server; drop() removes it (closing what is still connected). */
export async function createTestDatabase(prefix = 'otto'): Promise<TestDatabase> {
  const admin = postgresTestUrl();
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
