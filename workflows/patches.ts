/**
 * Every `patched()` id the seller workflow uses, with the release that introduced it (docs/versioning.md).
 * A change to workflow code that alters the commands it issues goes behind a new id here; the run-start
 * flags are read once per run and handed to the pure decision core. Remove an id (deprecatePatch first)
 * only when no run recorded before it can still be replayed: see the policy.
 */
export const PATCHES = {} as const satisfies Record<string, { since: string; why: string }>;
