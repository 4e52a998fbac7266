import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import type { MigrationRun } from './migration-run.types';

export const FLEET_QUEUE = 'fleet-migrations';
export const MIGRATE_TENANTS_JOB = 'migrate-tenants';

/** A claimer job: it takes tenants from the run until none are left. Ids only. */
export interface MigrateTenantsJob {
  readonly runId: string;
  /** The run's resume generation: a claimer of an older one stops instead of carrying on. */
  readonly generation: number;
}

/**
 * A run fans out as `concurrency` claimer jobs, which Bull hands to whichever workers have room.
 * Job ids are deterministic per run, resume generation and slot: adding them again (worker
 * restart, lost enqueue) is a no-op while they exist, and a claimer re-run after a crash knows
 * which rows it held by its id.
 */
@Injectable()
export class FleetQueue {
  constructor(@InjectQueue(FLEET_QUEUE) private readonly queue: Queue<MigrateTenantsJob>) {}

  /** Whether a claimer job can still run and give back its own claims (waiting, active...). */
  async isAlive(jobId: string): Promise<boolean> {
    const job = await this.queue.getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    return state !== 'completed' && state !== 'failed';
  }

  async start(run: MigrationRun): Promise<void> {
    const jobs = Array.from({ length: run.concurrency }, (_, slot) => ({
      name: MIGRATE_TENANTS_JOB,
      data: { runId: run.id, generation: run.generation },
      opts: {
        jobId: `fleet:${run.id}:${run.generation}:${slot}`,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: true,
      },
    }));
    await this.queue.addBulk(jobs);
  }
}
