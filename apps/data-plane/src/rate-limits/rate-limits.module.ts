import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { RateLimitInterceptor } from './rate-limit.interceptor';
import { RateLimitMetrics } from './rate-limit.metrics';
import { RateLimitMiddleware } from './rate-limit.middleware';
import { RateLimitResponder } from './rate-limit.responder';
import { TenantRateLimiter } from './tenant-rate-limiter';

/**
 * Requests per minute per tenant and per user (plan defaults, per-tenant overrides).
 * The app applies RateLimitMiddleware to /api after tenant resolution; the interceptor is global.
 */
@Module({
  providers: [
    TenantRateLimiter,
    RateLimitMetrics,
    RateLimitResponder,
    RateLimitMiddleware,
    { provide: APP_INTERCEPTOR, useClass: RateLimitInterceptor },
  ],
  // The app module builds the middleware, so its dependencies must be visible there too.
  exports: [RateLimitMiddleware, TenantRateLimiter, RateLimitResponder],
})
export class RateLimitsModule {}
