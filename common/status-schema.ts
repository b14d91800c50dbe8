/**
 * The public status view (docs/design.md §3): the `connectionStatus` query's answer, defined once. The
 * workflow imports only its type (workflows/status-view.ts re-exports it; this module is never bundled:
 * zod stays out of the workflow sandbox); the API validates its response with it and the OpenAPI
 * document is generated from it, so the three cannot drift.
 */
import { z } from 'zod';
import { APP_VERSIONS, CONNECTION_STATES, TRANSFER_KINDS, WEBHOOK_EVENT_TYPES } from './workflow-names';

const isoOrNull = z.iso.datetime().nullable();
const appVersion = z.enum(APP_VERSIONS);

const transferStatusSchema = z.object({
  intervalMs: z.number().nullable().describe('null: this transfer is off.'),
  lastRunAt: isoOrNull,
  lastResult: z.enum(['ok', 'failed', 'skipped']).nullable(),
  lastCount: z.number().nullable(),
  lastDetail: z.string().nullable(),
  nextDueAt: isoOrNull,
  running: z.boolean().describe('A run of this kind is in progress right now.'),
  resumable: z
    .boolean()
    .describe('An earlier run was stopped part-way (new token, deploy); the next run resumes it.'),
});

export const connectionStatusSchema = z.object({
  sellerId: z.string(),
  state: z.enum(CONNECTION_STATES),
  appVersion: appVersion.nullable(),
  partnerId: z.string().nullable(),
  installationId: z.string().nullable(),
  scopes: z.array(z.string()),
  token: z.object({
    expiresAt: isoOrNull,
    lastRefreshedAt: isoOrNull,
    nextRefreshAt: isoOrNull,
    refreshCount: z.number().int(),
  }),
  pendingConsent: z.object({ appVersion, deadline: z.iso.datetime() }).nullable(),
  transfers: z.partialRecord(z.enum(TRANSFER_KINDS), transferStatusSchema),
  health: z.object({
    failing: z
      .array(z.string())
      .describe('What keeps the connection degraded: "token" and/or transfer kinds.'),
    incident: z
      .string()
      .nullable()
      .describe('A fleet-wide OTTO problem (not this seller’s): nobody is revoked while it lasts.'),
    revocationSuspectedAt: isoOrNull.describe(
      'Minting was refused since then; revoked only if refusals span the confirmation window.',
    ),
    refusals: z.number().int().nonnegative(),
  }),
  upgradeAvailable: z.boolean(),
  lastError: z
    .string()
    .nullable()
    .describe(
      'What went wrong, in one line. While degraded: a problem that still holds (the newest; when it clears, another one that still holds). Otherwise: a refused consent, a failed authorization, or a token refresh that failed while the token still lasts. Null when nothing is wrong.',
    ),
  events: z.array(z.object({ at: z.iso.datetime(), type: z.string(), detail: z.string().optional() })),
  webhooks: z
    .array(
      z.object({
        eventId: z.string().describe('The webhook-id header: the idempotency key.'),
        type: z.enum(WEBHOOK_EVENT_TYPES),
        at: z.iso.datetime(),
        status: z.enum(['pending', 'delivered', 'failed']),
        attempts: z.number().int().nonnegative(),
        lastError: z.string().nullable(),
        deliveredAt: isoOrNull,
      }),
    )
    .describe('The last webhook deliveries to the shop, oldest first (every pending one is listed).'),
  temporal: z.object({ workflowId: z.string(), runId: z.string() }),
});
export type ConnectionStatus = z.infer<typeof connectionStatusSchema>;
