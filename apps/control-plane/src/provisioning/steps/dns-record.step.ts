import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { DNS_PROVIDER, type DnsProvider } from '@platform/dns';
import type { TenantEntity } from '../../tenants/tenant.entity';
import { skipped, type ProvisioningStep } from '../provisioning-step';

/**
 * Points `<slug>.<platform domain>` at the platform (DNS_RECORD_TARGET). An upsert replaces the
 * record set, so running it twice leaves one record set: the step needs no separate check.
 */
@Injectable()
export class DnsRecordStep implements ProvisioningStep {
  readonly name = 'dns-record';

  constructor(
    @Inject(DNS_PROVIDER) private readonly dns: DnsProvider | null,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async run(tenant: TenantEntity) {
    if (!this.dns) return skipped('DNS is off (DNS_PROVIDER=none)');
    const { type, target, ttl } = this.config.integrations.dnsRecord;
    await this.dns.upsertRecordSet({
      name: `${tenant.slug}.${this.config.platformDomain}`,
      type,
      values: [target],
      ttl,
    });
  }
}
