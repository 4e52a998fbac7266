import { Client } from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import { ensureDatabaseExists } from './ensure-database.util';

/** Platform tables live here, never in `public`, and never on a tenant's search_path. */
export const PLATFORM_SCHEMA = 'platform';
const PLATFORM_MIGRATION_LOCK = 'platform-schema-migrations';

type MigrationClass = new () => MigrationInterface;

/**
 * Migrates the registry at start-up. Every process (control plane, worker, data plane) may call
 * this at the same moment; a session advisory lock lets one of them do the work while the others
 * wait and then find nothing pending.
 */
export async function migratePlatformSchema(
  databaseUrl: string,
  migrations: readonly MigrationClass[],
): Promise<string[]> {
  await ensureDatabaseExists(databaseUrl);
  const lock = new Client({ connectionString: databaseUrl, application_name: 'platform-migrator' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [PLATFORM_MIGRATION_LOCK]);
    await lock.query(`CREATE SCHEMA IF NOT EXISTS ${PLATFORM_SCHEMA}`);
    const dataSource = new DataSource({
      type: 'postgres',
      url: databaseUrl,
      schema: PLATFORM_SCHEMA,
      migrations: [...migrations],
      migrationsTableName: 'platform_migrations',
      migrationsTransactionMode: 'each',
      poolSize: 1,
      logging: false,
    });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((migration) => migration.name);
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await lock.end();
  }
}
