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
import { TenantJobs } from './common/tenant-job';
import { FleetWorkerModule } from './fleet/fleet-worker.module';
import { PROVISIONING_STEP_PROVIDERS } from './provisioning/provisioning.pipeline';
import { ProvisionTenantProcessor } from './provisioning/provision-tenant.processor';
import { ProvisioningRecovery } from './provisioning/provisioning-recovery.service';
import { ProvisioningStepRepository } from './provisioning/provisioning-step.repository';
import { TenantProvisioner } from './provisioning/tenant-provisioner.service';
import { WarmPool } from './provisioning/warm-pool.service';
import { CertificateRepository } from './certificates/certificate.repository';
import { CertificateIssuer } from './certificates/certificate-issuer.service';
import { CertificateRenewal } from './certificates/certificate-renewal.service';
import { PlatformCertificate } from './certificates/platform-certificate.service';
import { CustomDomainsProcessor } from './domains/custom-domains.processor';
import { DomainCertificates } from './domains/domain-certificates.service';
import { DomainRecordsLookup } from './domains/domain-records.lookup';
import { DomainVerifier } from './domains/domain-verifier.service';
import { IntegrationsModule } from './integrations/integrations.module';
import { OutboxPoller } from './outbox/outbox-poller.service';
import { OutboxRelay } from './outbox/outbox-relay.service';
import { controlPlaneReadinessChecks } from './readiness-checks.provider';
import { RegistryModule } from './registry.module';
import { SigningKeysModule } from './signing-keys/signing-keys.module';
import { TenantRoleUpkeep } from './tenant-access/tenant-role-upkeep.service';

/**
 * The job worker: Bull processors (provisioning, fleet migrations). Its HTTP server has only
 * health and metrics. Run as many as the queues need.
 */
@Module({})
export class WorkerModule {
  static forRoot(config: ControlPlaneConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        PlatformConfigModule.forRoot(CONTROL_PLANE_CONFIG, config),
        DatabaseModule.forRoot({
          applicationName: 'control-plane-worker',
          templateMigrations: TENANT_TEMPLATE_MIGRATIONS,
        }),
        TenantEventsModule,
        ObservabilityModule.forRoot({
          service: 'worker',
          readinessChecks: controlPlaneReadinessChecks,
        }),
        RegistryModule,
        IntegrationsModule.forRoot(config),
        FleetWorkerModule,
        SigningKeysModule,
      ],
      providers: [
        TenantJobs,
        ...PROVISIONING_STEP_PROVIDERS,
        ProvisioningStepRepository,
        TenantProvisioner,
        ProvisionTenantProcessor,
        ProvisioningRecovery,
        WarmPool,
        TenantRoleUpkeep,
        CertificateRepository,
        CertificateIssuer,
        PlatformCertificate,
        CertificateRenewal,
        DomainRecordsLookup,
        DomainVerifier,
        DomainCertificates,
        CustomDomainsProcessor,
        OutboxRelay,
        OutboxPoller,
      ],
    };
  }
}
