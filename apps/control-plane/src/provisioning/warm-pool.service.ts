import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { PeriodicTask } from '../common/periodic-task';
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
  private readonly task: PeriodicTask;

  constructor(
    private readonly pool: WarmPoolRepository,
    private readonly provisioner: TenantProvisioner,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {
    this.task = new PeriodicTask(
      'warm pool refill',
      config.integrations.warmPool.refillIntervalMs,
      async () => {
        const prepared = await this.refill();
        if (prepared > 0) this.logger.log({ prepared }, 'warm pool refilled');
      },
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    if (this.config.integrations.warmPool.size > 0) this.task.start(true);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /**
   * Tops the pool up and prepares every `warming` schema; returns how many it prepared.
   * Pooled schemas behind the latest template (a deploy added a migration, or SREs rolled the
   * fleet back) are left to fleet runs, which include them: the refill never overrules a
   * deliberate rollback. Until then they are not claimed, and new tenants provision cold.
   */
  async refill(): Promise<number> {
    const cluster = this.config.defaultTenantCluster;
    let prepared = 0;
    await this.pool.topUp(cluster, this.config.integrations.warmPool.size);
    for (const id of await this.pool.warming(cluster)) {
      if (this.task.isStopped) break;
      await this.provisioner.warm(id);
      prepared += 1;
    }
    return prepared;
  }
}
