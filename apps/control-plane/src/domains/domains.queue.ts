import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';

export const DOMAINS_QUEUE = 'custom-domains';
export const VERIFY_DOMAIN_JOB = 'verify-domain';
export const ISSUE_DOMAIN_CERTIFICATE_JOB = 'issue-domain-certificate';

/**
 * Jobs carry ids only: the domain's, and its tenant's. The tenant id is what the job checks
 * before anything else (a deleted tenant's domain rows are gone, so the domain alone could not
 * say whose job it was) and the context it runs in; the processor re-reads the rows.
 */
export interface DomainJob {
  readonly domainId: string;
  /** Optional only for jobs queued before it was added; the processor then reads the row. */
  readonly tenantId?: string;
  /** Verification: which check of the chain this is (the delay before the next doubles). */
  readonly check?: number;
  /** Issuance: the renewal round's clock (ISO), to judge the current certificate by. */
  readonly now?: string;
}

/** The ids a domain job carries (a domain row or its view has both). */
export interface DomainRef {
  readonly id: string;
  readonly tenantId: string;
}

const MAX_RETRY_DELAY_MS = 3_600_000;

/**
 * Verification is a chain of delayed checks (each job schedules the next, doubling the delay up
 * to an hour, until the domain's window closes); issuance is one job with Bull's retries. Job
 * ids carry the domain and the attempt, so a duplicate enqueue is a no-op.
 */
@Injectable()
export class DomainsQueue {
  constructor(
    @InjectQueue(DOMAINS_QUEUE) private readonly queue: Queue<DomainJob>,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /** Check number `check` (0 = now); never scheduled past `deadline`, when the window closes. */
  async verify(domain: DomainRef, check = 0, deadline?: Date): Promise<void> {
    const backoff =
      check === 0
        ? 0
        : Math.min(
            this.config.integrations.customDomains.verifyRetryMs * 2 ** (check - 1),
            MAX_RETRY_DELAY_MS,
          );
    const delay = deadline
      ? Math.min(backoff, Math.max(0, deadline.getTime() - Date.now()))
      : backoff;
    await this.queue.add(
      VERIFY_DOMAIN_JOB,
      { domainId: domain.id, tenantId: domain.tenantId, check },
      {
        jobId: `verify:${domain.id}:${check}:${Date.now()}`,
        delay,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** `now`: when a renewal round found the certificate due (default: judged when it runs). */
  async issueCertificate(domain: DomainRef, now?: Date): Promise<void> {
    await this.queue.add(
      ISSUE_DOMAIN_CERTIFICATE_JOB,
      { domainId: domain.id, tenantId: domain.tenantId, ...(now && { now: now.toISOString() }) },
      {
        jobId: `certificate:${domain.id}`,
        attempts: this.config.provisioning.attempts,
        backoff: { type: 'exponential', delay: this.config.provisioning.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Issuance again after `delayMs` (a separate job: the running one holds the plain id). */
  async issueCertificateLater(domain: DomainRef, delayMs: number): Promise<void> {
    await this.queue.add(
      ISSUE_DOMAIN_CERTIFICATE_JOB,
      { domainId: domain.id, tenantId: domain.tenantId },
      {
        jobId: `certificate:${domain.id}:after:${Date.now()}`,
        delay: delayMs,
        attempts: this.config.provisioning.attempts,
        backoff: { type: 'exponential', delay: this.config.provisioning.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }
}
