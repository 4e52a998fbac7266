import { LRUCache } from 'lru-cache';
import type { ResolvedTenant } from '@platform/tenancy';
import type { RefreshableEntry } from '../common/background-refresh';
import { spreadTtl } from '../common/spread-ttl';

/**
 * A cached answer for one hostname: the tenant, or "no tenant here" (remembered briefly), and
 * when it is due to be read again. Until `refreshAtMs` it is simply used; from then on it is
 * still used while one read of the registry runs in the background (TenantResolver), and only
 * past `expiresAtMs`, a whole TTL later, is it gone and the next request waits for the registry.
 */
export interface CachedHost extends RefreshableEntry {
  readonly hostname: string;
  readonly tenant: ResolvedTenant | null;
  readonly expiresAtMs: number;
}

export interface TenantHostCacheSettings {
  readonly size: number;
  readonly ttlMs: number;
  readonly unknownHostTtlMs: number;
}

/**
 * hostname → tenant, bounded in entries and age. Every value carries the tenant it belongs to,
 * so invalidation by tenant id finds all of its hostnames, including ones the registry no longer
 * lists. The bound keeps memory flat however many tenants a replica serves.
 */
export class TenantHostCache {
  // Expiry is ours (each entry's own times), not lru-cache's `ttl`: an entry past its refresh
  // time must still be there to be served while it is read again.
  private readonly entries: LRUCache<string, CachedHost>;

  constructor(private readonly settings: TenantHostCacheSettings) {
    this.entries = new LRUCache<string, CachedHost>({ max: settings.size });
  }

  get(hostname: string, nowMs: number = Date.now()): CachedHost | undefined {
    const entry = this.entries.get(hostname);
    if (entry === undefined || nowMs < entry.expiresAtMs) return entry;
    this.entries.delete(hostname);
    return undefined;
  }

  /**
   * Caches the registry's answer. A tenant equal in every field to the one cached keeps the
   * cached object: what is computed per tenant object (its rate-limit keys, its concurrency
   * limit) then survives the periodic re-read, which changes nothing nearly every time.
   */
  remember(hostname: string, tenant: ResolvedTenant | null, nowMs: number = Date.now()): void {
    if (tenant) {
      const previous = this.entries.peek(hostname)?.tenant;
      const kept = previous && sameTenant(previous, tenant) ? previous : tenant;
      const refreshAtMs = nowMs + spreadTtl(this.settings.ttlMs);
      this.entries.set(hostname, {
        hostname,
        tenant: kept,
        refreshAtMs,
        expiresAtMs: refreshAtMs + this.settings.ttlMs,
        refreshing: false,
      });
    } else if (this.settings.unknownHostTtlMs <= 0) {
      // Not remembered as unknown, but not served as the tenant it was either (a re-read found
      // the host gone).
      this.entries.delete(hostname);
    } else {
      // An unknown host is not read again in the background: nobody is waiting on it.
      const expiresAtMs = nowMs + this.settings.unknownHostTtlMs;
      this.entries.set(hostname, {
        hostname,
        tenant: null,
        refreshAtMs: expiresAtMs,
        expiresAtMs,
        refreshing: false,
      });
    }
  }

  forgetTenant(tenantId: string, hostnames: readonly string[]): void {
    for (const hostname of hostnames) this.entries.delete(hostname);
    for (const [hostname, lookup] of this.entries.entries()) {
      // A negative entry may hide a hostname the tenant just gained.
      if (lookup.tenant === null || lookup.tenant.id === tenantId) this.entries.delete(hostname);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

function sameTenant(a: ResolvedTenant, b: ResolvedTenant): boolean {
  return (
    a.id === b.id &&
    a.slug === b.slug &&
    a.name === b.name &&
    a.plan === b.plan &&
    a.status === b.status &&
    a.schemaName === b.schemaName &&
    a.cluster === b.cluster &&
    JSON.stringify(a.limitOverrides ?? null) === JSON.stringify(b.limitOverrides ?? null)
  );
}
