/**
 * OTTO errors classified once into the failure types the workflow understands (definitions.ts):
 * installation refused → InstallationRevoked (non-retryable; the token activities turn it into
 * OttoFleetIncident while the app's fleet breaker is open); 429 → retry after Retry-After;
 * 5xx / network → retry with backoff; any other 4xx → non-retryable. A cancelled activity's
 * CancelledFailure passes through unchanged.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { FailureTypes } from '../workflows/definitions';
import { OttoHttpError, OttoNetworkError } from './otto-http';

export type OttoCallKind = 'mint' | 'exchange' | 'developer-token' | 'installation' | 'data';

/** The answer each failure made from one of OTTO's answers stands for (in this process only). */
const answers = new WeakMap<object, OttoHttpError>();

/** Remembers that `failure` was made from OTTO's answer `answer` (see ottoAnswerOf). Returns `failure`. */
export function madeFrom<E extends Error>(failure: E, answer: OttoHttpError): E {
  answers.set(failure, answer);
  return failure;
}

/**
 * OTTO's answer (status, error list) a failure was made from, when it was made from one: lets a
 * transfer tell a 413 or 422 from other refusals, or a refused position from a schema mismatch, without
 * putting the answer into the failure Temporal records. Undefined for network errors, cancellations and
 * failures of our own (schema mismatch, foreign link, expiring token).
 */
export function ottoAnswerOf(err: unknown): OttoHttpError | undefined {
  if (err instanceof OttoHttpError) return err;
  return err !== null && typeof err === 'object' ? answers.get(err) : undefined;
}

export function classifyOttoError(err: unknown, kind: OttoCallKind): Error {
  if (err instanceof OttoHttpError) return madeFrom(classifyHttpError(err, kind), err);
  return classifyOtherError(err);
}

function classifyOtherError(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OttoNetworkError) {
    return ApplicationFailure.create({ type: FailureTypes.ottoUnavailable, message: err.message });
  }
  return err instanceof Error ? err : new Error(String(err));
}

function classifyHttpError(err: OttoHttpError, kind: OttoCallKind): Error {
  const { status } = err;
  // Data calls carry OTTO's own words (413/422 name the refused entries); token calls add theirs themselves.
  const message = kind === 'data' && err.errorText ? `${err.message}: ${err.errorText}` : err.message;
  if (status === 429) {
    return ApplicationFailure.create({
      type: FailureTypes.rateLimited,
      message,
      nextRetryDelay: err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 100) : undefined,
    });
  }
  if (status >= 500 || status === 408) {
    return ApplicationFailure.create({ type: FailureTypes.ottoUnavailable, message });
  }
  // OTTO documents no status for a revoked installation (docs/otto-api.md §4: treat 400/401/403/404 as
  // "possibly revoked"); a 400 that names our own request's fault (a scope we asked for, our client) is not.
  if (
    kind === 'mint' &&
    (status === 401 ||
      status === 403 ||
      status === 404 ||
      (status === 400 && err.reason !== 'invalid_scope' && err.reason !== 'invalid_client'))
  ) {
    return ApplicationFailure.create({ type: FailureTypes.installationRevoked, message, nonRetryable: true });
  }
  if (err.reason === 'invalid_client' || (kind === 'developer-token' && status === 401)) {
    return ApplicationFailure.create({
      type: FailureTypes.invalidClientCredentials,
      message: `${message}: check the app's client id and secret in OTTO_APPS`,
      nonRetryable: true,
    });
  }
  if (kind === 'exchange' || kind === 'installation') {
    return ApplicationFailure.create({
      type: FailureTypes.authorizationRejected,
      message,
      nonRetryable: true,
    });
  }
  return ApplicationFailure.create({ type: FailureTypes.requestRejected, message, nonRetryable: true });
}
