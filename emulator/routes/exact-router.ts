import { Router } from 'express';

/**
 * OTTO's paths are exact: a client that writes `/V4/orders` or `/v4/orders/` must find out here, not at
 * OTTO, so the emulator's routers match case and trailing slashes exactly (Express matches both loosely by
 * default). Whether OTTO forgives either is undocumented; the stricter reading is the safe one.
 */
export function exactRouter(): Router {
  return Router({ caseSensitive: true, strict: true });
}
