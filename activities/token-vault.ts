/**
 * The token vault: installation tokens stay on the workers' side, in the seller store (sealed, one row
 * per seller and installation, shared by every worker), and the seller workflow carries only a short
 * handle naming the token. Before it, every tick's input carried the sealed token (≈ 1 KB with the
 * emulator's tokens, more with OTTO's Keycloak JWTs) and every mint's result another copy: history the
 * Temporal cluster stores, payloads every tick encodes, and memory the SDK core keeps for each scheduled
 * activity until the run continues as new (its activity state machine holds the command's arguments).
 *
 * A handle that does not open (the row was replaced by a newer token, the store was reset, another store)
 * is no error: the tick mints a new token, as it does when it carries none. A vault that cannot write
 * (the store is down) hands the sealed token back instead, and the workflow carries it as before.
 * A seller's rows are deleted when its connection ends (the final status row, worker/status-row-sink.ts);
 * rows whose token expired an hour ago (an upgraded installation's, or one kept after that deletion) are
 * deleted as tokens are kept.
 */
import { randomBytes } from 'node:crypto';
import { expiredRowsPruner } from '../store/expired-rows';
import type { SellerStore } from '../store/seller-store';

/** Every handle starts with this; a sealed token never does (common/seal.ts: `<version>.<kid>.…`). */
export const TOKEN_HANDLE_PREFIX = 'vault:';

export function isTokenHandle(value: string): boolean {
  return value.startsWith(TOKEN_HANDLE_PREFIX);
}

export interface TokenVault {
  /** Stores the sealed token as the installation's current one; returns its handle. */
  keep(sellerId: string, installationId: string, sealed: string, expiresAt: number): Promise<string>;
  /** The sealed token `handle` names, or null when the installation's current token is another one. */
  open(sellerId: string, installationId: string, handle: string): Promise<string | null>;
}

/**
 * Tokens that expired this long ago are deleted (the rows of an installation replaced by an upgrade, or
 * what an ended seller's deletion missed), at most once per this interval per process, as a token is kept.
 */
const PRUNE_AFTER_MS = 60 * 60_000;

export function createStoreTokenVault(
  store: Pick<
    SellerStore,
    'putInstallationToken' | 'getInstallationToken' | 'deleteInstallationTokensExpiredBefore'
  >,
  now: () => number = Date.now,
): TokenVault {
  const prune = expiredRowsPruner((at) => store.deleteInstallationTokensExpiredBefore(at), {
    keepMs: PRUNE_AFTER_MS,
    everyMs: PRUNE_AFTER_MS,
    now,
  });
  return {
    async keep(sellerId, installationId, sealed, expiresAt) {
      await prune();
      const handle = `${TOKEN_HANDLE_PREFIX}${randomBytes(12).toString('base64url')}`;
      const written = await store.putInstallationToken({
        sellerId,
        installationId,
        handle,
        sealed,
        expiresAt,
      });
      // A newer token is stored already (a late attempt of an older tick): carry this one itself.
      return written ? handle : sealed;
    },
    async open(sellerId, installationId, handle) {
      const row = await store.getInstallationToken(sellerId, installationId);
      return row !== null && row.handle === handle ? row.sealed : null;
    },
  };
}
