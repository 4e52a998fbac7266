import { Module, type DynamicModule } from '@nestjs/common';
import {
  CONTROL_PLANE_CONFIG,
  PlatformConfigModule,
  type ControlPlaneConfig,
} from '@platform/config';
import { DatabaseModule } from '@platform/database';
import { ObservabilityModule } from '@platform/observability';
import { TenantEventsModule } from '@platform/tenant-events';
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { AuditChainVerifier } from './audit/audit-chain-verifier.service';
import { AuditVerifyCommand } from './cli/audit-verify.command';
import { OperatorsCreateCommand } from './cli/operators-create.command';
import { OperatorsListCommand } from './cli/operators-list.command';
import { TenantsListCommand } from './cli/tenants-list.command';
import { TenantsMigrateCommand } from './cli/tenants-migrate.command';
import { TenantsStatusCommand } from './cli/tenants-status.command';
import { FleetWorkerModule } from './fleet/fleet-worker.module';
import { FleetModule } from './fleet/fleet.module';
import { OperatorsModule } from './operators/operators.module';
import { controlPlaneReadinessChecks } from './readiness-checks.provider';
import { RegistryModule } from './registry.module';

/** The SRE CLI: the same services as the API, driven from a terminal. */
@Module({})
export class CliModule {
  /**
   * `runsFleetJobs`: only `tenants:migrate` works on fleet jobs. Every other command leaves the
   * fleet worker out: a Bull processor started and closed within milliseconds (a short command)
   * sometimes lost its blocking client's pending command to the close ("Connection is closed."
   * as an unhandled rejection, exit code 1 after the command had succeeded).
   */
  static forRoot(config: ControlPlaneConfig, options: { runsFleetJobs: boolean }): DynamicModule {
    return {
      module: CliModule,
      imports: [
        PlatformConfigModule.forRoot(CONTROL_PLANE_CONFIG, config),
        DatabaseModule.forRoot({
          applicationName: 'control-plane-cli',
          templateMigrations: TENANT_TEMPLATE_MIGRATIONS,
        }),
        TenantEventsModule,
        RegistryModule,
        FleetModule,
        // The CLI works on the runs it starts, so it needs no separate worker to make progress.
        ...(options.runsFleetJobs ? [FleetWorkerModule] : []),
        OperatorsModule,
        ObservabilityModule.forRoot({
          service: 'cli',
          readinessChecks: controlPlaneReadinessChecks,
        }),
      ],
      providers: [
        TenantsListCommand,
        TenantsStatusCommand,
        TenantsMigrateCommand,
        OperatorsCreateCommand,
        OperatorsListCommand,
        AuditChainVerifier,
        AuditVerifyCommand,
      ],
    };
  }
}
