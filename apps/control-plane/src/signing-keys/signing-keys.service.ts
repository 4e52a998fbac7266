import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { AuditLog } from '../audit/audit-log.service';
import { ControlPlaneErrorCode, ControlPlaneException } from '../errors/control-plane.exception';
import { TenantChangeNotifier } from '../tenants/tenant-change.notifier';
import { TenantRegistry } from '../tenants/tenant-registry.service';
import { SigningKeyStore, type SigningKeyView } from './signing-key.store';

export interface RotatedKeys {
  readonly currentKid: string;
  readonly keys: SigningKeyView[];
}

/** Operators' view of a tenant's signing keys, and rotation. */
@Injectable()
export class SigningKeysService {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly store: SigningKeyStore,
    private readonly audit: AuditLog,
    private readonly notifier: TenantChangeNotifier,
    @InjectDataSource() private readonly registryDb: DataSource,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async list(idOrSlug: string): Promise<SigningKeyView[]> {
    const tenant = await this.registry.find(idOrSlug);
    return this.store.list(tenant.id);
  }

  async rotate(idOrSlug: string, actor: string): Promise<RotatedKeys> {
    const tenant = await this.registry.find(idOrSlug);
    if (tenant.status === 'deleted') {
      throw new ControlPlaneException(
        ControlPlaneErrorCode.TenantNotActive,
        'The tenant is deleted: it has no tokens left to sign',
      );
    }
    const overlapSeconds = this.config.signingKeyRotationOverlapSeconds;
    const rotation = await this.registryDb.transaction(async (manager) => {
      const done = await this.store.rotate(manager, tenant.id, overlapSeconds);
      await this.audit.record(manager, {
        actor,
        action: 'tenant.signing-key.rotate',
        tenantId: tenant.id,
        // Key ids only: they travel in every token header anyway; secrets never leave the store.
        details: { overlapSeconds, retiredNow: done.retiredNow },
        before: { currentKid: done.previous?.kid ?? null },
        after: {
          currentKid: done.currentKid,
          previousRetireAt: done.previous?.retireAt.toISOString() ?? null,
        },
      });
      return done;
    });
    // Replicas drop the tenant's cached keys: they sign with the new one from now on.
    await this.notifier.tenantChanged(tenant.id, []);
    return { currentKid: rotation.currentKid, keys: await this.store.list(tenant.id) };
  }
}
