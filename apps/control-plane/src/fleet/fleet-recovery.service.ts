import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { FleetQueue } from './fleet.queue';
import { MigrationRunRepository } from './migration-run.repository';

/**
 * At worker start, makes sure every running run has its claimer jobs (same ids, so existing
 * ones are left alone). Heals runs whose jobs Redis lost; stalled jobs Bull re-runs itself.
 */
@Injectable()
export class FleetRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger(FleetRecovery.name);

  constructor(
    private readonly runs: MigrationRunRepository,
    private readonly queue: FleetQueue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const running = await this.runs.runningRuns();
    for (const run of running) await this.queue.start(run);
    if (running.length > 0) this.logger.log({ runs: running.length }, 're-enqueued migration runs');
  }
}
