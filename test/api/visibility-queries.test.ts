/** The shared visibility query builder, without a server: query text and the latest-run pick. */
import {
  endedRunsQuery,
  latestRun,
  listPhases,
  LIVE_STATES,
  newestCandidates,
  partnerHoldersQuery,
  runningQuery,
  runsOfWorkflowsQuery,
} from '../../workflows/visibility-queries';

it('running states filter on the live run; ended states on closed runs, never continued-as-new', () => {
  expect(LIVE_STATES).toEqual(['new', 'pending_consent', 'authorizing', 'active', 'degraded', 'paused']);
  expect(runningQuery('active', { taskQueue: 'q' })).toBe(
    "WorkflowType = 'sellerConnection' AND TaskQueue = 'q' AND ExecutionStatus = 'Running' AND OttoConnectionState = 'active'",
  );
  expect(endedRunsQuery('revoked')).toBe(
    "WorkflowType = 'sellerConnection' AND ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew' AND OttoConnectionState = 'revoked'",
  );
  expect(endedRunsQuery()).toContain("OttoConnectionState IN ('revoked', 'disconnected', 'consent_expired')");
  expect(runsOfWorkflowsQuery(['otto-seller:a', 'otto-seller:b'])).toContain(
    "ExecutionStatus != 'ContinuedAsNew' AND WorkflowId IN ('otto-seller:a', 'otto-seller:b')",
  );
  // Continued-as-new runs only when they closed after the oldest candidate.
  expect(runsOfWorkflowsQuery(['otto-seller:a'], undefined, new Date('2026-12-05T00:00:00Z'))).toContain(
    "(ExecutionStatus != 'ContinuedAsNew' OR CloseTime > '2026-12-05T00:00:00.000Z') AND WorkflowId IN ('otto-seller:a')",
  );
  expect(runningQuery(undefined, { sellerId: 's1' })).toContain("WorkflowId = 'otto-seller:s1'");
  expect(() => runningQuery(undefined, { sellerId: "x' OR '1'='1" })).toThrow(/quotes/);
});

it('the holders of an OTTO partner: running seller workflows with its partner id, the asking seller left out', () => {
  expect(partnerHoldersQuery('1000624', 's-2', { taskQueue: 'q' })).toBe(
    "WorkflowType = 'sellerConnection' AND TaskQueue = 'q' AND ExecutionStatus = 'Running' AND OttoConnectionState NOT IN ('revoked', 'disconnected', 'consent_expired') AND OttoPartnerId = '1000624' AND WorkflowId != 'otto-seller:s-2'",
  );
  expect(() => partnerHoldersQuery("P' OR '1'='1", 's-2')).toThrow(/quotes/);
});

it('keeps each workflow’s newest run: running first, then the latest close (continued-as-new runs too)', () => {
  const run = (workflowId: string, runId: string, status: string, start: number, close?: number) => ({
    workflowId,
    runId,
    status: { name: status },
    startTime: new Date(start),
    ...(close === undefined ? {} : { closeTime: new Date(close) }),
  });
  const latest = latestRun([
    run('a', 'a1', 'COMPLETED', 1, 5),
    run('a', 'a2', 'RUNNING', 6),
    run('b', 'b1', 'COMPLETED', 1, 3),
    run('b', 'b2', 'COMPLETED', 4, 9),
    run('b', 'b3', 'CONTINUED_AS_NEW', 10, 12),
    run('c', 'c1', 'CONTINUED_AS_NEW', 1, 2),
    run('c', 'c2', 'COMPLETED', 2, 8),
  ]);
  // b's newest is a run that continued as new (its successor not visible yet): b is live, not b2.
  expect([...latest.values()].map((r) => r.runId)).toEqual(['a2', 'b3', 'c2']);
});

it('pages list running sellers, then ended ones; a candidate counts only as its seller’s newest run', () => {
  expect(listPhases()).toEqual(['running', 'ended']);
  expect(listPhases('paused')).toEqual(['running']);
  expect(listPhases('revoked')).toEqual(['ended']);
  const run = (workflowId: string, runId: string, status: string, start: number, close?: number) => ({
    workflowId,
    runId,
    status: { name: status },
    startTime: new Date(start),
    ...(close === undefined ? {} : { closeTime: new Date(close) }),
  });
  const candidates = [
    run('a', 'a2', 'COMPLETED', 4, 9), // a's newest: kept
    run('a', 'a1', 'COMPLETED', 1, 3), // an older ended run of a: dropped (a is listed once)
    run('b', 'b1', 'COMPLETED', 1, 3), // b reconnected and runs: dropped
    run('c', 'c1', 'COMPLETED', 1, 3), // c's only run, not (yet) in the second query: kept
    run('d', 'd1', 'COMPLETED', 1, 3), // d reconnected; its run continued as new, the next not visible yet: dropped
  ];
  const runs = [
    run('a', 'a0', 'CONTINUED_AS_NEW', 0, 1), // the connection a1 ended, before it
    run('a', 'a1', 'COMPLETED', 1, 3),
    run('a', 'a2', 'COMPLETED', 4, 9),
    run('b', 'b1', 'COMPLETED', 1, 3),
    run('b', 'b2', 'RUNNING', 5),
    run('d', 'd1', 'COMPLETED', 1, 3),
    run('d', 'd2', 'CONTINUED_AS_NEW', 4, 6),
  ];
  expect(newestCandidates(candidates, runs).map((r) => r.runId)).toEqual(['a2', 'c1']);
});
