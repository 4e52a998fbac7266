import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { OutboxRelay } from './outbox-relay.service';

/**
 * In the worker: sends pending outbox mail every OUTBOX_POLL_INTERVAL_MS (resends ops asked
 * for, mails whose first attempt failed). Any number of workers may poll: rows are locked.
 */
@Injectable()
export class OutboxPoller implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxPoller.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly relay: OutboxRelay,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.relay.enabled) return;
    this.timer = setInterval(() => this.tick(), this.config.integrations.outboxPollIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.relay
      .deliverDue()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'outbox poll failed'))
      .finally(() => {
        this.running = null;
      });
  }
}
