export {
  TENANT_STATUSES,
  type ResolvedTenant,
  type TenantRef,
  type TenantStatus,
} from './tenant.types';
export { MissingTenantContextError, TenantContext, runInTenant } from './tenant-context';
export {
  RESERVED_SLUGS,
  SLUG_MAX_LENGTH,
  SLUG_MIN_LENGTH,
  slugViolation,
  type SlugViolation,
} from './slug.rules';
export {
  InvalidIdentifierError,
  assertTenantSchemaName,
  isTenantId,
  quoteIdentifier,
  quoteTenantSchema,
  schemaNameForTenant,
} from './schema-name.util';
export { normalizeHostname, subdomainSlug } from './hostname.util';
export {
  LIMIT_NAMES,
  PLANS,
  PLAN_LIMITS,
  effectiveLimits,
  isPlan,
  type LimitName,
  type LimitOverrides,
  type Plan,
  type PlanLimits,
} from './plan-limits';
export { QUOTA_NAMES, QuotaExceededError, type QuotaName, type QuotaUsage } from './quota';
