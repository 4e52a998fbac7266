import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  COMMON_CONFIG,
  CONTROL_PLANE_CONFIG,
  type CommonConfig,
  type ControlPlaneConfig,
} from '@platform/config';
import { PLATFORM_SCHEMA } from '@platform/database';
import { AuditEntryEntity } from './audit/audit-entry.entity';
import { AuditLog } from './audit/audit-log.service';
import { DOMAINS_QUEUE, DomainsQueue } from './domains/domains.queue';
import { FLEET_QUEUE } from './fleet/fleet.queue';
import { PROVISIONING_QUEUE, ProvisioningQueue } from './provisioning/provisioning.queue';
import { ProvisioningStepEntity } from './provisioning/provisioning-step.entity';
import { WarmPoolRepository } from './provisioning/warm-pool.repository';
import { DeletedTenantRoles } from './tenant-access/deleted-tenant-roles.service';
import { TenantRoleReserveRepository } from './tenant-access/tenant-role-reserve.repository';
import { IdempotencyKeyEntity } from './tenants/idempotency-key.entity';
import { TenantChangeNotifier } from './tenants/tenant-change.notifier';
import { TenantDomainEntity } from './tenants/tenant-domain.entity';
import { TenantEntity } from './tenants/tenant.entity';
import { TenantRegistry } from './tenants/tenant-registry.service';
import { TenantInvites } from './tenants/tenant-invites.service';
import { OutboxRepository } from './outbox/outbox.repository';
import { WelcomeMails } from './outbox/welcome-mails.service';

const REGISTRY_ENTITIES = [
  TenantEntity,
  TenantDomainEntity,
  ProvisioningStepEntity,
  IdempotencyKeyEntity,
  AuditEntryEntity,
];

/** What the API and the worker share: the registry's data source, the queues, the registry. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [COMMON_CONFIG],
      useFactory: (config: CommonConfig) => ({
        type: 'postgres' as const,
        url: config.databaseUrl.reveal(),
        schema: PLATFORM_SCHEMA,
        entities: REGISTRY_ENTITIES,
        synchronize: false,
        migrationsRun: false,
        poolSize: config.pool.size,
        applicationName: 'control-plane-registry',
      }),
    }),
    BullModule.forRootAsync({
      inject: [COMMON_CONFIG],
      useFactory: (config: CommonConfig) => ({
        redis: config.redisUrl.reveal(),
        prefix: `${config.redisPrefix}:bull`,
      }),
    }),
    // A killed worker's jobs go to another worker once their lock lapses (QUEUE_LOCK_DURATION_MS).
    ...[PROVISIONING_QUEUE, FLEET_QUEUE, DOMAINS_QUEUE].map((name) =>
      BullModule.registerQueueAsync({
        name,
        inject: [CONTROL_PLANE_CONFIG],
        useFactory: (config: ControlPlaneConfig) => ({
          settings: {
            lockDuration: config.queueLockDurationMs,
            stalledInterval: config.queueLockDurationMs,
            // Jobs are idempotent: re-running one whose worker died several times is safe.
            maxStalledCount: 5,
          },
        }),
      }),
    ),
  ],
  providers: [
    TenantRegistry,
    TenantChangeNotifier,
    AuditLog,
    ProvisioningQueue,
    WarmPoolRepository,
    TenantRoleReserveRepository,
    DeletedTenantRoles,
    TenantInvites,
    OutboxRepository,
    WelcomeMails,
    DomainsQueue,
  ],
  exports: [
    TenantRegistry,
    TenantChangeNotifier,
    AuditLog,
    ProvisioningQueue,
    WarmPoolRepository,
    TenantRoleReserveRepository,
    TenantInvites,
    OutboxRepository,
    WelcomeMails,
    DomainsQueue,
    BullModule,
  ],
})
export class RegistryModule {}
