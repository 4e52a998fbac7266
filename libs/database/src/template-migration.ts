import type { MigrationInterface } from 'typeorm';

/**
 * A tenant-template migration: a TypeORM migration with an explicit, gap-free version number.
 * The version is what the registry and the fleet tools compare; the class name is for people.
 */
export interface TemplateMigration extends MigrationInterface {
  readonly version: number;
  readonly name: string;
  /**
   * False for statements PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY).
   * Such a migration must be written to be re-runnable, because nothing rolls it back.
   */
  readonly transactional?: boolean;
}

export interface TemplateSeed {
  readonly name: string;
  /** Runs with search_path on the tenant schema; must be idempotent (ON CONFLICT DO NOTHING). */
  run(query: (sql: string, params?: unknown[]) => Promise<unknown>): Promise<void>;
}
