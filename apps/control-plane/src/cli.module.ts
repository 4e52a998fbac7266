import { Module, type DynamicModule } from '@nestjs/common';
import {
  CONTROL_PLANE_CONFIG,
  PlatformConfigModule,
  type ControlPlaneConfig,
} from '@platform/config';
import { DatabaseModule } from '@platform/database';
import { TenantEventsModule } from '@platform/tenant-events';
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { TenantsListCommand } from './cli/tenants-list.command';
import { TenantsStatusCommand } from './cli/tenants-status.command';
import { RegistryModule } from './registry.module';

/** The SRE CLI: the same services as the API, driven from a terminal. */
@Module({})
export class CliModule {
  static forRoot(config: ControlPlaneConfig): DynamicModule {
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
      ],
      providers: [TenantsListCommand, TenantsStatusCommand],
    };
  }
}
