import type { QueryRunner } from 'typeorm';
import type { TemplateMigration } from '@platform/database';

/** Tenant users and their one-time invites. Unqualified names: search_path is the tenant schema. */
export class CreateUsers0001 implements TemplateMigration {
  readonly version = 1;
  readonly name = 'CreateUsers0001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
        password_hash text,
        role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_key UNIQUE (email)
      )`);
    await runner.query(`
      CREATE TABLE user_invites (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE user_invites');
    await runner.query('DROP TABLE users');
  }
}
