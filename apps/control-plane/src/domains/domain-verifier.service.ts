import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantDomainEntity } from '../tenants/tenant-domain.entity';
import { TenantEntity } from '../tenants/tenant.entity';
import { DomainRecordsLookup } from './domain-records.lookup';
import { judgeDomainRecords } from './domain-verification';
import { DomainsQueue } from './domains.queue';

/**
 * One verification check of a custom domain. Records what it saw; on success the domain is
 * `verified` and a certificate is ordered; on failure it checks again later with a growing
 * delay until the window closes, then it is `verification_failed` with the last reason. No
 * ACME order is placed for a domain that did not verify.
 */
@Injectable()
export class DomainVerifier {
  private readonly logger = new Logger(DomainVerifier.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly lookup: DomainRecordsLookup,
    private readonly queue: DomainsQueue,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /** Runs in the tenant's context (CustomDomainsProcessor); `tenantId` is the job's tenant. */
  async check(domainId: string, tenantId: string, checkNumber: number): Promise<void> {
    const domains = this.registry.getRepository(TenantDomainEntity);
    // Another tenant's domain id in this tenant's job finds nothing: fail closed.
    const domain = await domains.findOneBy({ id: domainId, tenantId });
    // Removed, already verified, or given up on: nothing to do (a duplicate or stale job).
    if (domain?.status !== 'pending_verification' || !domain.verificationToken) return;
    const tenant = await this.registry.getRepository(TenantEntity).findOneBy({ id: tenantId });
    if (!tenant) return;
    const expected = {
      txtName: `${this.config.integrations.customDomains.txtLabel}.${domain.hostname}`,
      txtValue: domain.verificationToken,
      hostname: domain.hostname,
      cnameTarget: `${tenant.slug}.${this.config.platformDomain}`,
    };
    const outcome = judgeDomainRecords(
      await this.lookup.read(expected.txtName, domain.hostname),
      expected,
    );
    if (outcome.verified) {
      await domains.update(
        { id: domain.id, status: 'pending_verification' },
        {
          status: 'verified',
          verificationError: null,
          verifiedAt: new Date(),
          lastCheckedAt: new Date(),
        },
      );
      this.logger.log({ tenantId: tenant.id, hostname: domain.hostname }, 'custom domain verified');
      await this.queue.issueCertificate(domain);
      return;
    }
    const windowClosed = !domain.verifyUntil || domain.verifyUntil.getTime() <= Date.now();
    await domains.update(
      { id: domain.id, status: 'pending_verification' },
      {
        verificationError: outcome.reason,
        lastCheckedAt: new Date(),
        ...(windowClosed && { status: 'verification_failed' as const }),
      },
    );
    if (windowClosed) {
      this.logger.warn(
        { tenantId: tenant.id, hostname: domain.hostname, reason: outcome.reason },
        'custom domain verification failed',
      );
      return;
    }
    await this.queue.verify(domain, checkNumber + 1, domain.verifyUntil ?? undefined);
  }

  /**
   * The tenant may not be checked for now (suspended, deleted): the chain of checks ends here,
   * and the domain, still `pending_verification`, says why. `recheck` starts it again.
   */
  async stop(domainId: string, tenantId: string, reason: string): Promise<void> {
    await this.registry
      .getRepository(TenantDomainEntity)
      .update(
        { id: domainId, tenantId, status: 'pending_verification' },
        { verificationError: reason.slice(0, 2000), lastCheckedAt: new Date() },
      );
  }
}
