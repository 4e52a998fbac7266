import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import {
  CONTROL_PLANE_CONFIG,
  PlatformConfigModule,
  type ControlPlaneConfig,
} from '@platform/config';
import { DatabaseModule } from '@platform/database';
import { ObservabilityModule } from '@platform/observability';
import { TenantEventsModule } from '@platform/tenant-events';
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { OperatorAuthGuard } from './auth/operator-auth.guard';
import { AuditModule } from './audit/audit.module';
import { TenantCertificatesController } from './certificates/tenant-certificates.controller';
import { TenantCertificates } from './certificates/tenant-certificates.service';
import { ConsoleModule } from './console/console.module';
import { ControlPlaneExceptionFilter } from './errors/control-plane-exception.filter';
import { CustomDomainsController } from './domains/custom-domains.controller';
import { CustomDomains } from './domains/custom-domains.service';
import { FleetModule } from './fleet/fleet.module';
import { LimitsModule } from './limits/limits.module';
import { MigrationRunsController } from './fleet/migration-runs.controller';
import { ApiKeysController } from './operators/api-keys.controller';
import { OperatorAuthController } from './operators/operator-auth.controller';
import { OperatorsController } from './operators/operators.controller';
import { OperatorsModule } from './operators/operators.module';
import { controlPlaneReadinessChecks } from './readiness-checks.provider';
import { RegistryModule } from './registry.module';
import { TenantTokensApiModule } from './signing-keys/tenant-tokens-api.module';
import { TenantUsersService } from './tenants/tenant-users.service';
import { TenantsController } from './tenants/tenants.controller';
import { TenantProgress } from './tenants/tenant-progress.service';
import { WelcomeMailService } from './tenants/welcome-mail.service';

/** The control plane's HTTP API. Provisioning runs in the worker (worker.module.ts). */
@Module({})
export class ControlPlaneModule {
  static forRoot(config: ControlPlaneConfig): DynamicModule {
    return {
      module: ControlPlaneModule,
      imports: [
        PlatformConfigModule.forRoot(CONTROL_PLANE_CONFIG, config),
        DatabaseModule.forRoot({
          applicationName: 'control-plane',
          templateMigrations: TENANT_TEMPLATE_MIGRATIONS,
        }),
        TenantEventsModule,
        ObservabilityModule.forRoot({
          service: 'control-plane',
          readinessChecks: controlPlaneReadinessChecks,
        }),
        RegistryModule,
        FleetModule,
        OperatorsModule,
        AuditModule,
        ConsoleModule,
        LimitsModule,
        TenantTokensApiModule,
      ],
      controllers: [
        TenantsController,
        MigrationRunsController,
        CustomDomainsController,
        OperatorAuthController,
        OperatorsController,
        ApiKeysController,
        TenantCertificatesController,
      ],
      providers: [
        TenantUsersService,
        TenantProgress,
        WelcomeMailService,
        CustomDomains,
        TenantCertificates,
        // Every route: who is calling (session, API key, bootstrap token) and its @Roles.
        { provide: APP_GUARD, useClass: OperatorAuthGuard },
        { provide: APP_FILTER, useClass: ControlPlaneExceptionFilter },
      ],
    };
  }
}
