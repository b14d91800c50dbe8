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

export function classifyOttoError(err: unknown, kind: OttoCallKind): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OttoNetworkError) {
    return ApplicationFailure.create({ type: FailureTypes.ottoUnavailable, message: err.message });
  }
  if (!(err instanceof OttoHttpError)) return err instanceof Error ? err : new Error(String(err));

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
