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
    // The step's own record turns `succeeded` in the same statement as the tenant turns
    // `active`: recorded after the work (as every other step is), anyone reading the tenant in
    // between, the console included, would see it active while its activation still runs.
    // The runner records the attempt's start while the step works; should that land after
    // this, it finds the record done and leaves it, so the attempt is counted here instead.
    // The runner's own record, which follows, leaves this one as it is.
    await this.registry.query(
      `WITH activated AS (
         UPDATE platform.tenants
            SET status = 'active', status_reason = NULL, activated_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'provisioning'
          RETURNING id
       )
       UPDATE platform.provisioning_steps
          SET status = 'succeeded', last_error = NULL, finished_at = now(),
              attempts = CASE WHEN status = 'running' THEN attempts ELSE attempts + 1 END,
              started_at = CASE WHEN status = 'running' THEN started_at ELSE now() END,
              duration_ms = CASE WHEN status = 'running'
                THEN GREATEST(0, round(extract(epoch FROM now() - started_at) * 1000))
                ELSE 0 END
        WHERE tenant_id = $1 AND step = $2 AND EXISTS (SELECT 1 FROM activated)`,
      [tenant.id, this.name],
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
