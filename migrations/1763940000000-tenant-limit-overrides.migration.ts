import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant's own limits where they differ from its plan's (`effectiveLimits` in
 * @platform/tenancy): `{"requestsPerMinute": 6000}`. Operators set them through
 * `PUT /v1/tenants/:id/limits`; the data plane reads them with the tenant at host resolution.
 * Names and values are checked by the API, not here: an unknown name or a bad value in the
 * column is ignored by `effectiveLimits`, so the plan's default applies (fails safe, not open).
 */
export class TenantLimitOverrides1763940000000 implements MigrationInterface {
  name = 'TenantLimitOverrides1763940000000';

  async up(runner: QueryRunner): Promise<void> {
    // A constant default: no table rewrite, so old replicas keep running during a deploy.
    await runner.query(`
      ALTER TABLE platform.tenants
        ADD COLUMN limit_overrides jsonb NOT NULL DEFAULT '{}'
          CONSTRAINT tenants_limit_overrides_object CHECK (jsonb_typeof(limit_overrides) = 'object')`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE platform.tenants DROP COLUMN limit_overrides');
  }
}
