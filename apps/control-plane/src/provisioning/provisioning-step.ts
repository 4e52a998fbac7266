import type { TenantEntity } from '../tenants/tenant.entity';

/** A step whose outside system is not configured says so instead of pretending it ran. */
export interface SkippedStep {
  readonly skipped: string;
}

/**
 * One step of onboarding. Runs inside the tenant's context, may run more than once (a worker
 * can die after the work and before the record; Bull re-runs stalled jobs), and so must detect
 * its own completed state and do nothing the second time. Each step says how in its comment.
 */
export interface ProvisioningStep {
  readonly name: string;
  run(tenant: TenantEntity): Promise<SkippedStep | void>;
}

export function skipped(reason: string): SkippedStep {
  return { skipped: reason };
}
