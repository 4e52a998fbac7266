import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { DATA_PLANE_CONFIG, type DataPlaneConfig } from '@platform/config';
import { effectiveLimits, type ResolvedTenant } from '@platform/tenancy';
import { LocalAllowance } from './local-allowance';
import { RATE_LIMIT_WINDOW_SECONDS, type LimitKind, type LimitState } from './rate-limit-decision';
import { RateLimitMetrics } from './rate-limit.metrics';
import { COUNT_ADMITTED_SCRIPT, SLIDING_WINDOW_SCRIPT } from './sliding-window.script';

/**
 * A Redis that is down or stuck must not hold requests: commands fail at once while it is not
 * connected (no offline queue), and give up after this long when it does not answer.
 */
const REDIS_COMMAND_TIMEOUT_MS = 200;
/** At most one log line per this interval about Redis trouble, however many requests see it. */
const STORE_ERROR_LOG_INTERVAL_MS = 10_000;
/** How long start-up waits for Redis, so the first requests are not all counted in memory. */
const CONNECT_WAIT_MS = 2_000;
/** How often requests admitted from memory (LocalAllowance) are counted in Redis. */
export const RATE_LIMIT_FLUSH_MS = 100;
/** Keys counted per script call of a flush (a call's arguments stay a few hundred KB at most). */
const FLUSH_KEYS_PER_CALL = 1_000;
/** Views of keys nobody asked about lately are forgotten every this many flushes (~5 s). */
const PRUNE_EVERY_FLUSHES = 50;
/** Users' key strings kept per tenant object (userKey) before they are all dropped and rebuilt. */
const MAX_USER_KEYS_PER_TENANT = 10_000;

/** A request's answer: every limit that applied, and whether the replica's memory decided. */
export interface RateLimitDecision {
  readonly states: readonly LimitState[];
  /** True when an in-memory block refused without asking Redis (the key is known to be over). */
  readonly fromMemory: boolean;
}

/** In rate-limiter-flexible's store limiters (RateLimiterStoreAbstract), not in its typings. */
interface InMemoryBlocks {
  getInMemoryBlockMsBeforeExpire(rlKey: string): number;
}

interface KindLimiters {
  readonly redis: RateLimiterRedis & InMemoryBlocks;
  readonly memory: RateLimiterMemory;
}

/**
 * One key to count against (a tenant, or one user of a tenant), with everything a request needs
 * to judge it, built once per tenant object (and user) rather than per request: the limiters
 * for its limit and the key's Redis name. Strings made afresh for every request (the Redis key,
 * the limiter's `kind:limit` id) were hashed afresh by every Map, Set and object they met.
 */
interface LimitTarget {
  readonly kind: LimitKind;
  readonly limit: number;
  /** The key as rate-limiter-flexible takes it (without its prefix). */
  readonly key: string;
  /** The key as it is named in Redis and in the replica's memory. */
  readonly redisKey: string;
  readonly limiters: KindLimiters;
}

/** A tenant object's targets: the tenant's own, and its users' as they come. */
interface TenantTargets {
  readonly tenant: LimitTarget;
  readonly userLimit: number;
  readonly users: Map<string, LimitTarget>;
}

/** COUNT_ADMITTED_SCRIPT as a command: the number of keys, the keys, window seconds, counts. */
interface CountingClient {
  platformRateCountAdmitted(
    keyCount: number,
    ...keysWindowAndCounts: Array<string | number>
  ): Promise<number[]>;
}

/**
 * Requests per minute per tenant (every caller of its API together, signed in or not) and per
 * signed-in user of a tenant, in Redis so that every replica counts against the same numbers.
 *
 * Hot-path rules (the data plane's throughput is benchmarked against plain NestJS):
 * - a key well under its limit is admitted from this replica's memory and counted in Redis
 *   afterwards, in one pipelined batch every RATE_LIMIT_FLUSH_MS (LocalAllowance: within half
 *   the limit, at most 5 % of it between two answers from Redis; near the limit every request
 *   asks Redis, so the answer there is exact);
 * - otherwise one Redis round trip for both limits: both scripts are sent in the same tick on a
 *   dedicated client with auto-pipelining, which also batches concurrent requests' commands;
 * - a key found over its limit is blocked in this replica's memory until it would fit again
 *   (rate-limiter-flexible's in-memory block), so a flooder costs no Redis traffic at all;
 * - limits come from the resolved tenant (plan and overrides), cached with it.
 *
 * When Redis fails, each replica falls back to an in-memory limiter with the same limits
 * (fails open to a per-replica limit rather than refusing every tenant's traffic), counts that
 * in `data_plane_rate_limit_store_failures_total` and logs it at most every 10 s.
 */
