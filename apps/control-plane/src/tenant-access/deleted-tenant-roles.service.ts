import { Inject, Injectable } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantRoleBatches, TenantSchemaMigrator, tenantRoleName } from '@platform/database';
import type { TenantRef } from '@platform/tenancy';
import { TenantRoleReserveRepository } from './tenant-role-reserve.repository';

/**
 * Nobody may act as a deleted tenant again. With batched roles (TENANT_ROLE_RESERVE_SIZE > 0)
 * the role is stripped of everything at once and queued, and the worker's TenantRoleUpkeep
 * drops the queued roles together; otherwise it is dropped right away.
 */
@Injectable()
export class DeletedTenantRoles {
  constructor(
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
    private readonly reserve: TenantRoleReserveRepository,
    private readonly batches: TenantRoleBatches,
    private readonly migrator: TenantSchemaMigrator,
  ) {}

  async remove(tenant: TenantRef): Promise<void> {
    if (this.config.integrations.tenantRoleReserve.size === 0) {
      await this.migrator.dropRole(tenant);
      return;
    }
    // Queued first: if stripping fails, the batched drop does it all later.
    await this.reserve.retire(tenantRoleName(tenant), tenant.cluster);
    await this.batches.retire(tenant);
  }
}
