import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The platform registry. Runs with the DataSource schema set to `platform`; names are qualified
 * anyway so that nothing here depends on a search_path.
 */
export class PlatformRegistry1763870000000 implements MigrationInterface {
  name = 'PlatformRegistry1763870000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE platform.tenants (
        id uuid PRIMARY KEY,
        slug text NOT NULL,
        name text NOT NULL,
        plan text NOT NULL,
        admin_email text NOT NULL,
        status text NOT NULL CHECK (status IN
          ('provisioning', 'failed', 'active', 'suspended', 'deleting', 'deleted')),
        status_reason text,
        schema_name text NOT NULL UNIQUE CHECK (schema_name ~ '^t_[0-9a-f]{32}$'),
        cluster text NOT NULL,
        template_version integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz,
        suspended_at timestamptz,
        deleted_at timestamptz,
        -- A deleted tenant keeps its slug: a new customer must not inherit links, mails and
        -- bookmarks that still point at the old one.
        CONSTRAINT tenants_slug_key UNIQUE (slug)
      )`);
    await runner.query('CREATE INDEX tenants_status_idx ON platform.tenants (status, created_at)');
    await runner.query(`
      CREATE TABLE platform.tenant_domains (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES platform.tenants (id),
        hostname text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('subdomain', 'custom')),
        -- Only active domains select a tenant; custom ones wait for ownership verification.
        status text NOT NULL CHECK (status IN ('active', 'pending_verification')),
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenant_domains_hostname_key UNIQUE (hostname)
      )`);
    await runner.query(
      'CREATE INDEX tenant_domains_tenant_idx ON platform.tenant_domains (tenant_id)',
    );
    await runner.query(`
      CREATE TABLE platform.provisioning_steps (
        tenant_id uuid NOT NULL REFERENCES platform.tenants (id),
        step text NOT NULL,
        position integer NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        started_at timestamptz,
        finished_at timestamptz,
        duration_ms integer,
        PRIMARY KEY (tenant_id, step)
      )`);
    await runner.query(`
      CREATE TABLE platform.idempotency_keys (
        key text PRIMARY KEY,
        request_hash text NOT NULL,
        tenant_id uuid NOT NULL REFERENCES platform.tenants (id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE platform.audit_log (
        id bigserial PRIMARY KEY,
        actor text NOT NULL,
        action text NOT NULL,
        tenant_id uuid,
        details jsonb NOT NULL DEFAULT '{}',
        request_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX audit_log_tenant_idx ON platform.audit_log (tenant_id, id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE platform.audit_log');
    await runner.query('DROP TABLE platform.idempotency_keys');
    await runner.query('DROP TABLE platform.provisioning_steps');
    await runner.query('DROP TABLE platform.tenant_domains');
    await runner.query('DROP TABLE platform.tenants');
  }
}
