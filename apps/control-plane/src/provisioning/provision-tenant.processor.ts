import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import {
  PROVISION_TENANT_JOB,
  PROVISIONING_QUEUE,
  type ProvisionTenantJob,
} from './provisioning.queue';
import { TenantProvisioner } from './tenant-provisioner.service';

/** Tenants provisioned at once per worker process; more workers scale it out. */
const CONCURRENCY = 4;

@Processor(PROVISIONING_QUEUE)
export class ProvisionTenantProcessor {
  constructor(private readonly provisioner: TenantProvisioner) {}

  @Process({ name: PROVISION_TENANT_JOB, concurrency: CONCURRENCY })
  async handle(job: Job<ProvisionTenantJob>): Promise<void> {
    await this.provisioner.provision(job.data.tenantId, {
      finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    });
  }
}
