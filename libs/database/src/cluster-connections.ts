import { DataSource } from 'typeorm';
import { Pool } from 'pg';
import type { ClusterConfig } from '@platform/config';
import { driverPool } from './driver-pool';

export interface PoolSettings {
  readonly size: number;
  readonly maxUses: number;
  readonly maxLifetimeSeconds: number;
  /** Tenant traffic split over this many pools per cluster, by tenant id (default 1: no split). */
  readonly lanes?: number;
}

/**
 * Queries are written without waiting for the previous answer (node-postgres pipeline mode), so
 * a tenant transaction of one statement costs one round trip. Sequential awaits behave exactly
 * as without it. (`pipeline` is newer than @types/pg.)
 */
const PIPELINED = { pipeline: true } as Record<string, unknown>;

export class UnknownClusterError extends Error {
  constructor(cluster: string) {
    super(`Tenant schema lives on cluster "${cluster}", which this process has no settings for`);
    this.name = 'UnknownClusterError';
  }
}

/**
 * One connection pool per PostgreSQL cluster, shared by every tenant on it (pools per tenant
 * would multiply connections and memory by the tenant count). Each cluster has one TypeORM
 * DataSource with no entities: template migrations get their QueryRunner from it, and tenant
 * transactions borrow raw clients from the same pg pool underneath.
 *
 * Connections are recycled after a bounded number of uses and a bounded lifetime, because each
 * PostgreSQL backend caches the catalog entries of every schema it touched, without limit.
 */
export class ClusterConnections {
  /** Readiness-check name: /health/ready reports every cluster under it. */
  readonly name = 'postgres';
  private readonly dataSources = new Map<string, DataSource>();
  private readonly lanes = new Map<string, Pool[]>();

  constructor(
    private readonly clusters: readonly ClusterConfig[],
    private readonly settings: PoolSettings,
    private readonly applicationName: string,
  ) {}

  get clusterNames(): string[] {
    return this.clusters.map((cluster) => cluster.name);
  }

  async connect(): Promise<void> {
    for (const cluster of this.clusters) {
      if (this.dataSources.has(cluster.name)) continue;
      const dataSource = new DataSource({
        type: 'postgres',
        url: cluster.url.reveal(),
        poolSize: this.settings.size,
        entities: [],
        synchronize: false,
        logging: false,
        applicationName: this.applicationName,
        extra: {
          ...PIPELINED,
          // Kept while idle, as the lanes' are (below): the data plane reads the registry in
          // bursts (its host and key caches expire together after a busy start), about every
          // 25 s, and a 30 s idle timeout closed most of them between two bursts. Each burst
          // then opened new backends, which load the login's role memberships and the
          // registry's catalog before the first query (~4 ms of planning instead of 0.2):
          // seen as PostgreSQL CPU per request rising by half in those windows of `npm run bench`.
          min: this.settings.size,
          maxUses: this.settings.maxUses,
          maxLifetimeSeconds: this.settings.maxLifetimeSeconds,
          idleTimeoutMillis: 30_000,
          connectionTimeoutMillis: 10_000,
        },
      });
      await dataSource.initialize();
      this.dataSources.set(cluster.name, dataSource);
    }
  }

  dataSource(cluster: string): DataSource {
    const dataSource = this.dataSources.get(cluster);
    if (!dataSource) throw new UnknownClusterError(cluster);
    return dataSource;
  }

  pool(cluster: string): Pool {
    return driverPool(this.dataSource(cluster));
  }

  /**
   * The pool a tenant's transactions use. With lanes, a cluster's tenant traffic is split over
   * a few small pools and each tenant always lands in the same one, so each PostgreSQL backend
   * caches the catalog of about 1/lanes of the tenants instead of all of them: fewer cold
   * catalog lookups per request and less backend memory. Still a fixed number of pools per
   * cluster, never one per tenant.
   */
  tenantPool(cluster: string, tenantId: string): Pool {
    if (this.laneCount <= 1) return this.pool(cluster);
    const lanes = this.lanesOf(cluster);
    return lanes[Number.parseInt(tenantId.slice(0, 8), 16) % lanes.length] ?? lanes[0];
  }

  /** Every pool tenant transactions of a cluster may use (for tests and diagnostics). */
  tenantPools(cluster: string): Pool[] {
    return this.laneCount <= 1 ? [this.pool(cluster)] : this.lanesOf(cluster);
  }

  private get laneCount(): number {
    return this.settings.lanes ?? 1;
  }

  private lanesOf(cluster: string): Pool[] {
    const existing = this.lanes.get(cluster);
    if (existing) return existing;
    const config = this.clusters.find((candidate) => candidate.name === cluster);
    if (!config) throw new UnknownClusterError(cluster);
    const size = Math.max(1, Math.ceil(this.settings.size / this.laneCount));
    const lanes = Array.from({ length: this.laneCount }, () => {
      const pool = new Pool({
        connectionString: config.url.reveal(),
        application_name: this.applicationName,
        max: size,
        // Once opened, a lane's connections stay until maxUses or maxLifetimeSeconds retire them,
        // however long they idle: a new backend loads each tenant's catalog again (0.5-2 ms per
        // tenant it meets), so closing them after a quiet spell made the next burst pay that
        // for every tenant of the lane (bench/README.md).
        min: size,
        maxUses: this.settings.maxUses,
        maxLifetimeSeconds: this.settings.maxLifetimeSeconds,
        idleTimeoutMillis: 30_000,
        connectionTimeoutMillis: 10_000,
        ...PIPELINED,
      });
      // An idle client whose server went away emits here; the pool replaces it on next use.
      pool.on('error', () => undefined);
      return pool;
    });
    this.lanes.set(cluster, lanes);
    return lanes;
  }

  /** Every configured cluster answers a trivial query. */
  async check(): Promise<void> {
    await Promise.all(
      [...this.dataSources.values()].map((dataSource) => dataSource.query('SELECT 1')),
    );
  }

  async close(): Promise<void> {
    const open = [...this.dataSources.values()];
    const lanes = [...this.lanes.values()].flat();
    this.dataSources.clear();
    this.lanes.clear();
    await Promise.all([
      ...open.map((dataSource) => dataSource.destroy()),
      ...lanes.map((pool) => pool.end()),
    ]);
  }
}
