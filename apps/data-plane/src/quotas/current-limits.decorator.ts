import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { effectiveLimits, type PlanLimits } from '@platform/tenancy';
import { currentTenantOf } from '../tenant-resolution/current-tenant.decorator';

/**
 * The current tenant's limits: its plan's, with its own overrides on top. They come with the
 * tenant from host resolution (cached, dropped when an operator changes them), so a quota check
 * costs no registry query.
 */
export const CurrentLimits = createParamDecorator(
  (_data: unknown, context: ExecutionContext): PlanLimits => {
    const tenant = currentTenantOf(context);
    return effectiveLimits(tenant.plan, tenant.limitOverrides);
  },
);
