import { createSecureContext, type SecureContext } from 'node:tls';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { PrivateKeyCipher } from '@platform/acme';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { normalizeHostname } from '@platform/tenancy';
import type { TenantEvent, TenantEvents } from '@platform/tenant-events';
import { CertificateDirectory, type StoredCertificate } from './certificate-directory';
import { certificateSubjectFor } from './certificate-subject.util';
import { SecureContextCache, type CachedCertificate } from './secure-context-cache';
import { TLS_TENANT_EVENTS } from './tls.tokens';

/**
 * SNI name → the certificate that may answer it, or none. The threat is a handshake that
 * presents one tenant's certificate for a name that is not theirs (or the platform's for a
 * name it does not serve), so the lookup fails closed: a name that does not normalise, a
 * deeper platform subdomain, a custom domain that is not `active` or whose certificate was
 * ordered for another tenant — all get nothing, and the server has no default certificate to
 * fall back on.
 *
 * Contexts are cached per subject and dropped when any replica reports a tenant change (the
 * control plane reports renewals the same way), with `cacheTtlMs` as the backstop for a lost
 * message. Keys are decrypted only to build a context and never logged.
 */
@Injectable()
export class CertificateStore implements OnModuleInit {
  private readonly logger = new Logger(CertificateStore.name);
  private readonly platformDomain: string;
  private readonly cipher: PrivateKeyCipher;
  private readonly cache: SecureContextCache;
  /** Concurrent handshakes for one subject share a single registry query. */
  private readonly inFlight = new Map<string, Promise<CachedCertificate>>();
  /** Bumped by every change event: a load that straddles one is used but not cached. */
  private generation = 0;

  constructor(
    private readonly directory: CertificateDirectory,
    @Inject(TLS_TENANT_EVENTS) private readonly events: TenantEvents,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    if (!config.tls) throw new Error('CertificateStore needs the data plane TLS settings');
    this.platformDomain = config.platformDomain;
    // Fails at startup on a malformed secret, not at the first handshake.
    this.cipher = PrivateKeyCipher.fromSecret(config.tls.certificateKey.reveal());
    this.cache = new SecureContextCache({
      size: config.tenantCache.size,
      ttlMs: config.tls.cacheTtlMs,
      missingTtlMs: config.tenantCache.unknownHostTtlMs,
    });
  }

  async onModuleInit(): Promise<void> {
    await this.events.subscribe((event) => this.onTenantEvent(event));
  }

  /** The context for an SNI name (or a Host), or null when no certificate may answer it. */
  async secureContextFor(serverName: string | undefined): Promise<SecureContext | null> {
    const hostname = normalizeHostname(serverName);
    if (!hostname) return null;
    const match = certificateSubjectFor(hostname, this.platformDomain);
    if (!match) return null;
    const cached = this.cache.get(match.subject);
    if (cached) return cached.context;
    const pending = this.inFlight.get(match.subject);
    if (pending) return (await pending).context;
    const load = this.load(match.kind, match.subject).finally(() => {
      if (this.inFlight.get(match.subject) === load) this.inFlight.delete(match.subject);
    });
    this.inFlight.set(match.subject, load);
    return (await load).context;
  }

  get cachedSubjects(): number {
    return this.cache.size;
  }

  private async load(kind: 'platform' | 'custom', subject: string): Promise<CachedCertificate> {
    const generation = this.generation;
    const stored =
      kind === 'platform'
        ? await this.directory.findPlatformCertificate(subject)
        : await this.directory.findCustomDomainCertificate(subject);
    const certificate: CachedCertificate = stored
      ? {
          context: this.contextOf(stored),
          certificateId: stored.id,
          tenantId: stored.tenantId,
        }
      : { context: null };
    if (generation === this.generation) this.cache.remember(subject, certificate);
    return certificate;
  }

  private contextOf(stored: StoredCertificate): SecureContext {
    try {
      return createSecureContext({
        key: this.cipher.decrypt(stored.privateKeyEncrypted),
        cert: stored.certificatePem,
      });
    } catch (error) {
      // Only the row id and the reason: neither the key nor anything derived from it.
      this.logger.error(
        { certificateId: stored.id, subject: stored.subject, reason: messageOf(error) },
        'stored certificate cannot be loaded; handshakes for it fail',
      );
      throw new Error(`certificate ${stored.id} cannot be loaded`);
    }
  }

  private onTenantEvent(event: TenantEvent): void {
    this.generation++;
    // Handshakes from now on must not join a load that may predate the change.
    this.inFlight.clear();
    if (event.type === 'resync') {
      this.cache.clear();
      return;
    }
    this.logger.debug({ tenantId: event.tenantId }, 'tenant changed; dropping its certificates');
    this.cache.forgetTenant(event.tenantId, event.hostnames);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