@Injectable()
export class TenantRateLimiter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TenantRateLimiter.name);
  private readonly client: Redis;
  private readonly keyPrefix: string;
  /** One pair per kind and limit value (rate-limiter-flexible fixes the limit per instance). */
  private readonly limiters = new Map<string, KindLimiters>();
  /**
   * The resolved tenant objects are replaced when the tenant changes (its plan or overrides
   * too), so these never go stale.
   */
  private readonly targetsByTenant = new WeakMap<ResolvedTenant, TenantTargets>();
  private lastStoreErrorLog = 0;
  private readonly enabled: boolean;
  private readonly allowance = new LocalAllowance();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushes = 0;

  constructor(
    @Inject(DATA_PLANE_CONFIG) config: DataPlaneConfig,
    private readonly metrics: RateLimitMetrics,
  ) {
    this.enabled = config.rateLimits.enabled;
    this.keyPrefix = `${config.redisPrefix}:rl`;
    this.client = new Redis(config.redisUrl.reveal(), {
      enableAutoPipelining: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
      // Switched off, nothing ever asks, so nothing connects.
      lazyConnect: !config.rateLimits.enabled,
    });
    this.client.on('error', (error: Error) => this.storeError(error));
    this.client.defineCommand('platformRateCountAdmitted', { lua: COUNT_ADMITTED_SCRIPT });
  }

  /** Waits a little for Redis; starts anyway without it (requests are then limited in memory). */
  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    this.flushTimer = setInterval(() => void this.flush(), RATE_LIMIT_FLUSH_MS);
    // Counting must not keep a process alive that has nothing else to do.
    this.flushTimer.unref();
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, CONNECT_WAIT_MS);
      this.client.once('ready', done);
    });
  }

  /** The tenant's own block, checked before anything else: no Redis, no token check. */
  blockedTenant(tenant: ResolvedTenant): LimitState | null {
    return this.blocked(this.targetsOf(tenant).tenant);
  }

  blockedUser(tenant: ResolvedTenant, userId: string): LimitState | null {
    return this.blocked(this.userTarget(this.targetsOf(tenant), tenant, userId));
  }

  /**
   * Counts the request against the tenant and, when signed in, against its user. Synchronous
   * when this replica's memory can answer (a block, or both keys admitted from memory), a
   * promise when Redis must be asked.
   */
  decide(
    tenant: ResolvedTenant,
    userId: string | null,
  ): RateLimitDecision | Promise<RateLimitDecision> {
    const targets = this.targetsOf(tenant);
    const user = userId === null ? null : this.userTarget(targets, tenant, userId);
    const blocked = this.blocked(targets.tenant) ?? (user === null ? null : this.blocked(user));
    if (blocked) return { states: [blocked], fromMemory: true };
    // Whatever must ask Redis leaves in the same tick: one pipelined write, one round trip.
    const tenantState = this.admit(targets.tenant);
    const userState = user === null ? null : this.admit(user);
    if (!(tenantState instanceof Promise) && !(userState instanceof Promise)) {
      return { states: userState ? [tenantState, userState] : [tenantState], fromMemory: false };
    }
    const answers = (userState ? [tenantState, userState] : [tenantState]).map((state) =>
      Promise.resolve(state),
    );
    return Promise.all(answers).then((states) => ({ states, fromMemory: false }));
  }

  /** Sends what was admitted from memory to Redis now (shutdown; tests). */
  async flush(): Promise<void> {
    this.flushes += 1;
    if (this.flushes % PRUNE_EVERY_FLUSHES === 0) this.allowance.prune();
    const batch = this.allowance.takeAllPending();
    // One script call for every key: a flush costs Redis one command however many keys it has.
    for (let start = 0; start < batch.length; start += FLUSH_KEYS_PER_CALL) {
      await this.count(batch.slice(start, start + FLUSH_KEYS_PER_CALL));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.client.status === 'ready') await this.flush();
    // quit() lets pending commands finish, but only a connected client has any.
    if (this.client.status === 'ready') await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }

  private targetsOf(tenant: ResolvedTenant): TenantTargets {
    let targets = this.targetsByTenant.get(tenant);
    if (!targets) {
      const effective = effectiveLimits(tenant.plan, tenant.limitOverrides);
      targets = {
        tenant: this.target('tenant', effective.requestsPerMinute, tenant.id),
        userLimit: effective.requestsPerMinutePerUser,
        users: new Map(),
      };
      this.targetsByTenant.set(tenant, targets);
    }
    return targets;
  }

  private userTarget(targets: TenantTargets, tenant: ResolvedTenant, userId: string): LimitTarget {
    let target = targets.users.get(userId);
    if (target === undefined) {
      // Bounded: a tenant object lives until its cache entry is reloaded, but a tenant with very
      // many active users must not grow this without end meanwhile.
      if (targets.users.size >= MAX_USER_KEYS_PER_TENANT) targets.users.clear();
      target = this.target('user', targets.userLimit, `${tenant.id}:${userId}`);
      targets.users.set(userId, target);
    }
    return target;
  }

  private target(kind: LimitKind, limit: number, key: string): LimitTarget {
    const limiters = this.limitersFor(kind, limit);
    return { kind, limit, key, redisKey: limiters.redis.getKey(key), limiters };
  }

  private blocked(target: LimitTarget): LimitState | null {
    const { kind, limit } = target;
    // A limit of 0 shuts the door: nothing to count.
    if (limit <= 0) {
      return {
        kind,
        limit: 0,
        remaining: 0,
        resetMs: RATE_LIMIT_WINDOW_SECONDS * 1000,
        refused: true,
      };
    }
    const ms = target.limiters.redis.getInMemoryBlockMsBeforeExpire(target.redisKey);
    return ms > 0 ? { kind, limit, remaining: 0, resetMs: ms, refused: true } : null;
  }

  /** From memory when LocalAllowance allows, else by asking Redis. */
  private admit(target: LimitTarget): LimitState | Promise<LimitState> {
    const local = this.allowance.tryAdmit(target.redisKey, target.limit);
    if (local) {
      return {
        kind: target.kind,
        limit: target.limit,
        remaining: local.remaining,
        resetMs: local.resetMs,
        refused: false,
      };
    }
    return this.consume(target);
  }

  private async consume(target: LimitTarget): Promise<LimitState> {
    const { kind, limit, key, redisKey, limiters } = target;
    // Requests admitted from memory are counted first, in the same pipelined write.
    const pending = this.allowance.takePending(redisKey);
    if (pending > 0) void this.count([[redisKey, pending]]);
    try {
      const admitted = await limiters.redis.consume(key);
      this.allowance.synced(redisKey, admitted.consumedPoints, admitted.msBeforeNext);
      return stateOf(kind, limit, admitted, false);
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) return stateOf(kind, limit, outcome, true);
      this.storeError(outcome);
      this.metrics.storeFailures.inc();
      return this.consumeInMemory(kind, limit, limiters.memory, key);
    }
  }

  /** Counts requests already admitted (no limit checked) and refreshes this replica's views. */
  private async count(batch: ReadonlyArray<readonly [redisKey: string, admitted: number]>) {
    if (batch.length === 0) return;
    try {
      const answers = await (this.client as unknown as CountingClient).platformRateCountAdmitted(
        batch.length,
        ...batch.map(([redisKey]) => redisKey),
        RATE_LIMIT_WINDOW_SECONDS,
        ...batch.map(([, admitted]) => admitted),
      );
      batch.forEach(([redisKey], index) =>
        this.allowance.synced(redisKey, Number(answers[2 * index]), Number(answers[2 * index + 1])),
      );
    } catch (error) {
      // Those requests were served; with Redis away they go uncounted (failing open, as below).
      this.storeError(error);
      this.metrics.storeFailures.inc();
    }
  }

  private async consumeInMemory(
    kind: LimitKind,
    limit: number,
    memory: RateLimiterAbstract,
    key: string,
  ): Promise<LimitState> {
    try {
      return stateOf(kind, limit, await memory.consume(key), false);
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) return stateOf(kind, limit, outcome, true);
      throw outcome;
    }
  }

  private limitersFor(kind: LimitKind, limit: number): KindLimiters {
    const id = `${kind}:${limit}`;
    let limiters = this.limiters.get(id);
    if (!limiters) {
      // Keys: <REDIS_PREFIX>:rl:tenant:<tenant id> and <REDIS_PREFIX>:rl:user:<tenant id>:<user id>.
      // The same key whatever the limit, so a changed limit applies to the count so far.
      const keyPrefix = `${this.keyPrefix}:${kind}`;
      limiters = {
        redis: new RateLimiterRedis({
          storeClient: this.client,
          keyPrefix,
          points: limit,
          duration: RATE_LIMIT_WINDOW_SECONDS,
          customIncrTtlLuaScript: SLIDING_WINDOW_SCRIPT,
          rejectIfRedisNotReady: true,
          // Over the limit: blocked here until the script says one more request would fit.
          inMemoryBlockOnConsumed: limit + 1,
        }) as RateLimiterRedis & InMemoryBlocks,
        memory: new RateLimiterMemory({
          keyPrefix,
          points: limit,
          duration: RATE_LIMIT_WINDOW_SECONDS,
        }),
      };
      this.limiters.set(id, limiters);
    }
    return limiters;
  }

  private storeError(error: unknown): void {
    const now = Date.now();
    if (now - this.lastStoreErrorLog < STORE_ERROR_LOG_INTERVAL_MS) return;
    this.lastStoreErrorLog = now;
    this.logger.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'rate-limit store (Redis) failing: each replica limits on its own, in memory, until it is back',
    );
  }
}

function stateOf(
  kind: LimitKind,
  limit: number,
  result: RateLimiterRes,
  refused: boolean,
): LimitState {
  return {
    kind,
    limit,
    remaining: refused ? 0 : result.remainingPoints,
    resetMs: result.msBeforeNext,
    refused,
  };
}
