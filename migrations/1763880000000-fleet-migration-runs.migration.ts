import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Fleet migration runs and each tenant's outcome in them (see apps/control-plane/src/fleet). */
export class FleetMigrationRuns1763880000000 implements MigrationInterface {
  name = 'FleetMigrationRuns1763880000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE platform.migration_runs (
        id uuid PRIMARY KEY,
        target_version integer NOT NULL CHECK (target_version >= 0),
        concurrency integer NOT NULL CHECK (concurrency BETWEEN 1 AND 256),
        -- NULL: carry on whatever fails; N: stop once more than N tenants failed.
        max_failures integer CHECK (max_failures >= 0),
        status text NOT NULL CHECK (status IN
          ('running', 'paused', 'completed', 'failed', 'cancelled')),
        status_reason text,
        -- Bumped by every resume, so a resumed run gets fresh job ids.
        generation integer NOT NULL DEFAULT 0,
        requested_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await runner.query(`
      CREATE TABLE platform.migration_run_tenants (
        run_id uuid NOT NULL REFERENCES platform.migration_runs (id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES platform.tenants (id),
        phase text NOT NULL CHECK (phase IN ('canary', 'main')),
        position integer NOT NULL,
        status text NOT NULL CHECK (status IN
          ('pending', 'running', 'succeeded', 'failed', 'skipped')),
        claimed_by text,
        attempts integer NOT NULL DEFAULT 0,
        from_version integer,
        to_version integer,
        duration_ms integer,
        error text,
        finished_at timestamptz,
        PRIMARY KEY (run_id, tenant_id)
      )`);
    await runner.query(`
      CREATE INDEX migration_run_tenants_claim_idx
        ON platform.migration_run_tenants (run_id, phase, position) WHERE status = 'pending'`);
    await runner.query(`
      CREATE INDEX migration_run_tenants_tenant_idx
        ON platform.migration_run_tenants (tenant_id, finished_at DESC)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE platform.migration_run_tenants');
    await runner.query('DROP TABLE platform.migration_runs');
  }
}
