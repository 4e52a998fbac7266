import { PlatformRegistry1763870000000 } from './1763870000000-platform-registry.migration';
import { FleetMigrationRuns1763880000000 } from './1763880000000-fleet-migration-runs.migration';
import { OnboardingSaga1763890000000 } from './1763890000000-onboarding-saga.migration';
import { CustomDomains1763900000000 } from './1763900000000-custom-domains.migration';
import { Operators1763910000000 } from './1763910000000-operators.migration';
import { AuditChain1763920000000 } from './1763920000000-audit-chain.migration';
import { TenantLimitOverrides1763940000000 } from './1763940000000-tenant-limit-overrides.migration';
import { TenantSigningKeys1763950000000 } from './1763950000000-tenant-signing-keys.migration';
import { OutboxSkipped1763960000000 } from './1763960000000-outbox-skipped.migration';
import { TenantRoleReserve1763970000000 } from './1763970000000-tenant-role-reserve.migration';

/** Applied in this order by `migratePlatformSchema` at every app's start. */
export const PLATFORM_MIGRATIONS = [
  PlatformRegistry1763870000000,
  FleetMigrationRuns1763880000000,
  OnboardingSaga1763890000000,
  CustomDomains1763900000000,
  Operators1763910000000,
  AuditChain1763920000000,
  TenantLimitOverrides1763940000000,
  TenantSigningKeys1763950000000,
  OutboxSkipped1763960000000,
  TenantRoleReserve1763970000000,
];
