import { Process, Processor } from '@nestjs/bull';
import { Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Job } from 'bull';
import { DataSource } from 'typeorm';
import { TenantJobs, type TenantJobPolicy } from '../common/tenant-job';
import {
  CertificateRefused,
  DomainCertificates,
  TenantNotReadyYet,
} from './domain-certificates.service';
import { DomainVerifier } from './domain-verifier.service';
import {
  DomainsQueue,
  DOMAINS_QUEUE,
  ISSUE_DOMAIN_CERTIFICATE_JOB,
  VERIFY_DOMAIN_JOB,
  type DomainJob,
} from './domains.queue';

const CONCURRENCY = 4;
const TENANT_NOT_READY_DELAY_MS = 5_000;

/**
 * Verification is DNS lookups only, harmless for a tenant still onboarding or whose onboarding
 * failed (a retry may finish it). A suspended or deleted tenant's domain is not checked: the
 * chain stops, the reason is recorded on the domain, and ops check again after a resume.
 */
export const VERIFY_DOMAIN_POLICY: TenantJobPolicy = {
  job: VERIFY_DOMAIN_JOB,
  runsFor: ['provisioning', 'failed', 'active'],
};

/**
 * An ACME order spends the platform's budget with the CA: only for a tenant that is active, or
 * about to be (the job waits for onboarding to end). A suspended tenant gets no new order and
 * no renewal; its domain is marked with the reason (an active one keeps its current
 * certificate, and the next renewal round after a resume queues it again).
 */
export const ISSUE_DOMAIN_CERTIFICATE_POLICY: TenantJobPolicy = {
  job: ISSUE_DOMAIN_CERTIFICATE_JOB,
  runsFor: ['provisioning', 'active'],
};

@Processor(DOMAINS_QUEUE)
export class CustomDomainsProcessor {
  private readonly logger = new Logger(CustomDomainsProcessor.name);

  constructor(
    private readonly verifier: DomainVerifier,
    private readonly certificates: DomainCertificates,
    private readonly queue: DomainsQueue,
    private readonly jobs: TenantJobs,
    @InjectDataSource() private readonly registry: DataSource,
  ) {}

  @Process({ name: VERIFY_DOMAIN_JOB, concurrency: CONCURRENCY })
  async verify(job: Job<DomainJob>): Promise<void> {
    const { domainId, check } = job.data;
    const tenantId = await this.tenantOf(job.data);
    if (!tenantId) return;
    const outcome = await this.jobs.run(VERIFY_DOMAIN_POLICY, tenantId, () =>
      this.verifier.check(domainId, tenantId, check ?? 0),
    );
    if (!outcome.ran) {
      await this.verifier.stop(domainId, tenantId, `verification stopped: ${outcome.reason}`);
    }
  }

  @Process({ name: ISSUE_DOMAIN_CERTIFICATE_JOB, concurrency: CONCURRENCY })
  async issue(job: Job<DomainJob>): Promise<void> {
    const { domainId } = job.data;
    const tenantId = await this.tenantOf(job.data);
    if (!tenantId) return;
    try {
      const now = job.data.now === undefined ? undefined : new Date(job.data.now);
      const outcome = await this.jobs.run(ISSUE_DOMAIN_CERTIFICATE_POLICY, tenantId, () =>
        this.certificates.issue(domainId, tenantId, now),
      );
      if (!outcome.ran) {
        await this.certificates.markFailed(
          domainId,
          tenantId,
          `no certificate ordered: ${outcome.reason}`,
        );
      }
    } catch (error) {
      if (error instanceof TenantNotReadyYet) {
        await this.queue.issueCertificateLater(
          { id: domainId, tenantId },
          TENANT_NOT_READY_DELAY_MS,
        );
        return;
      }
      const reason = error instanceof Error ? error.message : String(error);
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (error instanceof CertificateRefused || finalAttempt) {
        await this.certificates.markFailed(domainId, tenantId, reason);
        if (error instanceof CertificateRefused) return;
      }
      throw error;
    }
  }

  /**
   * The job's tenant. Jobs queued before payloads carried it name only the domain: its row says
   * whose it is, and a removed row (the tenant was deleted, or the domain removed) leaves
   * nothing to do.
   */
  private async tenantOf(job: DomainJob): Promise<string | null> {
    if (job.tenantId) return job.tenantId;
    const [row] = await this.registry.query<{ tenant_id: string }[]>(
      'SELECT tenant_id FROM platform.tenant_domains WHERE id = $1',
      [job.domainId],
    );
    if (!row) {
      this.logger.log({ domainId: job.domainId }, 'domain job for a removed domain: nothing to do');
    }
    return row?.tenant_id ?? null;
  }
}
