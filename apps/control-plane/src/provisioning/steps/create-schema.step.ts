import { Injectable } from '@nestjs/common';
import { TenantSchemaMigrator } from '@platform/database';
import type { TenantEntity } from '../../tenants/tenant.entity';
import type { ProvisioningStep } from '../provisioning-step';

/** Already done when the schema exists: CREATE SCHEMA IF NOT EXISTS. */
@Injectable()
export class CreateSchemaStep implements ProvisioningStep {
  readonly name = 'create-schema';

  constructor(private readonly migrator: TenantSchemaMigrator) {}

  async run(tenant: TenantEntity): Promise<void> {
    await this.migrator.createSchema(tenant);
  }
}
