import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import type { NextFunction } from '@platform/http';
import { TenantResolver } from '../tenant-resolution/tenant-resolver.service';
import { gatedTenant } from './gated-tenant';
import { RateLimitResponder } from './rate-limit.responder';
import { TenantRateLimiter } from './tenant-rate-limiter';

/** Refusals held at once per replica; past this they are sent at once (memory stays bounded). */
const MAX_HELD_REFUSALS = 1_000;

/**
 * Each refusal is held between half and one and a half times the delay (the delay on average).
 * A fixed hold keeps a flooder's connections in step: all of them answered in the same tick
 * and all back in the next, a burst every delay that every other tenant's requests queue
 * behind, and all of them reaching Redis together when the block lifts.
 */
export function heldFor(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs * (0.5 + random()));
}

/**
 * The cheapest possible refusal, mounted on the HTTP server ahead of Nest's own middleware (request
 * log, HTTP metrics, routing, exception filter): a request to the /api of a tenant already
 * blocked in this replica's memory is answered 429 right here, from the host cache and the
 * in-memory block, in a few microseconds. A flooder that ignores its 429s keeps the event loop
 * busy for every request it sends, so what each one costs decides how much of the replica is
 * left for the other tenants (bench/noisy-neighbour.bench.ts).
 *
 * Such a refusal is held about RATE_LIMIT_REFUSAL_DELAY_MS (250 ms; see heldFor) before it is
 * sent: a client that keeps sending on the same connections without honouring Retry-After (a
 * script in a loop, a load tool) is slowed to a few requests per second per connection instead
 * of thousands.
 * Held refusals cost a timer and an idle socket each, bounded by MAX_HELD_REFUSALS per replica;
 * a flood from ever more connections is not slowed by this, only refused cheaply (that needs
 * limiting in front of the replicas, at the load balancer).
 *
 * Only an optimisation: whatever it does not recognise (a host not cached yet, a tenant not
 * blocked) goes the normal way, where RateLimitMiddleware decides. Refusals
 * answered here skip the per-request log line, on purpose: a flood must not become a log flood
 * (`data_plane_rate_limited_requests_total` still counts them).
 */
@Injectable()
export class RateLimitGate {
  private readonly enabled: boolean;
  private readonly delayMs: number;
  private readonly trustedProxies: ReadonlySet<string>;
  private held = 0;

  constructor(
    private readonly resolver: TenantResolver,
    private readonly limiter: TenantRateLimiter,
    private readonly responder: RateLimitResponder,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
  ) {
    this.enabled = config.rateLimits.enabled;
    this.delayMs = config.rateLimits.refusalDelayMs;
    this.trustedProxies = new Set(config.trustedProxies);
  }

  readonly handle = (
    request: IncomingMessage,
    response: ServerResponse,
    next: NextFunction,
  ): void => {
    const tenant = this.enabled ? gatedTenant(this.resolver, request, this.trustedProxies) : null;
    const blocked = tenant ? this.limiter.blockedTenant(tenant) : null;
    if (!tenant || !blocked) {
      next();
      return;
    }
    if (this.delayMs === 0 || this.held >= MAX_HELD_REFUSALS) {
      this.responder.send(response, tenant, blocked);
      return;
    }
    this.held += 1;
    const holdMs = heldFor(this.delayMs);
    setTimeout(() => {
      this.held -= 1;
      // The client may have gone meanwhile; the refusal then has nobody to go to.
      if (!response.destroyed && !response.headersSent) {
        this.responder.send(response, tenant, {
          ...blocked,
          resetMs: Math.max(0, blocked.resetMs - holdMs),
        });
      }
    }, holdMs);
  };
}
