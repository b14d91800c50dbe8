/**
 * "Allow access": what both the admin API and the assistant do to start consent (otto-api.md §2.1).
 * Nonce and PKCE verifier come from Node's crypto here, never from workflow code; the verifier enters
 * the workflow only sealed; the nonce travels in the signed state and comes back on the callback.
 */
import { buildAuthorizeUrl, callbackUrl, createPkcePair, newNonce } from '../common/oauth';
import { latestVersion, type OttoApp } from '../common/otto-apps';
import type { Sealer } from '../common/seal';
import type { AppVersion, ConnectionState } from '../workflows/definitions';
import { SellerConnectionError } from './connection-errors';
import { HttpError } from './errors';
import type { ApiMetrics } from './metrics';
import type { StateSigner } from './oauth-state';
import type { SellerConnections } from './seller-connections';

export interface ConsentStarterDeps {
  apps: readonly OttoApp[];
  authBaseUrl: string;
  publicBaseUrl: string;
  connections: SellerConnections;
  sealer: Sealer;
  stateSigner: StateSigner;
  metrics: ApiMetrics;
}

export interface ConsentStarted {
  state: ConnectionState;
  appVersion: AppVersion;
  authorizeUrl: string;
  consentDeadline: string;
}

export type ConsentStarter = (sellerId: string, appVersion?: AppVersion) => Promise<ConsentStarted>;

export function createConsentStarter(deps: ConsentStarterDeps): ConsentStarter {
  const redirectUri = callbackUrl(deps.publicBaseUrl);
  return async (sellerId, requested) => {
    const appVersion = requested ?? latestVersion(deps.apps);
    const app = deps.apps.find((a) => a.version === appVersion);
    if (!app) {
      deps.metrics.consentStarts.inc({ app_version: appVersion, outcome: 'version_not_offered' });
      throw new HttpError(
        400,
        'app_version_not_offered',
        `app version ${appVersion} is not offered by this deployment`,
      );
    }
    const nonce = newNonce();
    const pkce = createPkcePair();
    try {
      const result = await deps.connections.beginConsent({
        sellerId,
        appVersion,
        nonce,
        sealedPkceVerifier: deps.sealer.seal(pkce.verifier),
      });
      deps.metrics.consentStarts.inc({ app_version: appVersion, outcome: 'started' });
      return {
        state: result.state,
        appVersion,
        consentDeadline: result.consentDeadline,
        authorizeUrl: buildAuthorizeUrl({
          authBaseUrl: deps.authBaseUrl,
          clientId: app.clientId,
          redirectUri,
          state: deps.stateSigner.sign({ sellerId, appVersion, nonce }),
          codeChallenge: pkce.challenge,
        }),
      };
    } catch (err) {
      deps.metrics.consentStarts.inc({
        app_version: appVersion,
        outcome: err instanceof SellerConnectionError ? err.kind : 'error',
      });
      throw err;
    }
  };
}
