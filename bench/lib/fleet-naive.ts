/**
 * The naive way to migrate a schema-per-tenant fleet, for comparison: a loop that builds a
 * TypeORM DataSource per schema and calls `runMigrations()` (or `undoLastMigration()`), with
 * the template's own migration classes and TypeORM's own history table inside each schema.
 *
 * Two adjustments TypeORM needs, and nothing more:
 * - its migrations must be classes whose name ends in a 13-digit timestamp, so each template
 *   migration is wrapped in a class named `<name><1700000000000 + version>`;
 * - its `schema` option only qualifies TypeORM's own tables; the template's DDL is unqualified
 *   (`ALTER TABLE projects ...`), so the connection also gets `search_path` from the startup
 *   `options`, as a tenant-per-schema TypeORM setup has to.
 *
 * The sample schemas are given a history table that already lists versions 1-3 (as if TypeORM
 * had managed them from the start), so `runMigrations()` applies exactly migration 4.
 */
import type { Pool } from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import type { TemplateMigration } from '@platform/database';
import { quoteTenantSchema } from '@platform/tenancy';
import { mapLimit } from './concurrency';
import { NAIVE_HISTORY_TABLE } from './fleet-sql';

const TIMESTAMP_BASE = 1_700_000_000_000;
const PREPARE_CONCURRENCY = 4;

type MigrationClass = new () => MigrationInterface;

function typeormName(migration: TemplateMigration): string {
  return `${migration.name}${TIMESTAMP_BASE + migration.version}`;
}

function asTypeormClasses(migrations: readonly TemplateMigration[]): MigrationClass[] {
  return migrations.map((migration) => {
    const name = typeormName(migration);
    return class implements MigrationInterface {
      readonly name = name;
      up(runner: QueryRunner): Promise<void> {
        return migration.up(runner);
      }
      down(runner: QueryRunner): Promise<void> {
        return migration.down(runner);
      }
    };
  });
}

/**
 * TypeORM's history table (its own DDL) in each sample schema, listing `upTo` migrations as
 * applied. Idempotent; the caller drops the tables afterwards (`repairSchemas`).
 */
export async function prepareNaiveHistory(
  pool: Pool,
  schemaNames: readonly string[],
  migrations: readonly TemplateMigration[],
  upTo: number,
): Promise<void> {
  const applied = migrations.filter((migration) => migration.version <= upTo);
  await mapLimit(schemaNames, PREPARE_CONCURRENCY, async (schemaName) => {
    const table = `${quoteTenantSchema(schemaName)}.${NAIVE_HISTORY_TABLE}`;
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
         "id" SERIAL NOT NULL PRIMARY KEY, "timestamp" bigint NOT NULL,
         "name" character varying NOT NULL)`,
    );
    await pool.query(
      `INSERT INTO ${table} ("timestamp", "name")
       SELECT v.ts, v.name FROM unnest($1::bigint[], $2::text[]) AS v(ts, name)
        WHERE NOT EXISTS (SELECT 1 FROM ${table} h WHERE h.name = v.name)`,
      [
        applied.map((migration) => TIMESTAMP_BASE + migration.version),
        applied.map((migration) => typeormName(migration)),
      ],
    );
  });
}

export interface NaivePass {
  readonly direction: 'up' | 'down';
  readonly schemas: number;
  readonly seconds: number;
  /** Per schema: from `new DataSource` to `destroy()` done. */
  readonly perSchemaMs: number[];
}

export async function naivePass(
  databaseUrl: string,
  schemaNames: readonly string[],
  migrations: readonly TemplateMigration[],
  direction: 'up' | 'down',
): Promise<NaivePass> {
  const classes = asTypeormClasses(migrations);
  const perSchemaMs: number[] = [];
  const started = performance.now();
  for (const schemaName of schemaNames) {
    quoteTenantSchema(schemaName); // validates: the name goes into a startup option unquoted
    const before = performance.now();
    const dataSource = new DataSource({
      type: 'postgres',
      url: databaseUrl,
      schema: schemaName,
      migrations: classes,
      migrationsTableName: NAIVE_HISTORY_TABLE,
      logging: false,
      applicationName: 'bench-naive',
      extra: { options: `-c search_path=${schemaName}` },
    });
    await dataSource.initialize();
    try {
      if (direction === 'up') {
        const applied = await dataSource.runMigrations();
        if (applied.length !== 1) {
          throw new Error(`${schemaName}: TypeORM applied ${applied.length} migrations, not 1`);
        }
      } else {
        await dataSource.undoLastMigration();
      }
    } finally {
      await dataSource.destroy();
    }
    perSchemaMs.push(performance.now() - before);
  }
  return {
    direction,
    schemas: schemaNames.length,
    seconds: (performance.now() - started) / 1000,
    perSchemaMs,
  };
}
