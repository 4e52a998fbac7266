import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';

export const DOMAINS_QUEUE = 'custom-domains';
export const VERIFY_DOMAIN_JOB = 'verify-domain';
export const ISSUE_DOMAIN_CERTIFICATE_JOB = 'issue-domain-certificate';

/** Jobs carry the domain's id only; the processor re-reads the row (and its tenant). */
export interface DomainJob {
  readonly domainId: string;
  /** Verification: which check of the chain this is (the delay before the next doubles). */
  readonly check?: number;
  /** Issuance: the renewal round's clock (ISO), to judge the current certificate by. */
  readonly now?: string;
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
  async verify(domainId: string, check = 0, deadline?: Date): Promise<void> {
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
      { domainId, check },
      {
        jobId: `verify:${domainId}:${check}:${Date.now()}`,
        delay,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** `now`: when a renewal round found the certificate due (default: judged when it runs). */
  async issueCertificate(domainId: string, now?: Date): Promise<void> {
    await this.queue.add(
      ISSUE_DOMAIN_CERTIFICATE_JOB,
      { domainId, ...(now && { now: now.toISOString() }) },
      {
        jobId: `certificate:${domainId}`,
        attempts: this.config.provisioning.attempts,
        backoff: { type: 'exponential', delay: this.config.provisioning.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /** Issuance again after `delayMs` (a separate job: the running one holds the plain id). */
  async issueCertificateLater(domainId: string, delayMs: number): Promise<void> {
    await this.queue.add(
      ISSUE_DOMAIN_CERTIFICATE_JOB,
      { domainId },
      {
        jobId: `certificate:${domainId}:after:${Date.now()}`,
        delay: delayMs,
        attempts: this.config.provisioning.attempts,
        backoff: { type: 'exponential', delay: this.config.provisioning.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }
}
