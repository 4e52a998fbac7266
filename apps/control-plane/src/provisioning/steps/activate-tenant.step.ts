import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SigningKeyStore } from '../../signing-keys/signing-key.store';
import { TenantChangeNotifier } from '../../tenants/tenant-change.notifier';
import { TenantDomainEntity } from '../../tenants/tenant-domain.entity';
import type { TenantEntity } from '../../tenants/tenant.entity';
import type { ProvisioningStep } from '../provisioning-step';

/**
 * Already done when the tenant is no longer `provisioning`: the update is conditional, so it
 * can neither re-activate a tenant ops suspended or deleted meanwhile nor run twice. The
 * tenant's first token-signing key is created first (idempotently), so no tenant is ever served
 * without one.
 */
@Injectable()
export class ActivateTenantStep implements ProvisioningStep {
  readonly name = 'activate';

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly notifier: TenantChangeNotifier,
    private readonly signingKeys: SigningKeyStore,
  ) {}

  async run(tenant: TenantEntity): Promise<void> {
    await this.signingKeys.ensureKey(tenant.id);
    await this.registry.query(
      `UPDATE platform.tenants
          SET status = 'active', status_reason = NULL, activated_at = now(), updated_at = now()
        WHERE id = $1 AND status = 'provisioning'`,
      [tenant.id],
    );
    const domains = await this.registry
      .getRepository(TenantDomainEntity)
      .findBy({ tenantId: tenant.id });
    // Replicas may have cached "still provisioning" (503) for these hosts.
    await this.notifier.tenantChanged(
      tenant.id,
      domains.map((domain) => domain.hostname),
    );
  }
}
