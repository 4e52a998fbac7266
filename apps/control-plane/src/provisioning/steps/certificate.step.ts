import { Inject, Injectable } from '@nestjs/common';
import { CERTIFICATE_AUTHORITY, type CertificateAuthority } from '@platform/acme';
import { PlatformCertificate } from '../../certificates/platform-certificate.service';
import { skipped, type ProvisioningStep } from '../provisioning-step';

/**
 * Makes sure the platform's wildcard certificate covers the new subdomain. Already done when a
 * current certificate is valid beyond the renewal margin: the first tenant orders it, the rest
 * find it (see PlatformCertificate for why one wildcard and not one per tenant).
 */
@Injectable()
export class CertificateStep implements ProvisioningStep {
  readonly name = 'certificate';

  constructor(
    private readonly platformCertificate: PlatformCertificate,
    @Inject(CERTIFICATE_AUTHORITY) private readonly authority: CertificateAuthority | null,
  ) {}

  async run() {
    if (!this.authority) return skipped('certificates are off (ACME_DIRECTORY_URL unset)');
    await this.platformCertificate.ensure();
  }
}
