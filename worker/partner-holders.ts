/**
 * Which other sellers of the shop are connected to an OTTO partner, read from Temporal's visibility:
 * the running seller workflows with that `OttoPartnerId` (set when a connection is authorized; a
 * revoked or disconnected connection's workflow has ended). The authorization activity refuses a consent
 * that lands on such a partner (activities/token-activities.ts `sellersHoldingPartner`).
 *
 * Visibility trails the workflows by a moment, so two sellers completing consent with the same OTTO
 * account within that moment are not told apart; every later one is. The same moment recurs when the
 * holder's workflow continues as new (about daily): its old run may show closed before its new run
 * shows at all. A consent landing within those milliseconds would pass (both sellers then show the
 * same `partnerId` in `GET /api/connections`, and an admin disconnects one).
 */
import type { Client } from '@temporalio/client';
import { WORKFLOW_ID_PREFIX } from '../workflows/definitions';
import { partnerHoldersQuery } from '../workflows/visibility-queries';

/** Enough to name them; a partner held twice already is a leftover from before the check. */
const MAX_NAMED = 5;

export function partnerHoldersFromVisibility(
  client: Pick<Client, 'workflow'>,
  taskQueue: string,
  warn: (message: string) => void = () => {},
): (partnerId: string, exceptSellerId: string) => Promise<string[]> {
  return async (partnerId, exceptSellerId) => {
    // A quote cannot go into a visibility query (visibility-queries.ts refuses it); OTTO's partner ids
    // are numbers, so such an id is not checked rather than refused.
    if (/['"\\]/.test(partnerId)) {
      warn(`partner id ${JSON.stringify(partnerId)} cannot be looked up in visibility: not checked`);
      return [];
    }
    // A set: for a moment after a continue-as-new, visibility may list a seller's old run as running too.
    const holders = new Set<string>();
    const query = partnerHoldersQuery(partnerId, exceptSellerId, { taskQueue });
    for await (const run of client.workflow.list({ query, pageSize: MAX_NAMED })) {
      holders.add(run.workflowId.slice(WORKFLOW_ID_PREFIX.length));
      if (holders.size >= MAX_NAMED) break;
    }
    return [...holders];
  };
}
