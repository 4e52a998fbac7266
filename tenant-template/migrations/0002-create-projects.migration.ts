import type { QueryRunner } from 'typeorm';
import type { TemplateMigration } from '@platform/database';

/** The template's sample resource: what a product team replaces with its own tables. */
export class CreateProjects0002 implements TemplateMigration {
  readonly version = 2;
  readonly name = 'CreateProjects0002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX projects_created_at_idx ON projects (created_at DESC, id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE projects');
  }
}
