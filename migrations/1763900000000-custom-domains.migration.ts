import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Custom domains: ownership verification (a TXT token the customer publishes, checked until a
 * deadline), then a certificate by HTTP-01, then `active`. Subdomains stay `active` from birth.
 */
export class CustomDomains1763900000000 implements MigrationInterface {
  name = 'CustomDomains1763900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE platform.tenant_domains DROP CONSTRAINT tenant_domains_status_check,
        ADD CONSTRAINT tenant_domains_status_check CHECK (status IN ('pending_verification',
          'verified', 'verification_failed', 'certificate_failed', 'active')),
        ADD COLUMN verification_token text,
        ADD COLUMN verification_error text,
        ADD COLUMN verify_until timestamptz,
        ADD COLUMN last_checked_at timestamptz,
        ADD COLUMN verified_at timestamptz,
        ADD COLUMN activated_at timestamptz`);
    await runner.query(`
      CREATE INDEX certificates_tenant_orders_idx ON platform.certificates (tenant_id, created_at)
       WHERE tenant_id IS NOT NULL`);
    await runner.query(`
      CREATE INDEX certificates_expiry_idx ON platform.certificates (not_after)
       WHERE status = 'issued'`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX platform.certificates_expiry_idx');
    await runner.query('DROP INDEX platform.certificates_tenant_orders_idx');
    await runner.query(`
      DELETE FROM platform.tenant_domains
       WHERE status NOT IN ('active', 'pending_verification')`);
    await runner.query(`
      ALTER TABLE platform.tenant_domains DROP CONSTRAINT tenant_domains_status_check,
        ADD CONSTRAINT tenant_domains_status_check CHECK (status IN ('active', 'pending_verification')),
        DROP COLUMN verification_token, DROP COLUMN verification_error, DROP COLUMN verify_until,
        DROP COLUMN last_checked_at, DROP COLUMN verified_at, DROP COLUMN activated_at`);
  }
}
