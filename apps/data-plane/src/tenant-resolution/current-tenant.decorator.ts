import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ResolvedTenant } from '@platform/tenancy';
import { resolvedTenantOf } from './tenant-resolution.middleware';

/** The tenant host resolution admitted for this request (a route under its middleware only). */
export function currentTenantOf(context: ExecutionContext): ResolvedTenant {
  const tenant = resolvedTenantOf(context.switchToHttp().getRequest());
  if (!tenant) throw new Error('a tenant was asked for on a route outside tenant resolution');
  return tenant;
}

export const CurrentTenant = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ResolvedTenant => currentTenantOf(context),
);
