import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Response } from 'express';
import { from, switchMap, throwError, type Observable } from 'rxjs';
import { DECIDE_AFTER_AUTH, type RateLimitedRequest } from './rate-limited-request';
import { RateLimitResponder } from './rate-limit.responder';
import { TenantRateLimiter } from './tenant-rate-limiter';

/**
 * The second half of RateLimitMiddleware, for requests that carry a bearer token: interceptors
 * run after every guard, so TenantAuthGuard has set `request.user` on routes that need one.
 * Registered globally; it does nothing for requests the middleware did not hand over.
 */
@Injectable()
export class RateLimitInterceptor implements NestInterceptor {
  constructor(
    private readonly limiter: TenantRateLimiter,
    private readonly responder: RateLimitResponder,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<RateLimitedRequest>();
    const tenant = request[DECIDE_AFTER_AUTH];
    if (!tenant) return next.handle();
    request[DECIDE_AFTER_AUTH] = undefined;
    const response = context.switchToHttp().getResponse<Response>();
    const decided = this.limiter.decide(tenant, request.user?.id ?? null);
    // Decided from memory (nearly every request): no promise and no extra operator in between.
    if (!(decided instanceof Promise)) {
      const refusal = this.responder.apply(response, tenant, decided);
      return refusal ? throwError(() => refusal) : next.handle();
    }
    return from(decided).pipe(
      switchMap((decision) => {
        const refusal = this.responder.apply(response, tenant, decision);
        return refusal ? throwError(() => refusal) : next.handle();
      }),
    );
  }
}
