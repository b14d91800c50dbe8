import { rmSync } from 'node:fs';
import { dirname } from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const server = globalThis.__OTTO_TEMPORAL__;
  if (server) {
    await server.stop();
    globalThis.__OTTO_TEMPORAL__ = undefined;
  }
  const pg = globalThis.__OTTO_POSTGRES__;
  if (pg) {
    await pg.stop();
    globalThis.__OTTO_POSTGRES__ = undefined;
  }
  const bundle = process.env.TEMPORAL_TEST_WORKFLOW_BUNDLE;
  if (bundle) rmSync(dirname(bundle), { recursive: true, force: true });
}
