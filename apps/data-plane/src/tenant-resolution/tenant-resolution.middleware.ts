import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { nodeRequestOf, type NextFunction } from '@platform/http';
import { TenantContext, type ResolvedTenant } from '@platform/tenancy';
import { DataPlaneErrorCode, DataPlaneException } from '../errors/data-plane.exception';
import { TenantResolver } from './tenant-resolver.service';
import { tenantHostOf } from './tenant-host';

/** Seconds a client is told to wait while a tenant is still being provisioned. */
const PROVISIONING_RETRY_AFTER_SECONDS = 5;

/** Node's request once the middleware admitted its tenant (Fastify keeps it as `raw`). */
export interface TenantRequest extends IncomingMessage {
  tenant?: ResolvedTenant;
}

/** The tenant this middleware admitted, from the request any adapter hands a handler. */
export function resolvedTenantOf(
  request: TenantRequest | { readonly raw: TenantRequest },
): ResolvedTenant | undefined {
  return nodeRequestOf(request).tenant;
}

/**
 * Sets the tenant context once per request, from the Host header only (or X-Forwarded-Host when
 * the peer is a configured trusted proxy). Everything downstream reads the context; nothing
 * re-derives the tenant from the request.
 */
@Injectable()
export class TenantResolutionMiddleware implements NestMiddleware {
  private readonly trustedProxies: ReadonlySet<string>;

  constructor(
    private readonly resolver: TenantResolver,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.trustedProxies = new Set(config.trustedProxies);
  }

  use(request: TenantRequest, _response: ServerResponse, next: NextFunction): void | Promise<void> {
    const ambiguity = hostAmbiguity(request);
    if (ambiguity) {
      next(new DataPlaneException(DataPlaneErrorCode.UnknownTenant, ambiguity));
      return;
    }
    // A cached host (nearly every request) is admitted at once, without a promise in between.
    const cached = this.resolver.cachedFor(request, this.trustedProxies);
    if (cached) {
      enter(request, cached.tenant, next);
      return;
    }
    const host = tenantHostOf(request, this.trustedProxies);
    return this.resolver.resolve(host).then((tenant) => enter(request, tenant, next), next);
  }
}

/**
 * Why a request names no single tenant, or null. Node keeps the first of several Host headers
 * and drops the rest, and a target in absolute form (`GET http://b.example/api/...`) names a
 * host of its own that Host may contradict: a proxy or firewall in front that reads the other
 * one would reason about another tenant than the one served, so neither is served.
 */
function hostAmbiguity(request: IncomingMessage & { originalUrl?: string }): string | null {
  const target = request.originalUrl ?? request.url ?? '';
  if (!target.startsWith('/')) return 'the request target must be a path, not a full URL';
  const raw = request.rawHeaders;
  let hosts = 0;
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index].length === 4 && raw[index].toLowerCase() === 'host') hosts += 1;
  }
  return hosts > 1 ? 'the request has more than one Host header' : null;
}

/** Runs the rest of the request in the tenant's context, or fails it when none is admitted. */
function enter(request: TenantRequest, resolved: ResolvedTenant | null, next: NextFunction): void {
  let tenant: ResolvedTenant;
  try {
    tenant = admit(resolved);
  } catch (error) {
    next(error);
    return;
  }
  request.tenant = tenant;
  const { id, slug, schemaName, cluster } = tenant;
  TenantContext.run({ id, slug, schemaName, cluster }, next);
}

function admit(tenant: ResolvedTenant | null): ResolvedTenant {
  if (!tenant)
    throw new DataPlaneException(
      DataPlaneErrorCode.UnknownTenant,
      'No tenant is served at this host',
    );
  switch (tenant.status) {
    case 'active':
      return tenant;
    case 'suspended':
      throw new DataPlaneException(DataPlaneErrorCode.TenantSuspended, 'This tenant is suspended');
    case 'provisioning':
      throw new DataPlaneException(
        DataPlaneErrorCode.TenantNotReady,
        'This tenant is still being set up',
        PROVISIONING_RETRY_AFTER_SECONDS,
      );
    case 'failed':
      throw new DataPlaneException(
        DataPlaneErrorCode.TenantUnavailable,
        'This tenant could not be set up; the operators have been told',
      );
    // Pool schemas have no hostname; listed so that a row in a bad state still fails closed.
    case 'warming':
    case 'pooled':
    case 'deleting':
    case 'deleted':
      throw new DataPlaneException(
        DataPlaneErrorCode.UnknownTenant,
        'No tenant is served at this host',
      );
    default: {
      const unhandled: never = tenant.status;
      throw new Error(`Unhandled tenant status ${String(unhandled)}`);
    }
  }
}
