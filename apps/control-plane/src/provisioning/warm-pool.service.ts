import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantProvisioner } from './tenant-provisioner.service';
import { WarmPoolRepository } from './warm-pool.repository';

/**
 * In the worker: keeps WARM_POOL_SIZE schemas of the default cluster ready at the latest
 * template version, refilling every WARM_POOL_REFILL_INTERVAL_MS. Rows left `warming` by a
 * worker that died are finished by the next refill (the schema steps are idempotent).
 */
@Injectable()
export class WarmPool implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WarmPool.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopping = false;

  constructor(
    private readonly pool: WarmPoolRepository,
    private readonly provisioner: TenantProvisioner,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.integrations.warmPool.size === 0) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.config.integrations.warmPool.refillIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Tops the pool up and prepares every `warming` schema; returns how many it prepared. */
  async refill(): Promise<number> {
    const cluster = this.config.defaultTenantCluster;
    await this.pool.topUp(cluster, this.config.integrations.warmPool.size);
    let prepared = 0;
    for (const id of await this.pool.warming(cluster)) {
      if (this.stopping) break;
      await this.provisioner.warm(id);
      prepared += 1;
    }
    return prepared;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.refill()
      .then((prepared) => {
        if (prepared > 0) this.logger.log({ prepared }, 'warm pool refilled');
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'warm pool refill failed'))
      .finally(() => {
        this.running = null;
      });
  }
}
