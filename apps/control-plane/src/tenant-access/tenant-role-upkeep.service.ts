import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { CONTROL_PLANE_CONFIG, type ControlPlaneConfig } from '@platform/config';
import { TenantRoleBatches } from '@platform/database';
import { MetricsRegistry } from '@platform/observability';
import { schemaNameForTenant } from '@platform/tenancy';
import { PeriodicTask } from '../common/periodic-task';
import { TenantRoleReserveRepository } from './tenant-role-reserve.repository';

/** At most this many deleted tenants' roles of one cluster are dropped in one commit. */
const DROP_BATCH = 500;

/**
 * Makes and removes tenant roles in batches, in the worker's background.
 *
 * Why: on PostgreSQL 15, every backend of the data plane's login caches the list of roles it is
 * a member of (one per tenant) and rebuilds it after any change to pg_authid or pg_auth_members
 * anywhere in the cluster. The rebuild is quadratic in that count: ~200 ms per backend at
 * 10,000 tenants (`npm run bench:role-churn`). Creating a role per onboarding and dropping one
 * per deletion would stall every backend that often; a batch costs one rebuild for all its
 * roles. So the reserve holds roles for tenants to come (onboarding and the warm pool take
 * their ids from it), and deleted tenants' roles, already stripped of everything, are dropped
 * together each round.
 */
@Injectable()
export class TenantRoleUpkeep implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TenantRoleUpkeep.name);
  private readonly task: PeriodicTask;
  private readonly changed: Counter<'action'>;

  constructor(
    private readonly reserve: TenantRoleReserveRepository,
    private readonly batches: TenantRoleBatches,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
    metrics: MetricsRegistry,
  ) {
    this.changed = new Counter({
      name: 'tenant_roles_batched_total',
      help: 'Tenant roles this worker created ahead or dropped, in batches of one commit each',
      labelNames: ['action'],
      registers: [metrics.registry],
    });
    const cluster = config.defaultTenantCluster;
    // Read at scrape time. Alert when `ready` stays 0: onboarding then changes a role per tenant.
    new Gauge({
      name: 'tenant_role_reserve',
      help: 'Reserved tenant roles of the default cluster: ready, or still being made',
      labelNames: ['state'],
      registers: [metrics.registry],
      async collect() {
        const counts = await reserve.counts(cluster);
        this.set({ state: 'ready' }, counts.ready);
        this.set({ state: 'unready' }, counts.unready);
      },
    });
    new Gauge({
      name: 'tenant_roles_retired_pending',
      help: "Deleted tenants' roles (stripped of everything) waiting to be dropped",
      registers: [metrics.registry],
      async collect() {
        this.set(await reserve.retiredCount());
      },
    });
    this.task = new PeriodicTask(
      'tenant role upkeep',
      config.integrations.tenantRoleReserve.upkeepIntervalMs,
      async () => {
        const created = await this.refill();
        const dropped = await this.dropRetired();
        if (created + dropped > 0) this.logger.log({ created, dropped }, 'tenant roles batched');
      },
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    // Always: retired roles queued while batching was on are still dropped after it is off.
    this.task.start(true);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** Tops the reserve of the default cluster up and makes its missing roles in one commit. */
  async refill(): Promise<number> {
    const { size } = this.config.integrations.tenantRoleReserve;
    const cluster = this.config.defaultTenantCluster;
    if (size > 0) await this.reserve.topUp(cluster, size);
    const ids = await this.reserve.unready(cluster);
    if (ids.length === 0) return 0;
    const created = await this.batches.create(
      cluster,
      ids.map((id) => ({ id, schemaName: schemaNameForTenant(id) })),
    );
    await this.reserve.markReady(ids);
    this.changed.inc({ action: 'created' }, created);
    return created;
  }

  /**
   * Drops queued roles of deleted tenants, one commit per cluster. A cluster that fails (gone
   * from the settings, unreachable) keeps its queue for the next round and holds up no other.
   */
  async dropRetired(): Promise<number> {
    let dropped = 0;
    for (const [cluster, names] of await this.reserve.retired(DROP_BATCH)) {
      try {
        const count = await this.batches.drop(cluster, names);
        await this.reserve.forgetRetired(names);
        this.changed.inc({ action: 'dropped' }, count);
        dropped += count;
      } catch (error) {
        this.logger.warn(
          { err: error, cluster, roles: names.length },
          "could not drop deleted tenants' roles; the next round retries",
        );
      }
    }
    return dropped;
  }
}
