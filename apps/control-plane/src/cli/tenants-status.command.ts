import { InjectDataSource } from '@nestjs/typeorm';
import { Command, CommandRunner } from 'nest-commander';
import { DataSource } from 'typeorm';
import { TenantSchemaMigrator } from '@platform/database';

/** Fleet overview: tenants per status and per template version, against the latest version. */
@Command({
  name: 'tenants:status',
  description: 'Count tenants per status and per template version (version drift)',
})
export class TenantsStatusCommand extends CommandRunner {
  constructor(
    @InjectDataSource() private readonly registry: DataSource,
    private readonly migrator: TenantSchemaMigrator,
  ) {
    super();
  }

  async run(): Promise<void> {
    const rows = await this.registry.query<
      { status: string; template_version: number; tenants: number }[]
    >(
      `SELECT status, template_version, count(*)::int AS tenants
         FROM platform.tenants GROUP BY status, template_version ORDER BY status, template_version`,
    );
    console.log(`latest template version: ${this.migrator.latestVersion}`);
    console.table(
      rows.map((row) => ({
        status: row.status,
        'template version': row.template_version,
        tenants: row.tenants,
        behind: row.template_version < this.migrator.latestVersion ? 'yes' : '',
      })),
    );
  }
}
