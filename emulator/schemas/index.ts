/**
 * Zod schemas of every response body of the docs/otto-api.md §5 endpoints the emulator serves, success and
 * error variants, for the emulator's tests (test/emulator/data-schemas.test.ts). Emulator-only: the
 * connector must never import them.
 */
export * from './availability';
export * from './common';
export * from './orders';
export * from './prices';
export * from './returns';
export * from './shipments';
export * from './shipping-profiles';
