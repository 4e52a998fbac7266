import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TenantSchemaMigrator } from '@platform/database';
import { TenantEntity } from '../../tenants/tenant.entity';
import type { ProvisioningStep } from '../provisioning-step';

/**
 * Already done when the schema's own history table lists every template migration: the
 * migrator applies only what is missing, under a per-schema lock.
 */
@Injectable()
export class ApplyTemplateStep implements ProvisioningStep {
  readonly name = 'apply-template';

  constructor(
    private readonly migrator: TenantSchemaMigrator,
    @InjectDataSource() private readonly registry: DataSource,
  ) {}

  async run(tenant: TenantEntity): Promise<void> {
    const outcome = await this.migrator.migrate(tenant);
    await this.registry
      .getRepository(TenantEntity)
      .update({ id: tenant.id }, { templateVersion: outcome.toVersion, updatedAt: new Date() });
  }
}
