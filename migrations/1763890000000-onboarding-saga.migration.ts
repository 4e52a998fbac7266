import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the onboarding saga needs beyond the first registry: the mail outbox, certificates and
 * the ACME account, warm-pool tenants (`warming` → `pooled`, claimed by a new tenant), and
 * steps that are `skipped` because their outside system is not configured.
 */
export class OnboardingSaga1763890000000 implements MigrationInterface {
  name = 'OnboardingSaga1763890000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE platform.tenants DROP CONSTRAINT tenants_status_check,
        ADD CONSTRAINT tenants_status_check CHECK (status IN ('warming', 'pooled',
          'provisioning', 'failed', 'active', 'suspended', 'deleting', 'deleted'))`);
    // The claim looks for the oldest ready schema of a cluster at the latest version.
    await runner.query(`
      CREATE INDEX tenants_pool_idx ON platform.tenants (cluster, template_version, created_at)
       WHERE status = 'pooled'`);
    await runner.query(`
      ALTER TABLE platform.provisioning_steps DROP CONSTRAINT provisioning_steps_status_check,
        ADD CONSTRAINT provisioning_steps_status_check
          CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped'))`);
    await runner.query(`
      CREATE TABLE platform.outbox (
        id uuid PRIMARY KEY,
        tenant_id uuid REFERENCES platform.tenants (id),
        kind text NOT NULL,
        -- One row per purpose: a step that runs twice finds its row instead of adding one.
        dedupe_key text NOT NULL UNIQUE,
        recipient text NOT NULL,
        subject text NOT NULL,
        -- Holds an invite link until sent, then is cleared: the registry keeps no live tokens.
        body_text text,
        body_html text,
        message_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'sent')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      )`);
    await runner.query(`
      CREATE INDEX outbox_pending_idx ON platform.outbox (next_attempt_at) WHERE status = 'pending'`);
    await runner.query('CREATE INDEX outbox_tenant_idx ON platform.outbox (tenant_id, created_at)');
    await runner.query(`
      CREATE TABLE platform.certificates (
        id uuid PRIMARY KEY,
        -- The certificate's first name: '*.<platform domain>' or a custom hostname.
        subject text NOT NULL,
        names text[] NOT NULL,
        tenant_id uuid REFERENCES platform.tenants (id),
        status text NOT NULL CHECK (status IN ('ordering', 'issued', 'failed', 'replaced')),
        order_url text,
        private_key_encrypted text NOT NULL,
        certificate_pem text,
        serial_number text,
        not_before timestamptz,
        not_after timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // At most one order in flight and one current certificate per subject (a renewal's order
    // lives beside the certificate it replaces).
    await runner.query(`
      CREATE UNIQUE INDEX certificates_current_idx ON platform.certificates (subject, status)
       WHERE status IN ('ordering', 'issued')`);
    await runner.query(`
      CREATE TABLE platform.acme_accounts (
        directory_url text PRIMARY KEY,
        private_key_encrypted text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE platform.acme_accounts');
    await runner.query('DROP TABLE platform.certificates');
    await runner.query('DROP TABLE platform.outbox');
    await runner.query(`DELETE FROM platform.provisioning_steps WHERE status = 'skipped'`);
    await runner.query(`
      ALTER TABLE platform.provisioning_steps DROP CONSTRAINT provisioning_steps_status_check,
        ADD CONSTRAINT provisioning_steps_status_check
          CHECK (status IN ('pending', 'running', 'succeeded', 'failed'))`);
    await runner.query('DROP INDEX platform.tenants_pool_idx');
    await runner.query(`
      ALTER TABLE platform.tenants DROP CONSTRAINT tenants_status_check,
        ADD CONSTRAINT tenants_status_check CHECK (status IN
          ('provisioning', 'failed', 'active', 'suspended', 'deleting', 'deleted'))`);
  }
}
