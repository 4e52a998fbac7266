import { CommandFactory } from 'nest-commander';
import { loadControlPlaneConfig } from '@platform/config';
import { migratePlatformSchema } from '@platform/database';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import { CliModule } from './cli.module';

async function main(): Promise<void> {
  const config = loadControlPlaneConfig();
  await migratePlatformSchema(config.databaseUrl.reveal(), PLATFORM_MIGRATIONS);
  await CommandFactory.run(CliModule.forRoot(config), {
    logger: ['error', 'warn'],
    errorHandler: (error: Error & { code?: string; exitCode?: number }) => {
      // commander reports --help and --version as "errors" with exit code 0.
      if (error.exitCode === 0) process.exit(0);
      console.error(error.message);
      process.exit(error.exitCode ?? 1);
    },
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
