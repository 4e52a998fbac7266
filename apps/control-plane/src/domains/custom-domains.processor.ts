import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
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

@Processor(DOMAINS_QUEUE)
export class CustomDomainsProcessor {
  constructor(
    private readonly verifier: DomainVerifier,
    private readonly certificates: DomainCertificates,
    private readonly queue: DomainsQueue,
  ) {}

  @Process({ name: VERIFY_DOMAIN_JOB, concurrency: CONCURRENCY })
  async verify(job: Job<DomainJob>): Promise<void> {
    await this.verifier.check(job.data.domainId, job.data.check ?? 0);
  }

  @Process({ name: ISSUE_DOMAIN_CERTIFICATE_JOB, concurrency: CONCURRENCY })
  async issue(job: Job<DomainJob>): Promise<void> {
    try {
      const now = job.data.now === undefined ? undefined : new Date(job.data.now);
      await this.certificates.issue(job.data.domainId, now);
    } catch (error) {
      if (error instanceof TenantNotReadyYet) {
        await this.queue.issueCertificateLater(job.data.domainId, TENANT_NOT_READY_DELAY_MS);
        return;
      }
      const reason = error instanceof Error ? error.message : String(error);
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (error instanceof CertificateRefused || finalAttempt) {
        await this.certificates.markFailed(job.data.domainId, reason);
        if (error instanceof CertificateRefused) return;
      }
      throw error;
    }
  }
}
