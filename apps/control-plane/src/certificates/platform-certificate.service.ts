import { Inject, Injectable } from '@nestjs/common';
import { Dns01Solver } from '@platform/acme';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { DNS_PROVIDER, type DnsProvider } from '@platform/dns';
import { CertificateIssuer } from './certificate-issuer.service';
import type { StoredCertificate } from './certificate.repository';

/**
 * The platform's wildcard certificate (`*.<platform domain>` and the apex), shared by every
 * tenant subdomain. One certificate instead of one per tenant because of Let's Encrypt's limits:
 * 50 certificates per registered domain per week would cap onboarding at 50 tenants a week, and
 * 300 new orders per account per 3 hours would cap bursts. A wildcard needs DNS-01, which goes
 * through the DNS port. Custom domains get their own certificates (HTTP-01, DomainCertificates).
 */
@Injectable()
export class PlatformCertificate {
  constructor(
    private readonly issuer: CertificateIssuer,
    @Inject(DNS_PROVIDER) private readonly dns: DnsProvider | null,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  get subject(): string {
    return `*.${this.config.platformDomain}`;
  }

  get enabled(): boolean {
    return this.issuer.enabled && this.dns !== null;
  }

  /** `now`: the moment to judge the current certificate at (the renewal round's clock). */
  async ensure(now?: Date): Promise<StoredCertificate> {
    if (!this.dns) throw new Error('The platform certificate needs a DNS provider (DNS-01)');
    return this.issuer.ensure({
      subject: this.subject,
      names: [this.subject, this.config.platformDomain],
      solver: new Dns01Solver(this.dns),
      tenantId: null,
      now,
    });
  }
}
