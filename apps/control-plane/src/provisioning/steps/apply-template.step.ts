import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryWithRelaxedCommit, TenantSchemaMigrator } from '@platform/database';
import type { TenantEntity } from '../../tenants/tenant.entity';
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
    // The registry's copy of the version, relaxed: the schema's own history is the truth (the
    // migrator reads it), so a copy lost to a server crash only makes a fleet run look at this
    // schema and find nothing to do.
    await queryWithRelaxedCommit(
      this.registry,
      `UPDATE platform.tenants SET template_version = $2, updated_at = now() WHERE id = $1`,
      [tenant.id, outcome.toVersion],
    );
  }
}
