/**
 * TenantRateLimiter against the real Redis (no apps): the sliding window's arithmetic, the
 * in-memory block that keeps a flooder off Redis, and failing open to the per-replica limiter
 * when Redis is unreachable.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadDataPlaneConfig } from '@platform/config';
import { MetricsRegistry } from '@platform/observability';
import type { LimitOverrides, ResolvedTenant } from '@platform/tenancy';
import { RateLimitMetrics } from '../src/rate-limits/rate-limit.metrics';
import { TenantRateLimiter, type RateLimitDecision } from '../src/rate-limits/tenant-rate-limiter';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const WINDOW_MS = 60_000;

function tenantWith(limitOverrides: LimitOverrides): ResolvedTenant {
  const id = randomUUID();
  return {
    id,
    slug: `t-${id.slice(0, 8)}`,
    schemaName: `t_${id.replace(/-/g, '')}`,
    cluster: 'main',
    name: 'Test',
    plan: 'free',
    status: 'active',
    limitOverrides,
  };
}

function limiterOn(redisUrl: string, prefix: string) {
  const config = loadDataPlaneConfig({
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
  });
  const metrics = new RateLimitMetrics(new MetricsRegistry());
  return { limiter: new TenantRateLimiter(config, metrics), metrics };
}

async function redisNow(redis: Redis): Promise<{ window: number; elapsed: number }> {
  const [seconds, micros] = await redis.time();
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  return { window: Math.floor(nowMs / WINDOW_MS), elapsed: nowMs % WINDOW_MS };
}

describe('TenantRateLimiter on Redis', () => {
  const prefix = `rl-test-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let limiter: TenantRateLimiter;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    ({ limiter } = limiterOn(REDIS_URL, prefix));
    await limiter.onModuleInit();
  });

  afterAll(async () => {
    await limiter.onApplicationShutdown();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('admits up to the limit, refuses without counting, then blocks in memory', async () => {
    const tenant = tenantWith({ requestsPerMinute: 3 });
    const key = `${prefix}:rl:tenant:${tenant.id}`;
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const decision = await limiter.decide(tenant, null);
      expect(decision.states[0].refused).toBe(false);
      remaining.push(decision.states[0].remaining);
    }
    expect(remaining).toEqual([2, 1, 0]);

    const refused = await limiter.decide(tenant, null);
    expect(refused.fromMemory).toBe(false);
    expect(refused.states[0]).toMatchObject({ kind: 'tenant', limit: 3, refused: true });
    expect(refused.states[0].resetMs).toBeGreaterThan(0);
    expect(refused.states[0].resetMs).toBeLessThanOrEqual(2 * WINDOW_MS);
    // The refused request was not counted.
    expect(await redis.hget(key, 'c')).toBe('3');

    // From now on this replica answers from memory: even with the key gone, still refused.
    await redis.del(key);
    const again = await limiter.decide(tenant, null);
    expect(again.fromMemory).toBe(true);
    expect(again.states[0].refused).toBe(true);
    expect(limiter.blockedTenant(tenant)).toMatchObject({ refused: true, limit: 3 });
    expect(await redis.exists(key)).toBe(0);
  });

  it("weighs the previous window's count by the part of it still in the window", async () => {
    let now = await redisNow(redis);
    if (now.elapsed > 50_000) {
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS - now.elapsed + 50));
      now = await redisNow(redis);
    }
    const tenant = tenantWith({ requestsPerMinute: 3 });
    // 30 requests in the previous window: 30 × (1 − elapsed/60 s) ≫ 3 for the first 54 s.
    await redis.hset(`${prefix}:rl:tenant:${tenant.id}`, { w: now.window - 1, c: 30, p: 0 });
    const decision = await limiter.decide(tenant, null);
    const after = await redisNow(redis);
    const state = decision.states[0];
    expect(state.refused).toBe(true);
    // One more fits once 30 × (1 − t/60 s) + 1 ≤ 3, i.e. at t = 56 s into this window; the
    // wait is given in whole seconds (as Retry-After), rounded up. The decision was made at
    // some t between the two clock reads, which a loaded CI machine can set apart by 0.5 s.
    expect(after.window).toBe(now.window);
    expect(state.resetMs % 1_000).toBe(0);
    expect(state.resetMs).toBeGreaterThanOrEqual(56_000 - after.elapsed - 50);
    expect(state.resetMs).toBeLessThan(56_000 - now.elapsed + 1_000 + 50);
  });

  it('counts a user apart from the tenant and from the other users', async () => {
    const tenant = tenantWith({ requestsPerMinutePerUser: 2 });
    const first = [
      await limiter.decide(tenant, 'u1'),
      await limiter.decide(tenant, 'u1'),
      await limiter.decide(tenant, 'u1'),
    ];
    expect(first.map((d) => d.states.map((s) => [s.kind, s.refused]))).toEqual([
      [
        ['tenant', false],
        ['user', false],
      ],
      [
        ['tenant', false],
        ['user', false],
      ],
      [
        ['tenant', false],
        ['user', true],
      ],
    ]);
    const other = await limiter.decide(tenant, 'u2');
    expect(other.states.every((state) => !state.refused)).toBe(true);
    expect(limiter.blockedUser(tenant, 'u1')).toMatchObject({ kind: 'user', refused: true });
    expect(limiter.blockedUser(tenant, 'u2')).toBeNull();
    expect(await redis.exists(`${prefix}:rl:user:${tenant.id}:u1`)).toBe(1);
  });

  /** Away from a window's end, so a test's counts all land in one window (no fading). */
  async function awayFromWindowEnd(): Promise<void> {
    const now = await redisNow(redis);
    if (now.elapsed > WINDOW_MS - 5_000) {
      await new Promise((resolve) => setTimeout(resolve, WINDOW_MS - now.elapsed + 50));
    }
  }

  const admittedOf = async (replica: TenantRateLimiter, tenant: ResolvedTenant): Promise<boolean> =>
    !(await replica.decide(tenant, null)).states[0].refused;

  it('admits from memory well under the limit, and counts those requests in Redis at the flush', async () => {
    await awayFromWindowEnd();
    const tenant = tenantWith({ requestsPerMinute: 200 });
    const key = `${prefix}:rl:tenant:${tenant.id}`;
    // The first request asks Redis: this replica knows nothing of the key yet.
    const first = limiter.decide(tenant, null);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).states[0]).toMatchObject({ refused: false, remaining: 199 });
    expect(await redis.hget(key, 'c')).toBe('1');
    // Then up to 5 % of the limit (10) are decided from memory, without a promise.
    const decisions = Array.from({ length: 9 }, () => limiter.decide(tenant, null));
    expect(decisions.some((decision) => decision instanceof Promise)).toBe(false);
    const remaining = decisions.map(
      (decision) => (decision as RateLimitDecision).states[0].remaining,
    );
    expect(remaining).toEqual([198, 197, 196, 195, 194, 193, 192, 191, 190]);
    await limiter.flush();
    expect(await redis.hget(key, 'c')).toBe('10');
  });

  it('is exact at the limit on one replica: near it every request asks Redis', async () => {
    await awayFromWindowEnd();
    const tenant = tenantWith({ requestsPerMinute: 100 });
    let admitted = 0;
    for (let i = 0; i < 130; i++) if (await admittedOf(limiter, tenant)) admitted += 1;
    expect(admitted).toBe(100);
    await limiter.flush();
    expect(await redis.hget(`${prefix}:rl:tenant:${tenant.id}`, 'c')).toBe('100');
  });

  it('goes over the limit across replicas by at most what another holds unflushed (5 %)', async () => {
    await awayFromWindowEnd();
    const { limiter: other } = limiterOn(REDIS_URL, prefix);
    await other.onModuleInit();
    try {
      const tenant = tenantWith({ requestsPerMinute: 100 });
      let admitted = 0;
      for (let i = 0; i < 160; i++) {
        if (await admittedOf(i % 2 === 0 ? limiter : other, tenant)) admitted += 1;
      }
      expect(admitted).toBeGreaterThanOrEqual(100);
      expect(admitted).toBeLessThanOrEqual(105);
      // Every admitted request is counted once, none of the refused ones.
      await Promise.all([limiter.flush(), other.flush()]);
      expect(Number(await redis.hget(`${prefix}:rl:tenant:${tenant.id}`, 'c'))).toBe(admitted);
    } finally {
      await other.onApplicationShutdown();
    }
  });

  it('refuses everything at a limit of 0 without asking Redis', async () => {
    const tenant = tenantWith({ requestsPerMinute: 0 });
    const decision = await limiter.decide(tenant, null);
    expect(decision).toEqual({
      fromMemory: true,
      states: [{ kind: 'tenant', limit: 0, remaining: 0, resetMs: WINDOW_MS, refused: true }],
    });
    expect(await redis.exists(`${prefix}:rl:tenant:${tenant.id}`)).toBe(0);
  });

  it('fails open to a per-replica limit when Redis is unreachable, and counts it', async () => {
    // Nothing listens on port 1: every command fails at once (no offline queue).
    const { limiter: cut, metrics } = limiterOn('redis://127.0.0.1:1', prefix);
    try {
      const waited = Date.now();
      await cut.onModuleInit();
      expect(Date.now() - waited).toBeLessThan(3_000);
      const tenant = tenantWith({ requestsPerMinute: 2 });
      const started = Date.now();
      const outcomes: boolean[] = [];
      for (let i = 0; i < 3; i++) {
        outcomes.push((await cut.decide(tenant, null)).states[0].refused);
      }
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(outcomes).toEqual([false, false, true]);
      const failures = await metrics.storeFailures.get();
      expect(failures.values[0].value).toBe(3);
    } finally {
      await cut.onApplicationShutdown();
    }
  });
});
