import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry.module';
import { FleetPlanner } from './fleet-planner.service';
import { FleetProgressGauge } from './fleet-progress.gauge';
import { FleetQueue } from './fleet.queue';
import { MigrationRunRepository } from './migration-run.repository';
import { MigrationRunsService } from './migration-runs.service';

/** Fleet migrations as the API and the CLI steer them. Workers add fleet-worker.module. */
@Module({
  imports: [RegistryModule],
  providers: [
    MigrationRunRepository,
    FleetQueue,
    MigrationRunsService,
    FleetPlanner,
    FleetProgressGauge,
  ],
  exports: [MigrationRunRepository, FleetQueue, MigrationRunsService, FleetPlanner],
})
export class FleetModule {}
