import { Injectable } from '@nestjs/common';
import { PlatformCertificate } from '../../certificates/platform-certificate.service';
import { skipped, type ProvisioningStep } from '../provisioning-step';

/**
 * Makes sure the platform's wildcard certificate covers the new subdomain. Already done when a
 * current certificate is not yet due for renewal: the first tenant orders it, the rest
 * find it (see PlatformCertificate for why one wildcard and not one per tenant).
 */
@Injectable()
export class CertificateStep implements ProvisioningStep {
  readonly name = 'certificate';

  constructor(private readonly platformCertificate: PlatformCertificate) {}

  async run() {
    if (!this.platformCertificate.enabled) {
      return skipped('certificates are off (ACME_DIRECTORY_URL unset)');
    }
    await this.platformCertificate.ensure();
  }
}
