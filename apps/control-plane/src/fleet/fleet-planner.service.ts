import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TenantSchemaMigrator } from '@platform/database';
import type { TenantRef } from '@platform/tenancy';

const READ_CONCURRENCY = 8;
const SAMPLE_SIZE = 10;

export interface VersionGroup {
  fromVersion: number;
  tenants: number;
  /** Migrations a run to the target would apply (`up`) or revert (`down`), in order. */
  migrations: { version: number; name: string; direction: 'up' | 'down' }[];
  sampleTenants: string[];
}

export interface FleetPlan {
  targetVersion: number;
  latestVersion: number;
  tenants: number;
  pending: number;
  groups: VersionGroup[];
}

export interface FleetStatus {
  latestVersion: number;
  byVersion: { version: number; status: string; tenants: number }[];
  lastFailures: { tenantId: string; slug: string; runId: string; error: string | null; at: Date }[];
}

/**
 * What a run would do, without doing it: reads each schema's own history (the truth, which the
 * registry only copies) and groups tenants by version. Reads only; changes nothing anywhere.
 */
@Injectable()
export class FleetPlanner {
  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly migrator: TenantSchemaMigrator,
  ) {}

  async plan(targetVersion: number): Promise<FleetPlan> {
    const tenants = await this.registry.query<(TenantRef & { slug: string })[]>(
      `SELECT id, slug, schema_name AS "schemaName", cluster FROM platform.tenants
        WHERE status IN ('active', 'suspended', 'pooled') ORDER BY created_at, id`,
    );
    const versions = await this.readVersions(tenants);
    const groups = new Map<number, VersionGroup>();
    tenants.forEach((tenant, index) => {
      const fromVersion = versions[index];
      const group = groups.get(fromVersion) ?? {
        fromVersion,
        tenants: 0,
        migrations: this.migrator.stepsBetween(fromVersion, targetVersion),
        sampleTenants: [],
      };
      group.tenants += 1;
      if (group.sampleTenants.length < SAMPLE_SIZE) group.sampleTenants.push(tenant.slug);
      groups.set(fromVersion, group);
    });
    const sorted = [...groups.values()].sort((a, b) => a.fromVersion - b.fromVersion);
    return {
      targetVersion,
      latestVersion: this.migrator.latestVersion,
      tenants: tenants.length,
      pending: sorted
        .filter((g) => g.fromVersion !== targetVersion)
        .reduce((n, g) => n + g.tenants, 0),
      groups: sorted,
    };
  }

  async status(): Promise<FleetStatus> {
    const byVersion = await this.registry.query<FleetStatus['byVersion']>(
      `SELECT template_version AS version, status, count(*)::int AS tenants
         FROM platform.tenants WHERE status <> 'deleted'
        GROUP BY template_version, status ORDER BY template_version, status`,
    );
    const lastFailures = await this.registry.query<FleetStatus['lastFailures']>(
      `SELECT DISTINCT ON (r.tenant_id) r.tenant_id AS "tenantId", t.slug, r.run_id AS "runId",
              r.error, r.finished_at AS at
         FROM platform.migration_run_tenants r JOIN platform.tenants t ON t.id = r.tenant_id
        WHERE r.status = 'failed'
          AND NOT EXISTS (SELECT 1 FROM platform.migration_run_tenants later
                           WHERE later.tenant_id = r.tenant_id AND later.status = 'succeeded'
                             AND later.finished_at > r.finished_at)
        ORDER BY r.tenant_id, r.finished_at DESC
        LIMIT 50`,
    );
    return { latestVersion: this.migrator.latestVersion, byVersion, lastFailures };
  }

  private async readVersions(tenants: readonly TenantRef[]): Promise<number[]> {
    const versions = new Array<number>(tenants.length);
    let next = 0;
    const reader = async () => {
      while (next < tenants.length) {
        const index = next++;
        versions[index] = await this.migrator.currentVersion(tenants[index]);
      }
    };
    await Promise.all(Array.from({ length: READ_CONCURRENCY }, reader));
    return versions;
  }
}
