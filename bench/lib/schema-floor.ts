/**
 * The SQL floor of a cold schema: the tenant template's own statements (CREATE SCHEMA, every
 * migration's `up`, every seed) in ONE transaction on a plain pg connection, one commit, no
 * registry records, no history table, no version checks. What the cold path costs above this is
 * the saga's bookkeeping and its extra round trips and commits; the floor itself is PostgreSQL
 * creating ~30 relations and their catalog rows.
 *
 * Floor schemas are named `bench_floor_...` (never a tenant's `t_<id>`) and dropped by
 * `dropFloorSchemas`.
 */
import type { Pool } from 'pg';
import type { QueryRunner } from 'typeorm';
import { TENANT_TEMPLATE_MIGRATIONS, TENANT_TEMPLATE_SEEDS } from '@platform/tenant-template';

export const FLOOR_SCHEMA_PREFIX = 'bench_floor_';
const SAFE_NAME = /^bench_floor_[a-z0-9_]{1,40}$/;

export async function sqlFloorOnce(pool: Pool, schemaName: string): Promise<number> {
  if (!SAFE_NAME.test(schemaName)) throw new Error(`bad floor schema name ${schemaName}`);
  const client = await pool.connect();
  try {
    const query = async (sql: string, params?: unknown[]): Promise<unknown[]> =>
      (await client.query<Record<string, unknown>>(sql, params)).rows;
    const started = performance.now();
    await runTemplateOnce(query, schemaName);
    return performance.now() - started;
  } finally {
    client.release();
  }
}

/** A statement runner: the floor's plain one, or one that times each statement. */
export type TemplateQuery = (sql: string, params?: unknown[]) => Promise<unknown[]>;

/**
 * The floor's statements through `query`, on one connection: BEGIN, CREATE SCHEMA, the search
 * path, every migration's `up`, every seed, COMMIT (ROLLBACK on failure). `schemaName` must be
 * a plain lower-case identifier; the caller checks it.
 */
export async function runTemplateOnce(query: TemplateQuery, schemaName: string): Promise<void> {
  // The template's migrations only call runner.query(); nothing else of a QueryRunner.
  const runner = { query } as unknown as QueryRunner;
  await query('BEGIN');
  try {
    await query(`CREATE SCHEMA "${schemaName}"`);
    await query(`SELECT set_config('search_path', $1, true)`, [`"${schemaName}"`]);
    for (const migration of TENANT_TEMPLATE_MIGRATIONS) await migration.up(runner);
    for (const seed of TENANT_TEMPLATE_SEEDS) await seed.run(query);
    await query('COMMIT');
  } catch (error) {
    await query('ROLLBACK');
    throw error;
  }
}

export async function dropFloorSchemas(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`,
    [FLOOR_SCHEMA_PREFIX],
  );
  for (const { nspname } of rows) {
    if (!SAFE_NAME.test(nspname)) continue;
    await pool.query(`DROP SCHEMA "${nspname}" CASCADE`);
  }
  return rows.length;
}
