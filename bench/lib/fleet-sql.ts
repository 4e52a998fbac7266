/**
 * The bench's own SQL around fleet runs: bigger tables in a sample of tenants, a look at what
 * the schemas physically contain (independently of any history table), repairs after an
 * interrupted run, and the floor: the same DDL as template migration 4, schema by schema, in
 * one session.
 */
import { Client, type Pool } from 'pg';
import { quoteTenantSchema } from '@platform/tenancy';
import { BENCH_SLUG_PATTERN } from './bench-settings';
import { mapLimit } from './concurrency';
import type { BenchTenant } from './tenant-fleet';

const TOP_UP_CONCURRENCY = 4;
const REPAIR_CONCURRENCY = 4;
/** The table the naive loop keeps inside each sample schema (TypeORM's own history format). */
export const NAIVE_HISTORY_TABLE = 'typeorm_migrations';

export interface PhysicalState {
  /** Tenant schemas whose `projects` has the column migration 4 adds. */
  readonly withArchivedAt: string[];
  /** Tenant schemas with the partial index migration 4 adds. */
  readonly withActiveIndex: string[];
  /** Tenant schemas still holding the naive loop's history table. */
  readonly withNaiveHistory: string[];
}

/**
 * Gives each of `tenants` `rows` projects rows in all, once: a second call inserts nothing.
 * The rows are older than the 20 seeded ones, so the data-plane bench's first page is unchanged.
 */
export async function topUpProjects(
  pool: Pool,
  tenants: readonly BenchTenant[],
  rows: number,
): Promise<number> {
  let inserted = 0;
  await mapLimit(tenants, TOP_UP_CONCURRENCY, async (tenant) => {
    if (!BENCH_SLUG_PATTERN.test(tenant.slug)) throw new Error(`unexpected slug ${tenant.slug}`);
    const schema = quoteTenantSchema(tenant.schemaName);
    const result = await pool.query(
      `INSERT INTO ${schema}.projects (name, description, created_at)
       SELECT 'Bulk project ' || n || ' of ${tenant.slug}', 'Fleet benchmark row ' || n,
              now() - interval '30 days' - n * interval '1 second'
         FROM generate_series(1, greatest(0, $1 - (SELECT count(*) FROM ${schema}.projects))) AS n`,
      [rows],
    );
    inserted += result.rowCount ?? 0;
  });
  return inserted;
}

/**
 * One catalog query per object kind; no history table is consulted. The schema name comes from
 * `relnamespace::regnamespace` rather than a join with pg_namespace: with 10,000 schemas the
 * catalogs' statistics are stale and the planner picks a nested loop that takes minutes.
 */
export async function physicalState(pool: Pool): Promise<PhysicalState> {
  const names = async (sql: string) =>
    (await pool.query<{ schema: string }>(sql)).rows.map((row) => row.schema);
  const schema = 'c.relnamespace::regnamespace::text';
  const tenantSchema = `${schema} ~ '^t_[0-9a-f]{32}$'`;
  return {
    withArchivedAt: await names(
      `SELECT ${schema} AS schema FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relname = 'projects' AND c.relkind = 'r' AND ${tenantSchema}
          AND a.attname = 'archived_at' AND NOT a.attisdropped`,
    ),
    withActiveIndex: await names(
      `SELECT ${schema} AS schema FROM pg_class c
        WHERE c.relname = 'projects_active_idx' AND c.relkind = 'i' AND ${tenantSchema}`,
    ),
    withNaiveHistory: await names(
      `SELECT ${schema} AS schema FROM pg_class c
        WHERE c.relname = '${NAIVE_HISTORY_TABLE}' AND c.relkind = 'r' AND ${tenantSchema}`,
    ),
  };
}

/**
 * Takes the migration-4 objects out of schemas whose own history says version 3, and drops
 * leftover naive history tables: what a floor or naive phase leaves when it is interrupted.
 * Never used on schemas whose history records version 4 (the caller checks).
 */
export async function repairSchemas(
  pool: Pool,
  v4ObjectsWithoutHistory: readonly string[],
  naiveHistory: readonly string[],
): Promise<void> {
  await mapLimit(v4ObjectsWithoutHistory, REPAIR_CONCURRENCY, async (schemaName) => {
    const schema = quoteTenantSchema(schemaName);
    await pool.query(
      `DROP INDEX IF EXISTS ${schema}.projects_active_idx;
       ALTER TABLE ${schema}.projects DROP COLUMN IF EXISTS archived_at`,
    );
  });
  await mapLimit(naiveHistory, REPAIR_CONCURRENCY, async (schemaName) => {
    await pool.query(
      `DROP TABLE IF EXISTS ${quoteTenantSchema(schemaName)}.${NAIVE_HISTORY_TABLE}`,
    );
  });
}

export interface SqlPass {
  readonly direction: 'up' | 'down';
  readonly schemas: number;
  readonly seconds: number;
  readonly perSchemaMs: number[];
}

/**
 * The floor: migration 4's two statements (or its `down`), one schema after the other, on one
 * connection, one round trip and one implicit transaction (one commit) per schema. Nothing
 * else: no history row, no lock, no version check.
 */
export async function sqlFloorPass(
  databaseUrl: string,
  schemaNames: readonly string[],
  direction: 'up' | 'down',
): Promise<SqlPass> {
  const statements = schemaNames.map((schemaName) => {
    const schema = quoteTenantSchema(schemaName);
    return direction === 'up'
      ? `ALTER TABLE ${schema}.projects ADD COLUMN archived_at timestamptz;
         CREATE INDEX projects_active_idx ON ${schema}.projects (created_at DESC, id)
          WHERE archived_at IS NULL`
      : `DROP INDEX ${schema}.projects_active_idx;
         ALTER TABLE ${schema}.projects DROP COLUMN archived_at`;
  });
  const client = new Client({ connectionString: databaseUrl, application_name: 'bench-sql-floor' });
  await client.connect();
  try {
    const perSchemaMs: number[] = [];
    const started = performance.now();
    for (const sql of statements) {
      const before = performance.now();
      await client.query(sql);
      perSchemaMs.push(performance.now() - before);
    }
    const seconds = (performance.now() - started) / 1000;
    return { direction, schemas: schemaNames.length, seconds, perSchemaMs };
  } finally {
    await client.end();
  }
}
