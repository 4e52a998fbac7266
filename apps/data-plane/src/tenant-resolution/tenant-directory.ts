import { Injectable } from '@nestjs/common';
import { ClusterConnections, PLATFORM_SCHEMA } from '@platform/database';
import type { LimitOverrides, ResolvedTenant, TenantStatus } from '@platform/tenancy';

interface TenantRow {
  id: string;
  slug: string;
  name: string;
  plan: string;
  status: TenantStatus;
  schema_name: string;
  cluster: string;
  /** jsonb, parsed by pg; `effectiveLimits` ignores names and values it does not know. */
  limit_overrides: LimitOverrides;
}

/** Reads the platform registry (on the main cluster) for host resolution. One query per miss. */
@Injectable()
export class TenantDirectory {
  constructor(private readonly clusters: ClusterConnections) {}

  async findByHostname(hostname: string): Promise<ResolvedTenant | null> {
    const { rows } = await this.clusters.pool('main').query<TenantRow>(
      `SELECT t.id, t.slug, t.name, t.plan, t.status, t.schema_name, t.cluster,
              t.limit_overrides
         FROM ${PLATFORM_SCHEMA}.tenant_domains d
         JOIN ${PLATFORM_SCHEMA}.tenants t ON t.id = d.tenant_id
        WHERE d.hostname = $1 AND d.status = 'active' AND t.status <> 'deleted'`,
      [hostname],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      slug: row.slug,
      name: row.name,
      plan: row.plan,
      status: row.status,
      schemaName: row.schema_name,
      cluster: row.cluster,
      limitOverrides: row.limit_overrides,
    };
  }
}
