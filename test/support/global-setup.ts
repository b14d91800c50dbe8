/**
 * One real Temporal dev server for the whole jest run (test files share it with unique task queues and
 * workflow ids), and the workflow bundle built once. Handed to test workers through the environment.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureTemporalCli } from '../../scripts/ensure-temporal';
import { startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { sellerWorkflowBundleOptions } from '../../worker/workflow-bundle';
import { POSTGRES_TEST_URL_ENV, startPostgres, type PostgresServer } from './postgres';

declare global {
  var __OTTO_TEMPORAL__: DevServer | undefined;
  var __OTTO_POSTGRES__: PostgresServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Tests run in dev: processes they start (workers, the dev stack) get dev defaults and relaxations.
  // Configs built from explicit env objects pass OTTO_CONNECT_ENV themselves (test/api/config.test.ts
  // checks the production rules that apply without it).
  process.env.OTTO_CONNECT_ENV = 'dev';
  if (process.env.TEMPORAL_TEST_ADDRESS) {
    console.log(
      `\n[harness] using the Temporal server at ${process.env.TEMPORAL_TEST_ADDRESS} (TEMPORAL_TEST_ADDRESS)`,
    );
  } else {
    const cli = ensureTemporalCli({ log: (line) => console.log(`[harness] ${line}`) });
    const server = await startDevServer({ cliPath: cli.path });
    globalThis.__OTTO_TEMPORAL__ = server;
    process.env.TEMPORAL_TEST_ADDRESS = server.address;
    process.env.TEMPORAL_TEST_SERVER_VERSION = cli.version;
    process.env.TEMPORAL_TEST_CLI = cli.path;
    console.log(
      `\n[harness] Temporal dev server: ${cli.version} at ${server.address} (pid ${server.pid}, CLI from ${cli.source})`,
    );
  }

  // A real PostgreSQL server for the seller-store tests (POSTGRES_TEST_URL: set beforehand, that one is used).
  if (process.env[POSTGRES_TEST_URL_ENV]) {
    console.log(`[harness] using the PostgreSQL server at ${POSTGRES_TEST_URL_ENV}`);
  } else {
    try {
      const pg = await startPostgres();
      globalThis.__OTTO_POSTGRES__ = pg;
      process.env[POSTGRES_TEST_URL_ENV] = pg.url;
      console.log(`[harness] PostgreSQL: ${pg.version} at ${pg.url} (pid ${pg.pid})`);
    } catch (err) {
      // Only the PostgreSQL tests fail then, naming this.
      console.log(
        `[harness] no PostgreSQL for the store tests: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  const dir = join(tmpdir(), `otto-connect-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bundlePath = join(dir, 'workflow-bundle.js');
  // Bundled as every worker bundles it (worker/workflow-bundle.ts: the workflow modules preloaded).
  const { code } = await bundleWorkflowCode({
    ...sellerWorkflowBundleOptions(),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  writeFileSync(bundlePath, code);
  process.env.TEMPORAL_TEST_WORKFLOW_BUNDLE = bundlePath;
}
