import { Module } from '@nestjs/common';
import { FleetMigrationProcessor } from './fleet-migration.processor';
import { FleetRecovery } from './fleet-recovery.service';
import { FleetMetrics } from './fleet.metrics';
import { FleetModule } from './fleet.module';
import { MigrationRunExecutor } from './migration-run-executor.service';

/** What a process needs to work on runs: the claimer processor and its executor. */
@Module({
  imports: [FleetModule],
  providers: [FleetMetrics, MigrationRunExecutor, FleetMigrationProcessor, FleetRecovery],
})
export class FleetWorkerModule {}
