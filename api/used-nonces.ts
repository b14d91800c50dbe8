/**
 * Nonces of callbacks this process already passed on with a code. A replayed callback URL is refused
 * here at once; across processes the workflow still refuses it (it accepts one callback per nonce),
 * so this is a fast first line, not the only one. Entries live as long as their state could verify.
 */
export interface UsedNonces {
  has(nonce: string): boolean;
  add(nonce: string, expiresAt: number): void;
}

export function createUsedNonces(options: { max?: number; now?: () => number } = {}): UsedNonces {
  const max = options.max ?? 100_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, number>();
  const prune = () => {
    const t = now();
    for (const [nonce, expiresAt] of entries) if (expiresAt <= t) entries.delete(nonce);
    // Still full: drop the oldest, accepting that a very old replay then reaches the workflow's own check.
    while (entries.size >= max) {
      const oldest = entries.keys().next();
      if (oldest.done) break;
      entries.delete(oldest.value);
    }
  };
  return {
    has: (nonce) => (entries.get(nonce) ?? 0) > now(),
    add(nonce, expiresAt) {
      if (entries.size >= max) prune();
      entries.set(nonce, expiresAt);
    },
  };
}
