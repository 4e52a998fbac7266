import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isTenantId, runInTenant } from '@platform/tenancy';
import { TenantChangeNotifier } from '../tenants/tenant-change.notifier';
import { TenantEntity } from '../tenants/tenant.entity';
import { ProvisioningPipeline } from './provisioning.pipeline';
import { ProvisioningStepRepository } from './provisioning-step.repository';

export interface ProvisioningAttempt {
  /** On the last attempt a failure marks the tenant `failed`, with the reason, for ops to retry. */
  readonly finalAttempt: boolean;
}

/**
 * Runs the pipeline for one tenant: skips steps already recorded as done, records each step's
 * start, end and error, and re-enters the tenant's context itself (the job carries only an id).
 */
@Injectable()
export class TenantProvisioner {
  private readonly logger = new Logger(TenantProvisioner.name);

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly pipeline: ProvisioningPipeline,
    private readonly records: ProvisioningStepRepository,
    private readonly notifier: TenantChangeNotifier,
  ) {}

  async provision(tenantId: string, attempt: ProvisioningAttempt): Promise<void> {
    // A job without a valid tenant fails closed rather than running "somewhere".
    if (!isTenantId(tenantId)) throw new Error(`Provisioning job has no valid tenant id`);
    const tenant = await this.registry.getRepository(TenantEntity).findOneBy({ id: tenantId });
    if (tenant?.status !== 'provisioning') {
      this.logger.log({ tenantId, status: tenant?.status ?? 'missing' }, 'nothing to provision');
      return;
    }
    await runInTenant(tenant, async () => {
      for (const step of this.pipeline.steps) {
        if (await this.records.isDone(tenantId, step.name)) continue;
        await this.records.started(tenantId, step.name);
        const started = Date.now();
        try {
          await step.run(tenant);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          await this.records.failed(tenantId, step.name, reason, Date.now() - started);
          this.logger.warn({ tenantId, step: step.name, err: error }, 'provisioning step failed');
          if (attempt.finalAttempt) await this.markFailed(tenantId, `${step.name}: ${reason}`);
          throw error;
        }
        await this.records.succeeded(tenantId, step.name, Date.now() - started);
        this.logger.log({ tenantId, step: step.name, ms: Date.now() - started }, 'step done');
      }
    });
  }

  private async markFailed(tenantId: string, reason: string): Promise<void> {
    await this.registry.query(
      `UPDATE platform.tenants SET status = 'failed', status_reason = $2, updated_at = now()
        WHERE id = $1 AND status = 'provisioning'`,
      [tenantId, reason.slice(0, 2000)],
    );
    await this.notifier.tenantChanged(tenantId, []);
  }
}
