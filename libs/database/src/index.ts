export { ClusterConnections, UnknownClusterError, type PoolSettings } from './cluster-connections';
export { DatabaseModule, TEMPLATE_MIGRATIONS, type DatabaseModuleOptions } from './database.module';
export { ensureDatabaseExists } from './ensure-database.util';
export { queryWithRelaxedCommit } from './relaxed-commit';
export { PLATFORM_SCHEMA, migratePlatformSchema } from './platform-schema.migrator';
export type { TemplateMigration, TemplateSeed } from './template-migration';
export {
  TEMPLATE_HISTORY_TABLE,
  TenantSchemaMigrator,
  type MigrationOutcome,
  type MigratorSettings,
} from './tenant-schema-migrator';
export { TenantRoleBatches } from './tenant-role-batches';
export { checkTenantQuota, lockTenantQuota } from './tenant-quota';
export {
  TenantTransactionRunner,
  type TenantTransaction,
  type TenantTransactionOptions,
} from './tenant-transaction';
export {
  DATA_PLANE_READABLE_TABLES,
  TENANT_ROLE_COMMENT_PREFIX,
  createTenantRoles,
  dropTenantRole,
  dropTenantRoles,
  ensureTenantRole,
  retireTenantRole,
  enterTenantPrepared,
  enterTenantStatement,
  prepareDataPlaneLogin,
  tenantRoleName,
} from './database-roles';
export {
  ForbiddenTenantStatementError,
  INSUFFICIENT_PRIVILEGE,
  assertTenantStatement,
} from './tenant-statement.guard';
