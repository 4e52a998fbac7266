import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { COMMON_CONFIG, type CommonConfig } from '@platform/config';
import { ClusterConnections } from './cluster-connections';
import { TenantRoleBatches } from './tenant-role-batches';
import { TenantSchemaMigrator } from './tenant-schema-migrator';
import { TenantTransactionRunner } from './tenant-transaction';
import type { TemplateMigration } from './template-migration';

export const TEMPLATE_MIGRATIONS = Symbol('TemplateMigrations');

export interface DatabaseModuleOptions {
  /** Shows up in pg_stat_activity, so a DBA can tell the apps' connections apart. */
  readonly applicationName: string;
  readonly templateMigrations: readonly TemplateMigration[];
}

@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(ClusterConnections) private readonly clusters: ClusterConnections) {}

  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: TEMPLATE_MIGRATIONS, useValue: options.templateMigrations },
        {
          provide: ClusterConnections,
          inject: [COMMON_CONFIG],
          useFactory: async (config: CommonConfig) => {
            const clusters = new ClusterConnections(
              config.clusters,
              config.pool,
              options.applicationName,
            );
            await clusters.connect();
            return clusters;
          },
        },
        {
          provide: TenantTransactionRunner,
          inject: [ClusterConnections, COMMON_CONFIG],
          useFactory: (clusters: ClusterConnections, config: CommonConfig) =>
            new TenantTransactionRunner(clusters, {
              statementTimeoutMs: config.pool.statementTimeoutMs,
              preparedStatements: config.pool.preparedStatements,
              preparedStatementsPerConnection: config.pool.preparedStatementsPerConnection,
            }),
        },
        {
          provide: TenantSchemaMigrator,
          inject: [ClusterConnections, COMMON_CONFIG, TEMPLATE_MIGRATIONS],
          useFactory: (
            clusters: ClusterConnections,
            config: CommonConfig,
            migrations: readonly TemplateMigration[],
          ) =>
            new TenantSchemaMigrator(clusters, migrations, {
              ...config.migrations,
              dataPlaneUser: config.dataPlaneLogin.user,
            }),
        },
        {
          provide: TenantRoleBatches,
          inject: [ClusterConnections, COMMON_CONFIG],
          useFactory: (clusters: ClusterConnections, config: CommonConfig) =>
            new TenantRoleBatches(clusters, config.dataPlaneLogin.user),
        },
      ],
      exports: [
        ClusterConnections,
        TenantTransactionRunner,
        TenantSchemaMigrator,
        TenantRoleBatches,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.clusters.close();
  }
}
