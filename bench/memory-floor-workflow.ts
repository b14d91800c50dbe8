/**
 * The floor of the memory benchmark (bench/workflow-memory.ts `--workflows=`): a workflow of the seller
 * workflow's type that does only what the benchmark asks of it (accept `beginConsent`, answer
 * `pending_consent`, wait) and holds nothing else: what the SDK itself keeps per cached workflow (its
 * activator, its per-workflow copy of the bundle's modules — @temporalio/workflow and common, and
 * nothing of ours). The seller workflow's heap per cached workflow minus this is what our code keeps.
 */
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

const beginConsent = defineUpdate<{ state: string }, [unknown]>('beginConsent');

export async function sellerConnection(): Promise<void> {
  setHandler(beginConsent, () => ({ state: 'pending_consent' }));
  await condition(() => false);
}
