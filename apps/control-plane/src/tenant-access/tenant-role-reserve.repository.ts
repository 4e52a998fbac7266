import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { MetricsRegistry } from '@platform/observability';

/**
 * The registry's side of batched tenant roles (see TenantRoleUpkeep): ids of tenants to come
 * whose role is made ahead (`ready` once it exists on the cluster), and roles of deleted
 * tenants waiting to be dropped.
 */
@Injectable()
export class TenantRoleReserveRepository {
  private readonly batching: boolean;
  private readonly misses: Counter;

  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    @Inject(CONTROL_PLANE_CONFIG) config: ControlPlaneConfig,
    metrics: MetricsRegistry,
  ) {
    this.batching = config.integrations.tenantRoleReserve.size > 0;
    this.misses = new Counter({
      name: 'tenant_role_reserve_misses_total',
      help: 'New tenants and warm-pool schemas that found no reserved role and made their own',
      registers: [metrics.registry],
    });
  }

  /**
   * Inside the caller's transaction: takes the oldest ready reserved id of `cluster`, or returns
   * null (the caller makes a new id, and its role is created on its own). SKIP LOCKED: two
   * onboardings never get the same id, and neither waits for the other.
   */
  async claim(manager: EntityManager, cluster: string): Promise<string | null> {
    const [rows] = await manager.query<[{ tenant_id: string }[], number]>(
      `DELETE FROM platform.tenant_role_reserve
        WHERE tenant_id = (SELECT tenant_id FROM platform.tenant_role_reserve
                            WHERE cluster = $1 AND ready
                            ORDER BY created_at, tenant_id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING tenant_id`,
      [cluster],
    );
    const id = rows[0]?.tenant_id ?? null;
    // Each miss is a role change on the cluster, which the reserve is there to avoid.
    if (id === null && this.batching) this.misses.inc();
    return id;
  }

  /**
   * Adds reserved ids until `cluster` holds `size`, but only once at least half of it is gone,
   * so that roles are always made many at a time. Serialised by a transaction lock, so two
   * workers never overfill it. Returns how many it added.
   */
  async topUp(cluster: string, size: number): Promise<number> {
    return this.registry.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `tenant-role-reserve:${cluster}`,
      ]);
      const [{ count }] = await manager.query<{ count: number }[]>(
        'SELECT count(*)::int AS count FROM platform.tenant_role_reserve WHERE cluster = $1',
        [cluster],
      );
      const missing = size - count;
      if (missing < Math.max(1, Math.ceil(size / 2))) return 0;
      const ids = Array.from({ length: missing }, () => randomUUID());
      await manager.query(
        `INSERT INTO platform.tenant_role_reserve (tenant_id, cluster)
         SELECT id, $2 FROM unnest($1::uuid[]) AS s(id)`,
        [ids, cluster],
      );
      return missing;
    });
  }

  /** Reserved ids whose role may not exist yet (just added, or a worker died making them). */
  async unready(cluster: string): Promise<string[]> {
    const rows = await this.registry.query<{ tenant_id: string }[]>(
      `SELECT tenant_id FROM platform.tenant_role_reserve WHERE cluster = $1 AND NOT ready
        ORDER BY created_at, tenant_id`,
      [cluster],
    );
    return rows.map((row) => row.tenant_id);
  }

  async markReady(ids: readonly string[]): Promise<void> {
    await this.registry.query(
      'UPDATE platform.tenant_role_reserve SET ready = true WHERE tenant_id = ANY($1::uuid[])',
      [ids],
    );
  }

  async counts(cluster: string): Promise<{ ready: number; unready: number }> {
    const [row] = await this.registry.query<{ ready: number; unready: number }[]>(
      `SELECT count(*) FILTER (WHERE ready)::int AS ready,
              count(*) FILTER (WHERE NOT ready)::int AS unready
         FROM platform.tenant_role_reserve WHERE cluster = $1`,
      [cluster],
    );
    return row;
  }

  /** Queues a deleted tenant's role for the next batch of drops (a no-op if it is queued). */
  async retire(roleName: string, cluster: string): Promise<void> {
    await this.registry.query(
      `INSERT INTO platform.retired_tenant_roles (role_name, cluster) VALUES ($1, $2)
       ON CONFLICT (role_name) DO NOTHING`,
      [roleName, cluster],
    );
  }

  /**
   * Every cluster with roles waiting to be dropped, and up to `limitPerCluster` of their names
   * (oldest first): a cluster whose queue cannot be dropped never crowds out the others.
   */
  async retired(limitPerCluster: number): Promise<Map<string, string[]>> {
    const rows = await this.registry.query<{ role_name: string; cluster: string }[]>(
      `SELECT role_name, cluster FROM (
         SELECT role_name, cluster, retired_at,
                row_number() OVER (PARTITION BY cluster ORDER BY retired_at, role_name) AS n
           FROM platform.retired_tenant_roles) AS queued
        WHERE n <= $1 ORDER BY retired_at, role_name`,
      [limitPerCluster],
    );
    const byCluster = new Map<string, string[]>();
    for (const row of rows) {
      byCluster.set(row.cluster, [...(byCluster.get(row.cluster) ?? []), row.role_name]);
    }
    return byCluster;
  }

  async retiredCount(): Promise<number> {
    const [row] = await this.registry.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM platform.retired_tenant_roles',
    );
    return row.n;
  }

  async forgetRetired(roleNames: readonly string[]): Promise<void> {
    await this.registry.query(
      'DELETE FROM platform.retired_tenant_roles WHERE role_name = ANY($1::text[])',
      [roleNames],
    );
  }
}
