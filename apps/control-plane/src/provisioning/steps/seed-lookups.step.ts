import { Injectable } from '@nestjs/common';
import { TenantTransactionRunner } from '@platform/database';
import { TENANT_TEMPLATE_SEEDS } from '@platform/tenant-template';
import type { ProvisioningStep } from '../provisioning-step';

/** Already done when the rows exist: every seed inserts with ON CONFLICT DO NOTHING. */
@Injectable()
export class SeedLookupsStep implements ProvisioningStep {
  readonly name = 'seed-lookups';

  constructor(private readonly database: TenantTransactionRunner) {}

  async run(): Promise<void> {
    await this.database.run(async (tx) => {
      for (const seed of TENANT_TEMPLATE_SEEDS)
        await seed.run((sql, params) => tx.query(sql, params));
    });
  }
}
