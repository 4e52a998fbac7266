import type { QueryRunner } from 'typeorm';
import type { TemplateMigration } from '@platform/database';

/**
 * Projects can be archived. Additive (expand): a nullable column and a partial index, so code
 * that does not know the column keeps working while old and new app versions run side by side.
 */
export class ArchiveProjects0004 implements TemplateMigration {
  readonly version = 4;
  readonly name = 'ArchiveProjects0004';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE projects ADD COLUMN archived_at timestamptz');
    await runner.query(
      'CREATE INDEX projects_active_idx ON projects (created_at DESC, id) WHERE archived_at IS NULL',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX projects_active_idx');
    await runner.query('ALTER TABLE projects DROP COLUMN archived_at');
  }
}
