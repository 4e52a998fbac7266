import { AsyncResource } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { answerJson, type ErrorBody, type NextFunction } from '@platform/http';
import { MetricsRegistry } from '@platform/observability';
import { effectiveLimits, type ResolvedTenant } from '@platform/tenancy';
import { DataPlaneErrorCode } from '../errors/data-plane.exception';
import { TenantResolver } from '../tenant-resolution/tenant-resolver.service';
import { gatedTenant } from './gated-tenant';

/** How many requests may wait per slot of a tenant's concurrency limit before more are refused. */
const WAITING_PER_SLOT = 8;

/** The methods whose body Fastify never reads: their requests are judged at the door. */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'TRACE']);

/**
 * Whether a request of this method is judged once its body is in (`afterBody`) rather than at
 * the door. By method, not by the request's headers, so that only the routes of such methods
 * need the preHandler hook (every hook is a step of every request it is on), and so that no
 * header a client sets decides where, or whether, it is judged.
 */
export function judgedAfterBody(method: string | undefined): boolean {
  return method === undefined || !BODYLESS_METHODS.has(method);
}

interface Waiting {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly next: NextFunction;
}

/** One tenant's requests in this replica: how many are in progress, and who waits, in order. */
interface Lane {
  limit: number;
  active: number;
  readonly waiting: Waiting[];
}

/**
 * At most `concurrentRequests` (plan, per-tenant override) of one tenant's /api requests are in
 * progress at once in this replica; the next ones wait in the tenant's own line, in order, and
 * past WAITING_PER_SLOT × the limit they are refused with 429.
 *
 * Why, next to the rate limit: a rate limit counts requests per minute, so a tenant that was
 * quiet may spend its whole minute's allowance in one burst. Without this, a burst of a few
 * hundred admitted requests runs all at once: every database connection of the replica goes to
 * that tenant and every other tenant's query queues behind hundreds of its own (the pool's
 * queue is first come, first served), for seconds (bench/noisy-neighbour.bench.ts). With it,
 * the burst is served a few requests at a time, interleaved with everyone else's.
 *
 * Mounted ahead of Nest, after RateLimitGate: a waiting request has only been parsed, so a long
 * line costs memory, not work. A request of a method with a body is judged once its body is in
 * (`afterBody`, a Fastify preHandler hook), not at the door: a client sending bodies slowly,
 * signed in or not, held slots while it did and stalled the tenant's whole API until the
 * request timeout. Only what the host cache knows is judged; a host not cached yet goes
 * through (the next request is judged).
 */
@Injectable()
export class TenantConcurrencyGate {
  private readonly enabled: boolean;
  private readonly trustedProxies: ReadonlySet<string>;
  private readonly lanes = new Map<string, Lane>();
  /** The resolved tenant objects are replaced when the tenant changes, so this never goes stale. */
  private readonly limitOf = new WeakMap<ResolvedTenant, number>();
  private readonly waited: Counter;
  private readonly refused: Counter;

  constructor(
    private readonly resolver: TenantResolver,
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
    metrics: MetricsRegistry,
  ) {
    this.enabled = config.rateLimits.enabled;
    this.trustedProxies = new Set(config.trustedProxies);
    this.waited = new Counter({
      name: 'data_plane_tenant_requests_waited_total',
      help: "Requests that waited for a slot of their tenant's concurrency limit (concurrentRequests)",
      registers: [metrics.registry],
    });
    this.refused = new Counter({
      name: 'data_plane_tenant_concurrency_refused_total',
      help: "Requests refused with 429 because their tenant's line of waiting requests was full",
      registers: [metrics.registry],
    });
  }

  /** Middleware ahead of Nest: requests of methods without a body (GET, HEAD, TRACE). */
  readonly handle = (
    request: IncomingMessage,
    response: ServerResponse,
    next: NextFunction,
  ): void => {
    if (judgedAfterBody(request.method)) next();
    else this.judge(request, response, next);
  };

  /**
   * After the body has been read: a preHandler hook on the routes of every other method (see
   * judgedAfterBody); a request of such a method to no route at all costs nothing to refuse.
   */
  readonly afterBody = (
    request: IncomingMessage,
    response: ServerResponse,
    next: NextFunction,
  ): void => {
    if (judgedAfterBody(request.method)) this.judge(request, response, next);
    else next();
  };

  private judge(request: IncomingMessage, response: ServerResponse, next: NextFunction): void {
    const tenant = this.enabled ? gatedTenant(this.resolver, request, this.trustedProxies) : null;
    if (!tenant) {
      next();
      return;
    }
    let lane = this.lanes.get(tenant.id);
    if (!lane) {
      lane = { limit: 0, active: 0, waiting: [] };
      this.lanes.set(tenant.id, lane);
    }
    lane.limit = this.concurrencyOf(tenant);
    if (lane.active < lane.limit) {
      this.admit(tenant.id, lane, response, next);
      return;
    }
    if (lane.waiting.length >= lane.limit * WAITING_PER_SLOT) {
      this.refuse(response, lane.limit);
      if (lane.active === 0 && lane.waiting.length === 0) this.lanes.delete(tenant.id);
      return;
    }
    this.waited.inc();
    // Released by another request's 'finish': without the binding the rest of this request would
    // run in that request's async context (its tenant context, its request id) once past
    // the tenant's middleware, as a request judged after its body is.
    lane.waiting.push({ request, response, next: AsyncResource.bind(next) });
  }

  /** Requests in progress and waiting for a tenant in this replica (tests, diagnostics). */
  load(tenantId: string): { active: number; waiting: number } {
    const lane = this.lanes.get(tenantId);
    return { active: lane?.active ?? 0, waiting: lane?.waiting.length ?? 0 };
  }

  private admit(tenantId: string, lane: Lane, response: ServerResponse, next: NextFunction): void {
    lane.active += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      lane.active -= 1;
      this.dispatch(tenantId, lane);
    };
    // 'finish' when the answer went out, 'close' when the client left first: whichever comes.
    response.once('finish', release);
    response.once('close', release);
    next();
  }

  private dispatch(tenantId: string, lane: Lane): void {
    while (lane.active < lane.limit && lane.waiting.length > 0) {
      const waiting = lane.waiting.shift()!;
      // A client that gave up while waiting has nobody left to answer.
      if (waiting.request.socket.destroyed || waiting.response.writableEnded) continue;
      this.admit(tenantId, lane, waiting.response, waiting.next);
    }
    if (lane.active === 0 && lane.waiting.length === 0) this.lanes.delete(tenantId);
  }

  private concurrencyOf(tenant: ResolvedTenant): number {
    let limit = this.limitOf.get(tenant);
    if (limit === undefined) {
      limit = effectiveLimits(tenant.plan, tenant.limitOverrides).concurrentRequests;
      this.limitOf.set(tenant, limit);
    }
    return limit;
  }

  private refuse(response: ServerResponse, limit: number): void {
    this.refused.inc();
    const message =
      limit === 0
        ? "This tenant's API accepts no requests (its concurrentRequests limit is 0)"
        : `This tenant already has ${limit} requests in progress and ${limit * WAITING_PER_SLOT} waiting on this server; try again in 1 s`;
    const body: ErrorBody = {
      error: DataPlaneErrorCode.RateLimited,
      message,
      details: [{ field: 'concurrentRequests', rule: 'tenant-concurrency', message }],
    };
    response.setHeader('Retry-After', '1');
    answerJson(response, 429, body);
  }
}
