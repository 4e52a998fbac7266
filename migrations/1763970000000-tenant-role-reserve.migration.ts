import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenant roles are made ahead in batches and dropped in batches (TenantRoleUpkeep), because
 * every role change makes each data-plane backend rebuild its role list. The reserve holds the
 * ids of tenants to come whose role exists on their cluster once `ready`; the retired list holds
 * the roles of deleted tenants that own nothing any more and wait to be dropped.
 */
export class TenantRoleReserve1763970000000 implements MigrationInterface {
  name = 'TenantRoleReserve1763970000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE platform.tenant_role_reserve (
        tenant_id uuid PRIMARY KEY,
        cluster text NOT NULL,
        ready boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE INDEX tenant_role_reserve_claim_idx
        ON platform.tenant_role_reserve (cluster, ready, created_at)`);
    await runner.query(`
      CREATE TABLE platform.retired_tenant_roles (
        role_name text PRIMARY KEY CHECK (role_name ~ '^t_[0-9a-f]{32}$'),
        cluster text NOT NULL,
        retired_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    // Reserved roles stay on their clusters (their comment names the database and tenant id);
    // older code neither uses nor drops them, and they own nothing.
    await runner.query('DROP TABLE platform.retired_tenant_roles');
    await runner.query('DROP TABLE platform.tenant_role_reserve');
  }
}
