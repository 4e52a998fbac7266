import type { ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import type { NextFunction } from '@platform/http';
import type { ResolvedTenant } from '@platform/tenancy';
import { AccessTokenService } from '../auth/access-token.service';
import { requestUser } from '../auth/request-user';
import type { RateLimitedRequest } from './rate-limited-request';
import { RateLimitResponder } from './rate-limit.responder';
import { TenantRateLimiter } from './tenant-rate-limiter';

/**
 * Runs on every /api request once the tenant is resolved.
 *
 * - A tenant already over its limit (blocked in this replica's memory) is refused here, before
 *   any token check or Redis call.
 * - Every other request is decided here, against the tenant's limit and, when it carries a
 *   valid access token, its user's too (both counted in one Redis round trip, or from memory).
 *   The token is verified here for that, once per request (requestUser); TenantAuthGuard takes
 *   the same answer. Deciding in a middleware rather than in an interceptor
 *   after the guard spares every request Nest's interceptor machinery: per interceptor an rxjs
 *   chain and an `AsyncResource.bind`, which builds two `util.deprecate` wrappers each time
 *   (seen in a CPU profile of `npm run bench`). A missing or invalid token counts against the
 *   tenant only; the guard then refuses it.
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private readonly enabled: boolean;

  constructor(
    private readonly limiter: TenantRateLimiter,
    private readonly responder: RateLimitResponder,
    private readonly tokens: AccessTokenService,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.enabled = config.rateLimits.enabled;
  }

  use(request: RateLimitedRequest, response: ServerResponse, next: NextFunction): void {
    const tenant = request.tenant;
    if (!this.enabled || !tenant) {
      next();
      return;
    }
    const blocked = this.limiter.blockedTenant(tenant);
    if (blocked) {
      next(this.responder.apply(response, tenant, { states: [blocked], fromMemory: true }));
      return;
    }
    const user = requestUser(request, this.tokens);
    if (user instanceof Promise) {
      user.then((known) => this.decide(tenant, known?.id ?? null, response, next), next);
      return;
    }
    this.decide(tenant, user?.id ?? null, response, next);
  }

  private decide(
    tenant: ResolvedTenant,
    userId: string | null,
    response: ServerResponse,
    next: NextFunction,
  ): void {
    const decided = this.limiter.decide(tenant, userId);
    if (!(decided instanceof Promise)) {
      next(this.responder.apply(response, tenant, decided) ?? undefined);
      return;
    }
    decided.then((decision) => {
      next(this.responder.apply(response, tenant, decision) ?? undefined);
    }, next);
  }
}
