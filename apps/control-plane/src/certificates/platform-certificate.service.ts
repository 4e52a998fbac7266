import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CERTIFICATE_AUTHORITY,
  Dns01Solver,
  type CertificateAuthority,
  type PrivateKeyCipher,
} from '@platform/acme';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { DNS_PROVIDER, type DnsProvider } from '@platform/dns';
import { PRIVATE_KEY_CIPHER } from '../integrations/integrations.tokens';
import { CertificateRepository, type StoredCertificate } from './certificate.repository';
import { isDueForRenewal } from './renewal-policy';

/**
 * The platform's wildcard certificate (`*.<platform domain>` and the apex), shared by every
 * tenant subdomain. One certificate instead of one per tenant because of Let's Encrypt's limits:
 * 50 certificates per registered domain per week would cap onboarding at 50 tenants a week, and
 * 300 new orders per account per 3 hours would cap bursts. A wildcard needs DNS-01, which goes
 * through the DNS port. Custom domains get their own certificates (HTTP-01) elsewhere.
 */
@Injectable()
export class PlatformCertificate {
  private readonly logger = new Logger(PlatformCertificate.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly certificates: CertificateRepository,
    @Inject(CERTIFICATE_AUTHORITY) private readonly authority: CertificateAuthority | null,
    @Inject(DNS_PROVIDER) private readonly dns: DnsProvider | null,
    @Inject(PRIVATE_KEY_CIPHER) private readonly cipher: PrivateKeyCipher | null,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  get subject(): string {
    return `*.${this.config.platformDomain}`;
  }

  /**
   * Already done when a current certificate is not yet due for renewal. Otherwise one
   * worker at a time (a session advisory lock, released if the worker dies) orders it, or
   * resumes the order a dead worker recorded, so the CA never sees two orders for it.
   */
  async ensure(): Promise<StoredCertificate> {
    const fresh = await this.freshCertificate();
    if (fresh) return fresh;
    const { authority, dns, cipher } = this.requireIntegrations();
    const runner = this.registry.createQueryRunner();
    await runner.connect();
    const lockKey = `certificate:${this.subject}`;
    try {
      await runner.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey]);
      const issuedMeanwhile = await this.freshCertificate();
      if (issuedMeanwhile) return issuedMeanwhile;
      const names = [this.subject, this.config.platformDomain];
      const pending = await this.certificates.inFlight(this.subject);
      try {
        const issued = await authority.issue({
          names,
          solver: new Dns01Solver(dns),
          ...(pending?.orderUrl && {
            resumeOrderUrl: pending.orderUrl,
            privateKeyPem: cipher.decrypt(pending.privateKeyEncrypted),
          }),
          onOrderCreated: (orderUrl, privateKeyPem) =>
            this.certificates.recordOrder(
              this.subject,
              names,
              orderUrl,
              cipher.encrypt(privateKeyPem),
              null,
            ),
        });
        await this.certificates.recordIssued(this.subject, issued);
        this.logger.log(
          { subject: this.subject, notAfter: issued.notAfter, serial: issued.serialNumber },
          'certificate issued',
        );
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        await this.certificates.recordError(this.subject, reason);
        throw error;
      }
      const current = await this.certificates.current(this.subject);
      if (!current) throw new Error(`certificate for ${this.subject} was not recorded`);
      return current;
    } finally {
      await runner
        .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey])
        .catch(() => undefined);
      await runner.release();
    }
  }

  private async freshCertificate(): Promise<StoredCertificate | null> {
    const current = await this.certificates.current(this.subject);
    return current && !isDueForRenewal(current) ? current : null;
  }

  private requireIntegrations() {
    const { authority, dns, cipher } = this;
    if (!authority || !dns || !cipher) {
      throw new Error(
        'Certificates need ACME_DIRECTORY_URL, DNS_PROVIDER and CERTIFICATE_ENCRYPTION_KEY',
      );
    }
    return { authority, dns, cipher };
  }
}
