/**
 * Bundles the seller workflows once, at image build (Dockerfile), so a worker starts in seconds instead
 * of running webpack at every start. The worker uses the file when WORKFLOW_BUNDLE names it
 * (docker-compose.yml sets it); without WORKFLOW_BUNDLE it bundles from source as before.
 *
 *   npm run build && node lib/scripts/build-workflow-bundle.js [out]   (default out: lib/workflow-bundle.js)
 *
 * Run compiled, it bundles lib/workflows: exactly the code a worker started from lib/ would bundle itself.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { sellerWorkflowBundleOptions } from '../worker/workflow-bundle';

export async function buildWorkflowBundle(out: string): Promise<{ out: string; bytes: number }> {
  const { code } = await bundleWorkflowCode({
    ...sellerWorkflowBundleOptions(),
    logger: {
      trace() {},
      debug() {},
      info() {},
      log() {},
      warn: (message) => console.warn(message),
      error: (message) => console.error(message),
    },
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
  return { out, bytes: Buffer.byteLength(code) };
}

if (require.main === module) {
  const out = resolve(process.argv[2] ?? 'lib/workflow-bundle.js');
  buildWorkflowBundle(out).then(
    ({ bytes }) => console.log(`workflow bundle: ${out} (${Math.round(bytes / 1024)} KiB)`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
