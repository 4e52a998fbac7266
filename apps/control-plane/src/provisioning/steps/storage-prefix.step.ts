import { Inject, Injectable } from '@nestjs/common';
import { OBJECT_STORAGE, type ObjectStorage } from '@platform/storage';
import type { TenantEntity } from '../../tenants/tenant.entity';
import { skipped, type ProvisioningStep } from '../provisioning-step';

/** The object every tenant prefix starts with; its presence is the step's "already done". */
export function storageMarkerKey(tenantId: string): string {
  return `${tenantId}/.tenant.json`;
}

/**
 * Gives the tenant its prefix `{tenantId}/` in the bucket, marked by one object. Already done
 * when the marker exists; a second PUT of the same key would leave one marker anyway. Prefixes
 * use the immutable id, so a slug change never moves files.
 */
@Injectable()
export class StoragePrefixStep implements ProvisioningStep {
  readonly name = 'storage-prefix';

  constructor(@Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage | null) {}

  async run(tenant: TenantEntity) {
    if (!this.storage) return skipped('object storage is off (STORAGE_PROVIDER=none)');
    const key = storageMarkerKey(tenant.id);
    if (await this.storage.headObject(key)) return;
    await this.storage.putObject(
      key,
      JSON.stringify({ tenantId: tenant.id, schema: tenant.schemaName, createdAt: new Date() }),
      { contentType: 'application/json', metadata: { 'tenant-id': tenant.id } },
    );
  }
}
