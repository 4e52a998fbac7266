import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operator accounts, their sign-in sessions and their API keys. Session tokens and keys are
 * stored only as SHA-256 digests of 256-bit random values: a copy of this database (a backup, a
 * read replica, a leaked dump) lets nobody act as an operator. Passwords are argon2id hashes.
 */
export class Operators1763910000000 implements MigrationInterface {
  name = 'Operators1763910000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE platform.operators (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        -- Stored lower-case so that the unique constraint is the case-insensitive one.
        email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
        name text NOT NULL DEFAULT '',
        role text NOT NULL CHECK (role IN ('admin', 'ops', 'sre', 'viewer')),
        password_hash text NOT NULL,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz,
        password_changed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT operators_email_key UNIQUE (email)
      )`);
    await runner.query(`
      CREATE TABLE platform.operator_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        operator_id uuid NOT NULL REFERENCES platform.operators (id) ON DELETE CASCADE,
        token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        ip text,
        user_agent text,
        revoked_at timestamptz,
        CONSTRAINT operator_sessions_token_hash_key UNIQUE (token_hash)
      )`);
    await runner.query(
      'CREATE INDEX operator_sessions_operator_idx ON platform.operator_sessions (operator_id)',
    );
    await runner.query(`
      CREATE TABLE platform.api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        operator_id uuid NOT NULL REFERENCES platform.operators (id) ON DELETE CASCADE,
        name text NOT NULL,
        prefix text NOT NULL CHECK (prefix ~ '^tpk_[0-9a-f]{8}$'),
        key_hash text NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        expires_at timestamptz,
        revoked_at timestamptz,
        CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
        CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash)
      )`);
    await runner.query('CREATE INDEX api_keys_operator_idx ON platform.api_keys (operator_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE platform.api_keys');
    await runner.query('DROP TABLE platform.operator_sessions');
    await runner.query('DROP TABLE platform.operators');
  }
}
