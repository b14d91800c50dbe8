import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { EmulatorContext } from './emulator-context';
import type { EmulatorApp } from './options';

export type ClientAuthResult =
  | { ok: true; app: EmulatorApp }
  | { ok: false; reason: 'missing' | 'unknown_client' | 'bad_secret'; clientId?: string };

/**
 * RFC 6749 §2.3.1. Keycloak (`/oauth2/token`) accepts client_secret_basic and client_secret_post, and form
 * fields win over the Basic header (its ClientIdAndSecretAuthenticator). OTTO's `/v1/token` documents only
 * the form fields `client_id` and `client_secret` (docs/otto-api.md §3), so there `basic` is false and a
 * Basic header alone authenticates nobody. The secret is compared in constant time and never logged.
 */
export function authenticateClient(
  ctx: EmulatorContext,
  req: Request,
  form: Record<string, string | undefined>,
  { basic }: { basic: boolean },
): ClientAuthResult {
  let clientId: string | undefined;
  let secret: string | undefined;
  const header = basic ? /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '') : null;
  if (header?.[1]) {
    const decoded = Buffer.from(header[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      clientId = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
  }
  if (form.client_id !== undefined) clientId = form.client_id;
  if (form.client_secret !== undefined) secret = form.client_secret;
  if (!clientId) return { ok: false, reason: 'missing' };
  const app = ctx.appByClientId(clientId);
  if (!app) return { ok: false, reason: 'unknown_client', clientId };
  if (secret === undefined || !sameSecret(secret, app.clientSecret)) {
    return { ok: false, reason: 'bad_secret', clientId };
  }
  return { ok: true, app };
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
