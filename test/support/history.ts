/** Reading workflow histories in tests: every run of a workflow, payloads decoded to text. */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;

export async function allRuns(
  client: Client,
  workflowId: string,
): Promise<Array<{ runId: string; history: History }>> {
  const runs: Array<{ runId: string; startTime: Date }> = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: wf.runId, startTime: wf.startTime });
  }
  // Visibility trails the workflow: a run that started a moment ago (a continue-as-new) may not be listed
  // yet. describe() reads the latest run from the workflow itself.
  const latest = await client.workflow.getHandle(workflowId).describe();
  if (!runs.some((r) => r.runId === latest.runId))
    runs.push({ runId: latest.runId, startTime: latest.startTime });
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const out = [];
  for (const run of runs)
    out.push({
      runId: run.runId,
      history: await client.workflow.getHandle(workflowId, run.runId).fetchHistory(),
    });
  return out;
}

/** Every payload's bytes as UTF-8 plus every other string, concatenated: what a person could read in the UI. */
export function historyText(history: History): string {
  const parts: string[] = [];
  const walk = (value: unknown): void => {
    if (value === null || value === undefined) return;
    if (value instanceof Uint8Array) {
      parts.push(Buffer.from(value).toString('utf8'));
      return;
    }
    if (typeof value === 'string') {
      parts.push(value);
      return;
    }
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object') Object.values(value as Record<string, unknown>).forEach(walk);
  };
  walk(history);
  return parts.join('\n');
}
