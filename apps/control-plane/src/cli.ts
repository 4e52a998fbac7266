import { CommandFactory } from 'nest-commander';
import { loadControlPlaneConfig } from '@platform/config';
import { migratePlatformSchema } from '@platform/database';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import { AuditOrigins } from './audit/audit-origin';
import { TENANTS_MIGRATE_COMMAND } from './cli/tenants-migrate.command';
import { CliModule } from './cli.module';
import { prepareTenantAccess } from './tenant-access/prepare-tenant-access';

async function main(): Promise<void> {
  // The terminal is for the progress bar and tables; the run's details are in the registry.
  const config = { ...loadControlPlaneConfig(), logLevel: 'warn' as const };
  await migratePlatformSchema(config.databaseUrl.reveal(), PLATFORM_MIGRATIONS, (registry) =>
    prepareTenantAccess(registry, config),
  );
  // Every change a command makes is audited as the CLI's, with the account and host it ran on.
  await AuditOrigins.run(AuditOrigins.cli(), () =>
    CommandFactory.run(
      CliModule.forRoot(config, {
        runsFleetJobs: process.argv.slice(2).includes(TENANTS_MIGRATE_COMMAND),
      }),
      {
        logger: ['error', 'warn'],
        errorHandler: (error: Error & { code?: string; exitCode?: number }) => {
          // commander reports --help and --version as "errors" with exit code 0.
          if (error.exitCode === 0) process.exit(0);
          console.error(error.message);
          process.exit(error.exitCode ?? 1);
        },
      },
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
