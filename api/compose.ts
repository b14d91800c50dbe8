/**
 * The API's parts as production wires them (api/index.ts), shared with the benchmarks' API process
 * (bench/support/api-process.ts) so both run the same composition: a lazy Temporal connection (Temporal
 * down at start is not fatal: routes answer 503 until it is reachable), the seller store (SELLER_STORE, as
 * the worker's; a store that cannot be opened is fatal: it holds the shop routes' data and the status rows
 * the workers write, which answer GET …/connection without Temporal), the cursor key derived from
 * STATE_SIGNING_KEY, Prometheus metrics with the process series, and the Express app. Listening and
 * signals stay with the caller.
 */
import type { Express } from 'express';
import type { Logger } from '../common/logger';
import type { SettingsOverrides } from '../workflows/definitions';
import type { ApiConfig } from './config';
import { createApp } from './create-app';
import { listCursorKey } from './list-cursor';
import { createMetrics, type ApiMetrics } from './metrics';
import {
  createTemporalClient,
  createTemporalSellerConnections,
  type SellerConnections,
} from './seller-connections';
import { openSellerStore } from '../store/open-seller-store';

export interface ApiParts {
  app: Express;
  connections: SellerConnections;
  metrics: ApiMetrics;
  /** Closes the Temporal connection and the store (after the server has stopped). */
  close: () => Promise<void>;
}

export interface ComposeOptions {
  /** Each new seller workflow's settings overrides. Production: none; the benchmarks accelerate time. */
  overrides?: SettingsOverrides;
}

export async function composeApi(
  config: ApiConfig,
  logger: Logger,
  options: ComposeOptions = {},
): Promise<ApiParts> {
  const store = await openSellerStore(config.SELLER_STORE);
  const temporal = createTemporalClient({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
  });
  const connections = createTemporalSellerConnections({
    client: temporal.client,
    taskQueue: config.TASK_QUEUE,
    uiUrl: config.TEMPORAL_UI_URL,
    overrides: options.overrides,
    callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT,
    cursorKey: listCursorKey(config.STATE_SIGNING_KEY),
    statusRows: store,
  });
  // The standard process_* / nodejs_* series (unprefixed) beside ours.
  const metrics = createMetrics({ defaultMetrics: true });
  return {
    app: createApp({ config, connections, metrics, logger, store }),
    connections,
    metrics,
    close: async () => {
      await Promise.allSettled([temporal.close(), store.close()]);
    },
  };
}
