/**
 * Told to every replica when something a host lookup depends on changes: a tenant's status,
 * its domains, its deletion. Carries ids only; receivers re-read the registry.
 */
export interface TenantChangedEvent {
  readonly type: 'tenant-changed';
  readonly tenantId: string;
  /** Hostnames the tenant had before the change (a removed domain must be forgotten too). */
  readonly hostnames: readonly string[];
}

/** The subscription was (re)established: anything may have been missed, forget everything. */
export interface ResyncEvent {
  readonly type: 'resync';
}

export type TenantEvent = TenantChangedEvent | ResyncEvent;

export function parseTenantChangedEvent(raw: string): TenantChangedEvent | null {
  try {
    const value = JSON.parse(raw) as Partial<TenantChangedEvent>;
    if (
      value.type === 'tenant-changed' &&
      typeof value.tenantId === 'string' &&
      Array.isArray(value.hostnames) &&
      value.hostnames.every((hostname) => typeof hostname === 'string')
    ) {
      return { type: value.type, tenantId: value.tenantId, hostnames: value.hostnames };
    }
  } catch {
    // A malformed message is dropped; the cache TTL bounds what it could have fixed.
  }
  return null;
}
