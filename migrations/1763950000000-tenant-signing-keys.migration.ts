import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each tenant signs its data-plane access tokens with its own keys, so a key that leaks (or a
 * token forged with it) opens one tenant, never all of them.
 *
 * - `kid` is random (not derived from the tenant id): it names the key in the token header and
 *   reveals nothing. The data plane looks a kid up among the token's tenant's keys only.
 * - `secret_sealed` is the HMAC secret sealed with AES-256-GCM (SIGNING_KEY_ENCRYPTION_KEY, format
 *   of PrivateKeyCipher), so a dump of the registry signs nothing.
 * - `retire_at`: NULL for the current key (the one that signs); otherwise the moment after which
 *   tokens signed with it are refused. At most one current key per tenant (partial unique index),
 *   which also makes "create the first key" idempotent: a second insert conflicts.
 *
 * Keys of tenants that existed before this migration are created by the control plane at start
 * (sealing needs the application's key, which SQL does not have).
 */
export class TenantSigningKeys1763950000000 implements MigrationInterface {
  name = 'TenantSigningKeys1763950000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE platform.tenant_signing_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
        kid text NOT NULL CHECK (kid ~ '^[A-Za-z0-9_-]{22}$'),
        algorithm text NOT NULL DEFAULT 'HS256' CHECK (algorithm = 'HS256'),
        secret_sealed text NOT NULL CHECK (secret_sealed LIKE 'v1:%'),
        created_at timestamptz NOT NULL DEFAULT now(),
        retire_at timestamptz,
        CONSTRAINT tenant_signing_keys_kid_key UNIQUE (kid)
      )`);
    await runner.query(
      `CREATE UNIQUE INDEX tenant_signing_keys_current_idx
         ON platform.tenant_signing_keys (tenant_id) WHERE retire_at IS NULL`,
    );
    await runner.query(
      `CREATE INDEX tenant_signing_keys_tenant_idx
         ON platform.tenant_signing_keys (tenant_id, created_at DESC)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE platform.tenant_signing_keys');
  }
}
