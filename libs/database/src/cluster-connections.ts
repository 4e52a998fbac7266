import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Pool } from 'pg';
import type { ClusterConfig } from '@platform/config';

export interface PoolSettings {
  readonly size: number;
  readonly maxUses: number;
  readonly maxLifetimeSeconds: number;
}

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
          // Queries are written without waiting for the previous answer (node-postgres pipeline
          // mode), so a tenant transaction of one statement costs one round trip. Sequential
          // awaits behave exactly as without it.
          pipeline: true,
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
    return (this.dataSource(cluster).driver as PostgresDriver).master as Pool;
  }

  /** Every configured cluster answers a trivial query. */
  async check(): Promise<void> {
    await Promise.all(
      [...this.dataSources.values()].map((dataSource) => dataSource.query('SELECT 1')),
    );
  }

  async close(): Promise<void> {
    const open = [...this.dataSources.values()];
    this.dataSources.clear();
    await Promise.all(open.map((dataSource) => dataSource.destroy()));
  }
}
