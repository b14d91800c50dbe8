/**
 * The OAuth pieces the API (and tests) need to start a consent: nonce, PKCE pair, the authorize URL
 * (docs/otto-api.md §2). Randomness comes from Node's crypto, never from workflow code.
 */
import { createHash, randomBytes } from 'node:crypto';

export const OTTO_CONSENT_SCOPE = 'installation partnerId';

/** The callback URL registered with OTTO for every app: exactly this string (OTTO compares it whole). */
export function callbackUrl(publicBaseUrl: string): string {
  return new URL('/oauth/callback', publicBaseUrl).toString();
}

export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

export interface PkcePair {
  verifier: string;
  challenge: string;
}

export function createPkcePair(): PkcePair {
  // RFC 7636: 43–128 characters from the unreserved set; 48 random bytes give 64 base64url characters.
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export interface AuthorizeUrlInput {
  authBaseUrl: string;
  clientId: string;
  /** Omitted when OTTO_SEND_REDIRECT_URI is off (OTTO's 2023 text sends none; Keycloak then uses the one registered). */
  redirectUri?: string;
  state: string;
  /** Omitted when OTTO_PKCE is off. */
  codeChallenge?: string;
}

/** OTTO's login (docs/otto-api.md §2.3), where the seller proves who they are after installing the app. */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): string {
  const url = new URL('/oauth2/auth', input.authBaseUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', input.clientId);
  if (input.redirectUri !== undefined) url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('scope', OTTO_CONSENT_SCOPE);
  url.searchParams.set('state', input.state);
  if (input.codeChallenge !== undefined) {
    url.searchParams.set('code_challenge', input.codeChallenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  return url.toString();
}
