import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { PeriodicTask } from '../common/periodic-task';
import { FleetQueue } from './fleet.queue';
import { MigrationRunRepository } from './migration-run.repository';

/**
 * At worker start and then periodically, makes sure every running run has its claimer jobs
 * (same ids, so live ones are left alone). Heals runs whose claimers all died for good (Bull
 * gave up on a job that stalled too often, Redis lost it): the new claimer gives back the dead
 * ones' rows and finishes the run.
 */
@Injectable()
export class FleetRecovery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    private readonly runs: MigrationRunRepository,
    private readonly queue: FleetQueue,
    @Inject(CONTROL_PLANE_CONFIG) config: ControlPlaneConfig,
  ) {
    this.task = new PeriodicTask(
      'migration run sweep',
      config.queueLockDurationMs * 2,
      () => this.sweep(),
      new Logger(FleetRecovery.name),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sweep();
    this.task.start(false);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  private async sweep(): Promise<void> {
    const running = await this.runs.runningRuns();
    for (const run of running) await this.queue.start(run);
  }
}
