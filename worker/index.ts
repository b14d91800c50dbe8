/**
 * The worker's composition root: reads configuration, connects to Temporal and runs the seller workflow
 * until SIGINT/SIGTERM (the SDK drains in-flight tasks on those signals).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../common/config';
import { workerConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfig(workerConfigSchema);
  Runtime.install({ logger: new DefaultLogger(config.LOG_LEVEL) });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      // Resolves to index.ts under tsx and to index.js in the built lib/.
      workflowsPath: require.resolve('../workflows'),
    });
    console.log(
      `worker polling task queue "${config.TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS} (${config.TEMPORAL_NAMESPACE})`,
    );
    await worker.run();
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
