/**
 * The worker's composition root: reads configuration, wires the activities' dependencies, connects to
 * Temporal and runs until SIGINT/SIGTERM (the SDK drains in-flight tasks on those signals).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../common/config';
import { sealKeysFromEnv } from '../common/dev-secrets';
import { createSealer, parseSealKeys } from '../common/seal';
import { callbackUrl, workerConfigSchema } from './config';
import { createWorkers, runWorkers } from './create-workers';

async function main(): Promise<void> {
  const config = loadConfig(workerConfigSchema, { ...process.env, SEAL_KEYS: sealKeysFromEnv(process.env) });
  Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL) });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const workers = await createWorkers({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      tokenTaskQueue: config.TOKEN_TASK_QUEUE,
      tokenActivitiesPerSecond: config.TOKEN_ACTIVITIES_PER_SECOND,
      deps: {
        sealer: createSealer(parseSealKeys(config.SEAL_KEYS)),
        apps: config.OTTO_APPS,
        authBaseUrl: config.OTTO_AUTH_BASE_URL,
        apiBaseUrl: config.OTTO_API_BASE_URL,
        redirectUri: callbackUrl(config.PUBLIC_BASE_URL),
      },
    });
    console.log(
      `worker polling "${config.TASK_QUEUE}" and "${config.TOKEN_TASK_QUEUE}" (≤ ${config.TOKEN_ACTIVITIES_PER_SECOND}/s) on ${config.TEMPORAL_ADDRESS}`,
    );
    await runWorkers(workers);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(
    err instanceof ConfigError
      ? err.message
      : `worker failed: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
});
