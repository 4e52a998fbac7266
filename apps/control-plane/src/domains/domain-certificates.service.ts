import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Http01Solver, type Http01ChallengeStore } from '@platform/acme';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { CertificateIssuer } from '../certificates/certificate-issuer.service';
import { HTTP01_CHALLENGE_STORE } from '../integrations/integrations.tokens';
import { TenantChangeNotifier } from '../tenants/tenant-change.notifier';
import { TenantDomainEntity } from '../tenants/tenant-domain.entity';
import { TenantEntity } from '../tenants/tenant.entity';

const WEEK_MS = 7 * 86_400_000;

/** A refusal that retrying cannot cure: the domain is marked `certificate_failed` at once. */
export class CertificateRefused extends Error {}

/** The tenant is still onboarding: ask again a little later. */
export class TenantNotReadyYet extends Error {}

/**
 * Certificates for verified custom domains, by HTTP-01 (the customer's CNAME sends the CA to
 * the data plane, which answers from the shared challenge store). Guards the platform's ACME
 * budget: only verified domains of active tenants, and at most
 * CERTIFICATE_ORDERS_PER_TENANT_PER_WEEK orders per tenant, so one tenant adding and removing
 * domains cannot use up the account's 300 orders per 3 hours or a domain's weekly limit.
 */
@Injectable()
export class DomainCertificates {
  private readonly logger = new Logger(DomainCertificates.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly issuer: CertificateIssuer,
    private readonly notifier: TenantChangeNotifier,
    @Inject(HTTP01_CHALLENGE_STORE) private readonly challenges: Http01ChallengeStore,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /**
   * Issues (or renews) the domain's certificate and activates the domain. `now` is when the
   * current certificate is judged (a renewal round's clock; default: now).
   */
  async issue(domainId: string, tenantId: string, now: Date = new Date()): Promise<void> {
    const domains = this.registry.getRepository(TenantDomainEntity);
    // Runs in the job's tenant context: only that tenant's domain is found (fail closed).
    const domain = await domains.findOneBy({ id: domainId, tenantId });
    if (!domain || domain.kind !== 'custom') return;
    if (!['verified', 'certificate_failed', 'active'].includes(domain.status)) return;
    const tenant = await this.registry.getRepository(TenantEntity).findOneBy({ id: tenantId });
    if (tenant?.status === 'provisioning') {
      // A domain given at creation can verify before onboarding ends: wait, without using up
      // the job's attempts (onboarding may itself be retrying an outside system for minutes).
      throw new TenantNotReadyYet(`tenant ${tenant.slug} is still provisioning`);
    }
    if (tenant?.status !== 'active') {
      throw new CertificateRefused(
        `tenant is ${tenant?.status ?? 'missing'}; certificates are issued for active tenants only`,
      );
    }
    if (!this.issuer.enabled) {
      throw new CertificateRefused('certificates are off (ACME_DIRECTORY_URL unset)');
    }
    // The weekly budget limits new certificates; renewing one the tenant already has is never
    // refused by it (a budget below the domain count would otherwise let certificates expire).
    if (!(await this.issuer.hasCurrent(domain.hostname))) await this.checkBudget(tenant.id);
    await this.issuer.ensure({
      subject: domain.hostname,
      names: [domain.hostname],
      solver: new Http01Solver(this.challenges),
      tenantId: tenant.id,
      now,
    });
    await domains.update(
      { id: domain.id },
      { status: 'active', activatedAt: domain.activatedAt ?? new Date(), verificationError: null },
    );
    // Replicas drop their cached host and certificate, and serve the new one.
    await this.notifier.tenantChanged(tenant.id, [domain.hostname]);
    this.logger.log({ tenantId: tenant.id, hostname: domain.hostname }, 'custom domain active');
  }

  async markFailed(domainId: string, tenantId: string, reason: string): Promise<void> {
    await this.registry.getRepository(TenantDomainEntity).update(
      { id: domainId, tenantId },
      // An active domain keeps serving its (still valid) certificate while renewal retries.
      { verificationError: reason.slice(0, 2000) },
    );
    await this.registry.query(
      `UPDATE platform.tenant_domains SET status = 'certificate_failed'
        WHERE id = $1 AND tenant_id = $2 AND status IN ('verified', 'certificate_failed')`,
      [domainId, tenantId],
    );
  }

  private async checkBudget(tenantId: string): Promise<void> {
    const limit = this.config.integrations.customDomains.certificateOrdersPerWeek;
    const [{ count }] = await this.registry.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM platform.certificates
        WHERE tenant_id = $1 AND created_at > $2`,
      [tenantId, new Date(Date.now() - WEEK_MS)],
    );
    if (count >= limit) {
      throw new CertificateRefused(
        `certificate order budget used up: ${count} of ${limit} orders this week (CERTIFICATE_ORDERS_PER_TENANT_PER_WEEK)`,
      );
    }
  }
}
