import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { EmulatorContext } from './emulator-context';
import { sendApiError } from './http-errors';
import type { EmulatorOptions } from './options';
import { facts } from './request-log';
import { bearerProblem, inspectBearer } from './tokens';

export interface DataCaller {
  partnerId: string;
  installationId: string;
  appId: string;
}

/** The seller data APIs; each needs one scope in the installation token (configurable: `dataScopes`). */
export type DataApi = keyof NonNullable<EmulatorOptions['dataScopes']>;

export const DEFAULT_DATA_SCOPES: Record<DataApi, string> = {
  orders: 'orders',
  availability: 'availability',
  prices: 'products',
  returns: 'returns',
  shipments: 'shipments',
  // [I] No source names this scope (docs/otto-api.md §3.1); PlentyONE needed its v2 app for it.
  shippingProfiles: 'shipping-profiles',
};

export function dataScope(ctx: EmulatorContext, api: DataApi): string {
  return ctx.options.dataScopes[api] ?? DEFAULT_DATA_SCOPES[api];
}

export function caller(res: Response): DataCaller {
  const locals = res.locals as { caller?: DataCaller };
  if (!locals.caller) throw new Error('emulator: data route without requireInstallationToken');
  return locals.caller;
}

/**
 * Guards every seller data endpoint: an installation token that is valid (401 otherwise), carries the
 * API's scope (403 otherwise), and whose partner is under its rate limit (429 otherwise, without
 * Retry-After: OTTO documents none). These come from OTTO's gateway, so their body is the generic one.
 */
export function requireInstallationToken(ctx: EmulatorContext, api: DataApi): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const scope = dataScope(ctx, api);
    const { freshness, token } = inspectBearer(ctx, req);
    const f = facts(res);
    if (token) {
      f.appId = token.appId;
      if (token.partnerId) f.partnerId = token.partnerId;
      if (token.installationId) f.installationId = token.installationId;
    }
    if (freshness !== 'valid' || !token) {
      f.token = freshness;
      res.set(
        'WWW-Authenticate',
        `Bearer error="invalid_token", error_description="${bearerProblem(freshness)}"`,
      );
      sendApiError(res, 401, 'Unauthorized', bearerProblem(freshness));
      return;
    }
    if (token.kind !== 'installation' || !token.partnerId || !token.installationId) {
      f.token = 'wrong_scope';
      sendApiError(
        res,
        403,
        'Forbidden',
        `This endpoint needs an installation access token, not a ${token.kind} token`,
      );
      return;
    }
    if (!token.scopes.includes(scope)) {
      f.token = 'wrong_scope';
      res.set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
      sendApiError(
        res,
        403,
        'Forbidden',
        `The installation's app does not have the scope "${scope}"` +
          (api === 'shippingProfiles'
            ? ' (shipping profiles need the v2 app; ask the seller to upgrade)'
            : ''),
      );
      return;
    }
    f.token = 'valid';
    const limit = ctx.partnerLimiter.take(token.partnerId);
    if (!limit.allowed) {
      sendApiError(res, 429, 'Too Many Requests', 'Rate limit per partner exceeded');
      return;
    }
    if (api === 'prices' && req.method === 'GET' && !ctx.productsReadLimiter.take(token.partnerId).allowed) {
      sendApiError(res, 429, 'Too Many Requests', 'Rate limit for GET /products exceeded');
      return;
    }
    (res.locals as { caller?: DataCaller }).caller = {
      partnerId: token.partnerId,
      installationId: token.installationId,
      appId: token.appId,
    };
    next();
  };
}
