import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TenantResolutionModule } from '../tenant-resolution/tenant-resolution.module';
import { RateLimitGate } from './rate-limit.gate';
import { RateLimitMetrics } from './rate-limit.metrics';
import { RateLimitMiddleware } from './rate-limit.middleware';
import { RateLimitResponder } from './rate-limit.responder';
import { TenantConcurrencyGate } from './tenant-concurrency.gate';
import { TenantRateLimiter } from './tenant-rate-limiter';

/**
 * Requests per minute per tenant and per user (plan defaults, per-tenant overrides).
 * The app applies RateLimitMiddleware to /api after tenant resolution and mounts RateLimitGate
 * and TenantConcurrencyGate ahead of Nest's middleware (data-plane.app.ts).
 */
@Module({
  imports: [TenantResolutionModule, AuthModule],
  providers: [
    RateLimitGate,
    TenantConcurrencyGate,
    TenantRateLimiter,
    RateLimitMetrics,
    RateLimitResponder,
    RateLimitMiddleware,
  ],
  // The app module builds the middleware, so its dependencies must be visible there too.
  exports: [
    RateLimitGate,
    TenantConcurrencyGate,
    RateLimitMiddleware,
    TenantRateLimiter,
    RateLimitResponder,
  ],
})
export class RateLimitsModule {}
