import type { IncomingMessage } from 'node:http';
import type { ResolvedTenant } from '@platform/tenancy';
import type { TenantResolver } from '../tenant-resolution/tenant-resolver.service';

/**
 * What the gates ahead of Nest (RateLimitGate, TenantConcurrencyGate) may judge: the active
 * tenant of an /api request, when the host cache already knows it, by the same host the
 * resolver will use (tenantHostOf). Null leaves the request to the normal way: a path outside
 * /api, a host not cached yet or a tenant not active.
 */
export function gatedTenant(
  resolver: TenantResolver,
  request: IncomingMessage,
  trustedProxies: ReadonlySet<string>,
): ResolvedTenant | null {
  if (!request.url?.startsWith('/api/')) return null;
  const tenant = resolver.cachedFor(request, trustedProxies)?.tenant;
  return tenant?.status === 'active' ? tenant : null;
}
