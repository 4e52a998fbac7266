import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantRegistry } from '../tenants/tenant-registry.service';

/**
 * A certificate as operators see it: what it covers, where it stands and when it expires.
 * Never the key (`private_key_encrypted`) nor the PEM: a listing has no use for either.
 */
export interface CertificateView {
  readonly id: string;
  /** `platform`: the shared `*.<platform domain>` wildcard; `custom-domain`: the tenant's own. */
  readonly scope: 'platform' | 'custom-domain';
  readonly subject: string;
  readonly names: string[];
  readonly status: 'ordering' | 'issued' | 'failed';
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
  readonly lastError: string | null;
  readonly updatedAt: Date;
}

/**
 * Reads the certificates that serve one tenant: its custom domains' certificates and the
 * platform wildcard that covers its subdomain. Per subject and status only the newest row
 * (renewals leave `replaced` rows and retries can leave several `failed` ones behind).
 */
@Injectable()
export class TenantCertificates {
  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly tenants: TenantRegistry,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async list(idOrSlug: string): Promise<CertificateView[]> {
    const tenant = await this.tenants.find(idOrSlug);
    return this.registry.query<CertificateView[]>(
      `SELECT DISTINCT ON (subject, status)
              id, CASE WHEN tenant_id IS NULL THEN 'platform' ELSE 'custom-domain' END AS scope,
              subject, names, status, not_before AS "notBefore", not_after AS "notAfter",
              last_error AS "lastError", updated_at AS "updatedAt"
         FROM platform.certificates
        WHERE status <> 'replaced'
          AND (tenant_id = $1 OR (tenant_id IS NULL AND subject = $2))
        ORDER BY subject, status, updated_at DESC`,
      [tenant.id, `*.${this.config.platformDomain}`],
    );
  }
}
