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
  /** Runs after the migrations, still under the lock, on the locking connection. */
  afterMigrations?: (registry: Client) => Promise<void>,
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
    let applied: string[];
    try {
      applied = (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
    } finally {
      await dataSource.destroy();
    }
    await afterMigrations?.(lock);
    return applied;
  } finally {
    await lock.end();
  }
}
