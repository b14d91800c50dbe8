/**
 * The "known unknowns" of docs/otto-api.md §7 that both the API and the worker need, as one zod fragment:
 * OTTO documents none of them, so each is a setting with the default we reasoned for, and the README's
 * "Running against the real OTTO" section says what to try when the sandbox disagrees.
 */
import { z } from 'zod';

/** `on`/`off` (also true/false, 1/0, yes/no), for switches. */
export function onOff(defaultValue: 'on' | 'off') {
  return z
    .string()
    .default(defaultValue)
    .transform((text, ctx) => {
      const value = text.trim().toLowerCase();
      if (['on', 'true', '1', 'yes'].includes(value)) return true;
      if (['off', 'false', '0', 'no'].includes(value)) return false;
      ctx.addIssue({ code: 'custom', message: 'must be on or off' });
      return z.NEVER;
    });
}

/** OTTO's login is Keycloak; its issuer is the realm URL on the auth host (docs/otto-api.md §2.3). */
export const OTTO_REALM_PATH = '/sec-api/auth/realms/otto-partner';

export function realmIssuer(authBaseUrl: string): string {
  return `${new URL(authBaseUrl).origin}${OTTO_REALM_PATH}`;
}

const claimList = z
  .string()
  .default('partner_id,partner')
  .transform((text, ctx) => {
    const claims = text
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (claims.length === 0 || claims.some((c) => !/^[A-Za-z0-9_.:-]{1,64}$/.test(c))) {
      ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of claim names' });
      return z.NEVER;
    }
    return claims;
  });

/** Settings the worker's token activities and the API's OAuth routes share. */
export const ottoFlowSettingsSchema = z.object({
  /** Send `redirect_uri` on /oauth2/auth and in the code exchange (OTTO's 2023 text sends none). */
  OTTO_SEND_REDIRECT_URI: onOff('on'),
  /** User-token claims that may carry the partner id, tried in order. */
  OTTO_PARTNER_ID_CLAIM: claimList,
  /** `scope` sent when minting installation tokens; empty = omit (the token gets the app's scopes). */
  OTTO_INSTALLATION_TOKEN_SCOPE: z.string().trim().default(''),
});
