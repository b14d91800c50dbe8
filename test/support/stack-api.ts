/** The real API (createApp + the Temporal adapter) wired to a TestStack's emulator, queues and sealer. */
import { apiConfigSchema, workflowSettingsFrom, type ApiConfig } from '../../api/config';
import { createTemporalSellerConnections, type SellerConnections } from '../../api/seller-connections';
import { loadConfig } from '../../common/config';
import type { WorkflowSettingsInput } from '../../workflows/definitions';
import { PUBLIC_BASE_URL, type TestStack } from './stack';

export function stackApiConfig(
  stack: TestStack,
  keys: { admin: string; support?: string; stateKey: string },
): ApiConfig {
  return loadConfig(apiConfigSchema, {
    NODE_ENV: 'test',
    API_KEYS: [`admin:${keys.admin}`, ...(keys.support ? [`support:${keys.support}`] : [])].join(','),
    SEAL_KEYS: stack.sealKeys,
    STATE_SIGNING_KEY: keys.stateKey,
    TASK_QUEUE: stack.taskQueue,
    TOKEN_TASK_QUEUE: stack.tokenTaskQueue,
    PUBLIC_BASE_URL,
    OTTO_AUTH_BASE_URL: stack.emulatorUrl,
    OTTO_API_BASE_URL: stack.emulatorUrl,
    OTTO_APPS: JSON.stringify(stack.apps),
  });
}

export function stackConnections(
  stack: TestStack,
  config: ApiConfig,
  settings: WorkflowSettingsInput = {},
): SellerConnections {
  return createTemporalSellerConnections({
    client: stack.env.client,
    taskQueue: stack.taskQueue,
    uiUrl: config.TEMPORAL_UI_URL,
    settings: { ...workflowSettingsFrom(config), ...settings },
    callTimeoutMs: 10_000,
  });
}
