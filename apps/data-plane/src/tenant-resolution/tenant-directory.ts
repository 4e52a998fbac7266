import { Injectable } from '@nestjs/common';
import { ClusterConnections, PLATFORM_SCHEMA } from '@platform/database';
import type { LimitOverrides, ResolvedTenant, TenantStatus } from '@platform/tenancy';

interface TenantRow {
  hostname: string;
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

/** Reads the platform registry (on the main cluster) for host resolution. */
@Injectable()
export class TenantDirectory {
  constructor(private readonly clusters: ClusterConnections) {}

  async findByHostname(hostname: string): Promise<ResolvedTenant | null> {
    return (await this.findByHostnames([hostname])).get(hostname) ?? null;
  }

  /**
   * The tenants of many hostnames in one query (the background re-reads of cached hosts come
   * in batches). A hostname with no active domain of a live tenant is absent from the map.
   */
  async findByHostnames(hostnames: readonly string[]): Promise<Map<string, ResolvedTenant>> {
    const { rows } = await this.clusters.pool('main').query<TenantRow>(
      `SELECT d.hostname, t.id, t.slug, t.name, t.plan, t.status, t.schema_name, t.cluster,
              t.limit_overrides
         FROM ${PLATFORM_SCHEMA}.tenant_domains d
         JOIN ${PLATFORM_SCHEMA}.tenants t ON t.id = d.tenant_id
        WHERE d.hostname = ANY($1::text[]) AND d.status = 'active' AND t.status <> 'deleted'`,
      [hostnames],
    );
    return new Map(
      rows.map((row) => [
        row.hostname,
        {
          id: row.id,
          slug: row.slug,
          name: row.name,
          plan: row.plan,
          status: row.status,
          schemaName: row.schema_name,
          cluster: row.cluster,
          limitOverrides: row.limit_overrides,
        },
      ]),
    );
  }
}
