import type { QueryRunner } from 'typeorm';
import type { TemplateMigration } from '@platform/database';

/**
 * Refresh tokens and password-reset tokens. Like invites, only SHA-256 digests of 256-bit random
 * tokens are stored, so a copy of the schema lets nobody sign in.
 *
 * Refresh tokens rotate: each use marks the token used and issues its successor in the same
 * family. A used token presented again means two parties hold it (one of them a thief), and the
 * whole family is revoked. Reset tokens are spent once and expire.
 */
export class AuthTokens0005 implements TemplateMigration {
  readonly version = 5;
  readonly name = 'AuthTokens0005';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        family_id uuid NOT NULL,
        token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)');
    await runner.query(
      'CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL',
    );
    await runner.query(`
      CREATE TABLE password_resets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX password_resets_user_idx ON password_resets (user_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE password_resets');
    await runner.query('DROP TABLE refresh_tokens');
  }
}
