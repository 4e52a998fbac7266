import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { DECIDE_AFTER_AUTH, type RateLimitedRequest } from './rate-limited-request';
import { RateLimitResponder } from './rate-limit.responder';
import { TenantRateLimiter } from './tenant-rate-limiter';

const BEARER = /^Bearer\s/i;

/**
 * Runs on every /api request once the tenant is resolved.
 *
 * - A tenant already over its limit (blocked in this replica's memory) is refused here, before
 *   any token check or Redis call.
 * - A request without a bearer token (login, invites, the public profile, lookups) is decided
 *   here against the tenant's limit.
 * - A request with one is decided after authentication by RateLimitInterceptor, which then
 *   knows the user and counts both limits in one Redis round trip. If it never gets there
 *   (TenantAuthGuard refused the token, no route matched), the request still counts against
 *   the tenant once the response is sent; such a response carries no RateLimit headers.
 */
@Injectable()
export class RateLimitMiddleware implements NestMiddleware {
  private readonly enabled: boolean;

  constructor(
    private readonly limiter: TenantRateLimiter,
    private readonly responder: RateLimitResponder,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.enabled = config.rateLimits.enabled;
  }

  use(request: RateLimitedRequest, response: Response, next: NextFunction): void {
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
    if (BEARER.test(request.headers.authorization ?? '')) {
      request[DECIDE_AFTER_AUTH] = tenant;
      response.once('finish', () => {
        if (request[DECIDE_AFTER_AUTH]) {
          request[DECIDE_AFTER_AUTH] = undefined;
          const decided = this.limiter.decide(tenant, null);
          if (decided instanceof Promise) decided.catch(() => undefined);
        }
      });
      next();
      return;
    }
    const decided = this.limiter.decide(tenant, null);
    if (!(decided instanceof Promise)) {
      next(this.responder.apply(response, tenant, decided) ?? undefined);
      return;
    }
    decided.then((decision) => {
      const refusal = this.responder.apply(response, tenant, decision);
      next(refusal ?? undefined);
    }, next);
  }
}
