import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { PeriodicTask } from '../common/periodic-task';
import { OutboxRelay } from './outbox-relay.service';

/**
 * In the worker: sends pending outbox mail every OUTBOX_POLL_INTERVAL_MS (resends ops asked
 * for, mails whose first attempt failed). Any number of workers may poll: rows are locked.
 */
@Injectable()
export class OutboxPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    private readonly relay: OutboxRelay,
    @Inject(CONTROL_PLANE_CONFIG) config: ControlPlaneConfig,
  ) {
    this.task = new PeriodicTask(
      'outbox poll',
      config.integrations.outboxPollIntervalMs,
      async () => {
        await this.relay.deliverDue();
      },
      new Logger(OutboxPoller.name),
    );
  }

  onApplicationBootstrap(): void {
    if (this.relay.enabled) this.task.start(false);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }
}
