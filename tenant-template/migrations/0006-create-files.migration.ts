import type { QueryRunner } from 'typeorm';
import type { TemplateMigration } from '@platform/database';

/**
 * Tenant files: the bytes live in object storage under `{tenantId}/files/{id}`, this table holds
 * what the tenant may see of them and what counts against its storage quota.
 *
 * A row is written before its object (a reservation, `uploaded_at` NULL) so that two uploads
 * cannot both pass the quota check; it becomes a file when the object is stored. Reservations
 * count against the quota only while young: one left behind by a crash frees its bytes by
 * itself. A name is unique among uploaded files (a second PUT replaces the first), not among
 * reservations, so concurrent uploads of one name race only at the moment they complete.
 */
export class CreateFiles0006 implements TemplateMigration {
  readonly version = 6;
  readonly name = 'CreateFiles0006';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE files (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        content_type text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 255),
        object_key text NOT NULL UNIQUE,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        uploaded_at timestamptz
      )`);
    await runner.query(
      'CREATE UNIQUE INDEX files_name_key ON files (name) WHERE uploaded_at IS NOT NULL',
    );
    await runner.query(
      'CREATE INDEX files_listed_idx ON files (created_at DESC, id) WHERE uploaded_at IS NOT NULL',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE files');
  }
}
