import { LRUCache } from 'lru-cache';
import type { ResolvedTenant } from '@platform/tenancy';
import { spreadTtl } from '../common/spread-ttl';

/** A cached answer for one hostname: the tenant, or "no tenant here" (remembered briefly). */
type CachedLookup = { readonly tenant: ResolvedTenant } | { readonly tenant: null };

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
  private readonly entries: LRUCache<string, CachedLookup>;

  constructor(private readonly settings: TenantHostCacheSettings) {
    this.entries = new LRUCache<string, CachedLookup>({ max: settings.size, ttl: settings.ttlMs });
  }

  get(hostname: string): CachedLookup | undefined {
    return this.entries.get(hostname);
  }

  remember(hostname: string, tenant: ResolvedTenant | null): void {
    if (tenant) {
      this.entries.set(hostname, { tenant }, { ttl: spreadTtl(this.settings.ttlMs) });
    } else if (this.settings.unknownHostTtlMs > 0) {
      this.entries.set(hostname, { tenant: null }, { ttl: this.settings.unknownHostTtlMs });
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
