import type { SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';

/** A loaded certificate, or "no certificate for this name" (remembered briefly). */
export type CachedCertificate =
  | {
      readonly context: SecureContext;
      readonly certificateId: string;
      /** Null for the platform wildcard, which is no tenant's. */
      readonly tenantId: string | null;
    }
  | { readonly context: null };

export interface SecureContextCacheSettings {
  readonly size: number;
  readonly ttlMs: number;
  /** 0: a name without a certificate is looked up again on every handshake. */
  readonly missingTtlMs: number;
}

/**
 * Certificate subject (`*.<platform domain>` or a custom hostname) → TLS context, bounded in
 * entries and age. Keyed by subject rather than SNI name, so every platform subdomain shares
 * one wildcard context. Each entry carries its tenant, so a tenant's change drops all of its
 * certificates, including ones for hostnames the event no longer lists.
 */
export class SecureContextCache {
  private readonly entries: LRUCache<string, CachedCertificate>;

  constructor(private readonly settings: SecureContextCacheSettings) {
    this.entries = new LRUCache<string, CachedCertificate>({
      max: settings.size,
      ttl: settings.ttlMs,
    });
  }

  get(subject: string): CachedCertificate | undefined {
    return this.entries.get(subject);
  }

  remember(subject: string, certificate: CachedCertificate): void {
    if (certificate.context) {
      this.entries.set(subject, certificate);
    } else if (this.settings.missingTtlMs > 0) {
      this.entries.set(subject, certificate, { ttl: this.settings.missingTtlMs });
    }
  }

  /** `hostnames` may name the wildcard subject itself, to drop it after a renewal. */
  forgetTenant(tenantId: string, hostnames: readonly string[]): void {
    for (const hostname of hostnames) this.entries.delete(hostname);
    for (const [subject, cached] of this.entries.entries()) {
      // A missing entry may hide a certificate that was just issued.
      if (!cached.context || cached.tenantId === tenantId) this.entries.delete(subject);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
