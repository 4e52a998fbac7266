import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { schemaNameForTenant } from '@platform/tenancy';
import { TenantRoleReserveRepository } from '../tenant-access/tenant-role-reserve.repository';
import { PROVISIONING_STEP_NAMES } from './provisioning.pipeline';

/**
 * Warm-pool schemas are tenant rows without a customer yet: `warming` while their schema is
 * prepared, `pooled` when ready. Being rows of `platform.tenants` (with their own id and
 * `t_<id>` schema) they take part in fleet migrations like any tenant, and claiming one is a
 * single UPDATE: the new tenant simply takes over its id and schema.
 */
@Injectable()
export class WarmPoolRepository {
  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly roleReserve: TenantRoleReserveRepository,
  ) {}

  /**
   * Inside the caller's transaction: takes the oldest ready schema of `cluster` that is at
   * `templateVersion` and locks it, or returns null (the caller provisions cold).
   */
  async claim(manager: EntityManager, cluster: string, templateVersion: number) {
    const [row] = await manager.query<{ id: string }[]>(
      `SELECT id FROM platform.tenants
        WHERE status = 'pooled' AND cluster = $1 AND template_version = $2
        ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [cluster, templateVersion],
    );
    return row?.id ?? null;
  }

  /**
   * Adds `warming` rows until the pool (warming + pooled) of `cluster` holds `size`. The count
   * and the inserts run under one transaction lock, so two workers never overfill it.
   */
  async topUp(cluster: string, size: number): Promise<number> {
    return this.registry.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `warm-pool:${cluster}`,
      ]);
      const [{ count }] = await manager.query<{ count: number }[]>(
        `SELECT count(*)::int AS count FROM platform.tenants
          WHERE status IN ('warming', 'pooled') AND cluster = $1`,
        [cluster],
      );
      const missing = Math.max(0, size - count);
      for (let i = 0; i < missing; i++) await this.insertWarming(manager, cluster);
      return missing;
    });
  }

  async warming(cluster: string): Promise<string[]> {
    const rows = await this.registry.query<{ id: string }[]>(
      `SELECT id FROM platform.tenants WHERE status = 'warming' AND cluster = $1
        ORDER BY created_at`,
      [cluster],
    );
    return rows.map((row) => row.id);
  }

  async counts(): Promise<{ warming: number; pooled: number }> {
    const rows = await this.registry.query<{ status: string; count: number }[]>(
      `SELECT status, count(*)::int AS count FROM platform.tenants
        WHERE status IN ('warming', 'pooled') GROUP BY status`,
    );
    const of = (status: string) => rows.find((row) => row.status === status)?.count ?? 0;
    return { warming: of('warming'), pooled: of('pooled') };
  }

  private async insertWarming(manager: EntityManager, cluster: string): Promise<void> {
    // An id whose role was made ahead, when there is one: a refill then changes no role.
    const id = (await this.roleReserve.claim(manager, cluster)) ?? randomUUID();
    // A placeholder slug no real tenant can have ('~' is outside the slug alphabet), so the
    // unique slug constraint holds; a pool row has no domain and so no host reaches it.
    await manager.query(
      `INSERT INTO platform.tenants
         (id, slug, name, plan, admin_email, status, schema_name, cluster, template_version)
       VALUES ($1, $2, '', 'free', '', 'warming', $3, $4, 0)`,
      [id, `~pool-${id}`, schemaNameForTenant(id), cluster],
    );
    await manager.query(
      `INSERT INTO platform.provisioning_steps (tenant_id, step, position, status, attempts)
       SELECT $1, step, position - 1, 'pending', 0
         FROM unnest($2::text[]) WITH ORDINALITY AS s(step, position)`,
      [id, PROVISIONING_STEP_NAMES],
    );
  }
}
