/**
 * Puts the bench fleet back into the shape provisioning gave it, after the bench's own DDL.
 *
 * `ALTER TABLE ... DROP COLUMN` (migration 4's `down`) only marks the column dropped: it stays
 * in pg_attribute, and in every later tuple descriptor of the table, for good (up to the limit
 * of 1,600 columns). Each up/down cycle of this bench leaves one such column in every tenant's
 * `projects` (7 per bench run), so without this the bench fleet would drift run after run, for
 * this bench and for the data-plane bench that reads the same tables. The only way back is a
 * new table: template migration 2's own DDL, the rows copied over, the old table dropped, per
 * schema in one transaction. That takes ~100 s for 10,000 schemas, so the bench does it once
 * tables carry `BENCH_FLEET_REBUILD_DROPPED` dropped columns (10: every second bench run).
 *
 * The bench's own fleet runs (requested by `bench`) are deleted at the start for the same
 * reason: every run leaves 10,000 rows in platform.migration_run_tenants, and a registry that
 * grows from one bench run to the next makes each slower than the last.
 */
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { TemplateMigration } from '@platform/database';
import { quoteTenantSchema } from '@platform/tenancy';
import { mapLimit } from './concurrency';

const REBUILD_CONCURRENCY = 4;
/** The columns of `projects` at template version 3, in order. */
const PROJECTS_COLUMNS = 'id, name, description, created_by, created_at';
const PROJECTS_MIGRATION = 'CreateProjects0002';

/** Tenant schemas whose `projects` carries at least `minDropped` dropped columns. */
export async function schemasWithDroppedColumns(pool: Pool, minDropped = 1): Promise<string[]> {
  const { rows } = await pool.query<{ schema: string }>(
    `SELECT c.relnamespace::regnamespace::text AS schema
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE c.relname = 'projects' AND c.relkind = 'r' AND a.attisdropped
        AND c.relnamespace::regnamespace::text ~ '^t_[0-9a-f]{32}$'
      GROUP BY 1 HAVING count(*) >= $1`,
    [minDropped],
  );
  return rows.map((row) => row.schema);
}

/** Rebuilds `projects` in each schema (which must be at version 3) from migration 2's DDL. */
export async function rebuildProjectsTables(
  databaseUrl: string,
  schemaNames: readonly string[],
  migrations: readonly TemplateMigration[],
): Promise<void> {
  const createProjects = migrations.find((migration) => migration.name === PROJECTS_MIGRATION);
  if (!createProjects) throw new Error(`no template migration ${PROJECTS_MIGRATION}`);
  const dataSource = new DataSource({
    type: 'postgres',
    url: databaseUrl,
    poolSize: REBUILD_CONCURRENCY,
    logging: false,
    applicationName: 'bench-fleet-rebuild',
  });
  await dataSource.initialize();
  try {
    await mapLimit(schemaNames, REBUILD_CONCURRENCY, async (schemaName) => {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(`SELECT set_config('search_path', $1, true)`, [
          quoteTenantSchema(schemaName),
        ]);
        // Index names are unique per schema: the old ones make way for the template's.
        await runner.query('ALTER TABLE projects RENAME TO projects_before_rebuild');
        await runner.query('ALTER INDEX projects_pkey RENAME TO projects_before_rebuild_pkey');
        await runner.query(
          'ALTER INDEX projects_created_at_idx RENAME TO projects_before_rebuild_created_at_idx',
        );
        await createProjects.up(runner);
        await runner.query(
          `INSERT INTO projects (${PROJECTS_COLUMNS})
           SELECT ${PROJECTS_COLUMNS} FROM projects_before_rebuild`,
        );
        await runner.query('DROP TABLE projects_before_rebuild');
        await runner.commitTransaction();
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        throw error;
      } finally {
        await runner.release();
      }
    });
  } finally {
    await dataSource.destroy();
  }
}

/** Deletes every fleet run `requestedBy` started (their tenant rows go with them), compacted. */
export async function deleteRunHistory(pool: Pool, requestedBy: string): Promise<number> {
  const deleted = await pool.query(`DELETE FROM platform.migration_runs WHERE requested_by = $1`, [
    requestedBy,
  ]);
  await pool.query('VACUUM FULL platform.migration_runs, platform.migration_run_tenants');
  return deleted.rowCount ?? 0;
}
