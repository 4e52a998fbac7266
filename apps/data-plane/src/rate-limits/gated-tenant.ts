import type { IncomingMessage } from 'node:http';
import type { ResolvedTenant } from '@platform/tenancy';
import type { TenantResolver } from '../tenant-resolution/tenant-resolver.service';

/**
 * What the gates ahead of Nest (RateLimitGate, TenantConcurrencyGate) may judge: the active
 * tenant of an /api request, when the host cache already knows it. Null leaves the request to
 * the normal way: a path outside /api, a host not cached yet, a tenant not active, or an
 * X-Forwarded-Host (it may select another tenant through trusted proxies; the middleware that
 * resolves it judges it).
 */
export function gatedTenant(
  resolver: TenantResolver,
  request: IncomingMessage,
): ResolvedTenant | null {
  if (!request.url?.startsWith('/api/') || request.headers['x-forwarded-host'] !== undefined) {
    return null;
  }
  const tenant = resolver.cached(request.headers.host)?.tenant;
  return tenant?.status === 'active' ? tenant : null;
}
