import { LRUCache } from 'lru-cache';

interface VerifiedEntry<T> {
  readonly scope: string;
  readonly value: T;
  readonly expiresAtMs: number;
}

/**
 * Bearer tokens already verified, remembered for the rest of their life, so a client that sends
 * the same token on every request pays for the HMAC and the two JSON parses once per token
 * instead of once per request (about 0.03 ms of CPU each time).
 *
 * An entry is keyed by scope AND token, the scope being the tenant the token was verified for:
 * the same token under another tenant is a miss and gets verified (and refused) in full. The
 * entry also carries its scope, compared again on read, and its expiry, the token's own `exp`
 * checked against the clock on every read exactly as jsonwebtoken checks it. Tokens without an
 * `exp` and tokens that failed are never remembered. Bounded by entries (least recently used
 * go first), so memory stays flat however many tokens a replica sees.
 */
export class VerifiedTokenCache<T extends object> {
  private readonly entries: LRUCache<string, VerifiedEntry<T>>;

  constructor(maxEntries: number) {
    this.entries = new LRUCache<string, VerifiedEntry<T>>({ max: maxEntries });
  }

  get(scope: string, token: string): T | undefined {
    const key = cacheKey(scope, token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.scope !== scope || Date.now() >= entry.expiresAtMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** `expiresAtSeconds` is the token's `exp` claim (seconds since the epoch). */
  remember(scope: string, token: string, value: T, expiresAtSeconds: number | undefined): void {
    if (typeof expiresAtSeconds !== 'number' || !Number.isFinite(expiresAtSeconds)) return;
    const expiresAtMs = expiresAtSeconds * 1000;
    if (expiresAtMs <= Date.now()) return;
    this.entries.set(cacheKey(scope, token), { scope, value, expiresAtMs });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** A space cannot occur in a tenant id or in a JWT, so the key is unambiguous. */
function cacheKey(scope: string, token: string): string {
  return `${scope} ${token}`;
}
