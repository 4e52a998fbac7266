import { InjectQueue } from '@nestjs/bull';
import { Inject, Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';

export const PROVISIONING_QUEUE = 'provisioning';
export const PROVISION_TENANT_JOB = 'provision-tenant';

/** Jobs carry the tenant id only; the processor re-reads everything else from the registry. */
export interface ProvisionTenantJob {
  readonly tenantId: string;
}

@Injectable()
export class ProvisioningQueue {
  constructor(
    @InjectQueue(PROVISIONING_QUEUE) private readonly queue: Queue<ProvisionTenantJob>,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  /**
   * One job per tenant at a time: the job id is the tenant's, so adding it twice while it waits
   * or runs is a no-op. Finished jobs are removed (the registry keeps the record), which lets a
   * retry enqueue the same id again.
   */
  async enqueue(tenantId: string): Promise<void> {
    await this.queue.add(
      PROVISION_TENANT_JOB,
      { tenantId },
      {
        jobId: `provision:${tenantId}`,
        attempts: this.config.provisioning.attempts,
        backoff: { type: 'exponential', delay: this.config.provisioning.backoffMs },
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }
}
