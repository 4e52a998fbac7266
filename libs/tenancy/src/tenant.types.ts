import type { LimitOverrides } from './plan-limits';

export const TENANT_STATUSES = [
  // Warm pool: a schema being prepared, then ready for the next new tenant to claim.
  'warming',
  'pooled',
  'provisioning',
  'failed',
  'active',
  'suspended',
  'deleting',
  'deleted',
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** What a request or a job needs to know about the tenant it runs for: ids, never whole rows. */
export interface TenantRef {
  readonly id: string;
  readonly slug: string;
  readonly schemaName: string;
  readonly cluster: string;
}

export interface ResolvedTenant extends TenantRef {
  readonly name: string;
  readonly plan: string;
  readonly status: TenantStatus;
  /** The tenant's own limits where they differ from its plan's (see effectiveLimits). */
  readonly limitOverrides?: LimitOverrides;
}
