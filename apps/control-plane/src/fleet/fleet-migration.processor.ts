import { Process, Processor } from '@nestjs/bull';
import type { Job } from 'bull';
import { FLEET_QUEUE, MIGRATE_TENANTS_JOB, type MigrateTenantsJob } from './fleet.queue';
import { MigrationRunExecutor } from './migration-run-executor.service';

/**
 * Claimers one worker process runs at once. Each holds at most one database connection at a
 * time, so this stays below the pool size; a run's concurrency is spread over all workers.
 */
const CLAIMERS_PER_WORKER = 8;

@Processor(FLEET_QUEUE)
export class FleetMigrationProcessor {
  constructor(private readonly executor: MigrationRunExecutor) {}

  @Process({ name: MIGRATE_TENANTS_JOB, concurrency: CLAIMERS_PER_WORKER })
  async handle(job: Job<MigrateTenantsJob>): Promise<void> {
    await this.executor.drive(job.data.runId, job.data.generation ?? 0, String(job.id));
  }
}
