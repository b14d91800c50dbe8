/**
 * "Allow access": what both the admin API and the assistant do to start consent (docs/otto-api.md §2.1).
 * The seller's browser goes to OTTO's installation link (public app) or an invitation link (private
 * app), bound to this consent by a signed cookie, since OTTO's redirect after the installation carries
 * nothing we issued. Nonce and PKCE verifier come from Node's crypto here, never from workflow code; the
 * verifier (and an invitation link) enter the workflow only sealed.
 */
import { createPkcePair, newNonce } from '../common/oauth';
import { latestVersion, type PublicOttoApp } from '../common/otto-apps';
import { SealError, type Sealer } from '../common/seal';
import type { AppVersion, ConnectionState } from '../workflows/definitions';
import type { ConsentCookies } from './consent-cookie';
import { SellerConnectionError } from './connection-errors';
import { HttpError } from './errors';
import type { ApiMetrics } from './metrics';
import type { SellerConnections } from './seller-connections';

export interface ConsentStarterDeps {
  /** Client ids only: the API never holds client secrets. */
  apps: readonly PublicOttoApp[];
  /** Invitation links must point here (OPC). */
  portalBaseUrl: string;
  pkce: boolean;
  connections: SellerConnections;
  sealer: Sealer;
  consentCookies: ConsentCookies;
  metrics: ApiMetrics;
}

export interface ConsentRequest {
  appVersion?: AppVersion;
  /** A private app's invitation link (24 h, single use), from OPC's "Einladungslink generieren". */
  invitationUrl?: string;
  /** Let this consent land on another OTTO partner than the seller's current one (admins only). */
  allowPartnerChange?: boolean;
}

export interface ConsentStarted {
  state: ConnectionState;
  appVersion: AppVersion;
  consentDeadline: string;
  /** OTTO's installation or invitation link the browser goes to. */
  consentUrl: string;
  /** The signed browser binding as the cookie's value ("Allow access" sets it). */
  cookie: string;
  /** The same binding as the admin's consent link's ticket (accepted only there, never as the cookie). */
  ticket: string;
  ticketExpiresAt: number;
}

export type ConsentStarter = (sellerId: string, request?: ConsentRequest) => Promise<ConsentStarted>;

export function createConsentStarter(deps: ConsentStarterDeps): ConsentStarter {
  const portalOrigin = new URL(deps.portalBaseUrl).origin;
  return async (sellerId, request = {}) => {
    const appVersion = request.appVersion ?? latestVersion(deps.apps);
    const app = deps.apps.find((a) => a.version === appVersion);
    const count = (outcome: string) => deps.metrics.consentStarts.inc({ app_version: appVersion, outcome });
    if (!app) {
      count('version_not_offered');
      throw new HttpError(
        400,
        'app_version_not_offered',
        `app version ${appVersion} is not offered by this deployment`,
      );
    }
    if (request.invitationUrl !== undefined && new URL(request.invitationUrl).origin !== portalOrigin) {
      count('invalid_invitation');
      throw new HttpError(
        400,
        'invalid_invitation_url',
        `invitationUrl must be an invitation link of OTTO's portal (${portalOrigin}), as OPC generates it`,
      );
    }
    const nonce = newNonce();
    const pkce = deps.pkce ? createPkcePair() : undefined;
    try {
      const result = await deps.connections.beginConsent({
        sellerId,
        appVersion,
        nonce,
        ...(pkce
          ? { sealedPkceVerifier: deps.sealer.seal(pkce.verifier, { purpose: 'pkce-verifier', sellerId }) }
          : {}),
        ...(request.invitationUrl === undefined
          ? {}
          : {
              sealedInvitationUrl: deps.sealer.seal(request.invitationUrl, {
                purpose: 'invitation-url',
                sellerId,
              }),
            }),
        ...(request.allowPartnerChange === undefined
          ? {}
          : { allowPartnerChange: request.allowPartnerChange }),
        // A private app has no installation link: its consent cannot start without an invitation link.
        ...(app.installationUrl == null ? { invitationRequired: true } : {}),
      });
      const consentUrl =
        result.sealedInvitationUrl !== null
          ? keptInvitationUrl(deps.sealer, result.sealedInvitationUrl, sellerId)
          : app.installationUrl;
      if (consentUrl == null) throw new Error('a private app consent started without an invitation link');
      const { value, ticket, expiresAt } = deps.consentCookies.issue({
        sellerId,
        appVersion,
        nonce,
        consentUrl,
        ...(pkce ? { codeChallenge: pkce.challenge } : {}),
      });
      count('started');
      return {
        state: result.state,
        appVersion,
        consentDeadline: result.consentDeadline,
        consentUrl,
        cookie: value,
        ticket,
        ticketExpiresAt: expiresAt,
      };
    } catch (err) {
      count(err instanceof SellerConnectionError ? err.kind : 'error');
      throw err;
    }
  };
}

/**
 * The invitation link the workflow holds for this consent (the one just given, or kept from the consent
 * it replaces). One sealed for another seller, or by an older version, is refused with a clear 409.
 */
function keptInvitationUrl(sealer: Sealer, sealed: string, sellerId: string): string {
  try {
    return sealer.unseal(sealed, { purpose: 'invitation-url', sellerId });
  } catch (err) {
    if (!(err instanceof SealError)) throw err;
    throw new HttpError(
      409,
      'invitation_url_unusable',
      `the invitation link kept for this seller cannot be used (${err.message}): generate a new invitation link in OPC and pass it as invitationUrl`,
    );
  }
}
