import { RATE_LIMIT_WINDOW_SECONDS } from './rate-limit-decision';

/**
 * Requests a replica may admit from memory, without asking Redis first, while a key is well
 * under its limit; they are counted in Redis afterwards, in batches (TenantRateLimiter flushes
 * them every RATE_LIMIT_FLUSH_MS in one pipelined write).
 *
 * Why: asking Redis before every request is a write, a wake-up of Redis and a read on the
 * request's path, and on a small machine that costs the data plane a fifth of its throughput
 * (bench/data-plane.bench.ts). Near the limit, where the answer matters, every request still
 * asks Redis and the answer stays exact.
 *
 * The rules, per key (a tenant, or a user of a tenant) and replica:
 * - only with a fresh view of the key's count in Redis (at most VIEW_FRESH_MS old, refreshed by
 *   every answer from Redis, flushes included), so a key's first request always asks;
 * - only while that count, plus what this replica admitted since, plus this request, stays within
 *   half the limit (LOCAL_CEILING_SHARE);
 * - at most LOCAL_SHARE_OF_LIMIT of the limit admitted from memory between two answers; a limit
 *   under 20 gets none (small limits are always exact).
 *
 * What that gives up: requests another replica admitted from memory and has not flushed yet are
 * invisible here. Above half the limit every replica asks Redis, so a key can go over its limit
 * only by what the other replicas hold unflushed when it gets there: at most 5 % of the limit per
 * other replica, for at most one flush interval. One replica is always exact.
 */

/** Share of a limit one replica may admit from memory between two answers from Redis. */
export const LOCAL_SHARE_OF_LIMIT = 0.05;
/** Above this share of its limit, a key's every request asks Redis. */
export const LOCAL_CEILING_SHARE = 0.5;
/**
 * A view of a key's count older than this is not trusted; the next request asks Redis.
 *
 * Why half a window and not a couple of seconds: the overshoot bound above does not depend on
 * it. A view is only a starting point; what may be admitted on it is capped by the 5 % budget,
 * and the next flush (RATE_LIMIT_FLUSH_MS) answers with the key's true count, so a view that
 * undercounts other replicas costs at most that budget, however old it is. A short freshness
 * made every key without a request in the last 2 s ask Redis on its next one: the requests of
 * a quiet tenant (most of a large fleet) all asked, and after any lull every tenant did at once.
 * Past half the window the sliding count has turned over too much to start from.
 */
export const VIEW_FRESH_MS = 30_000;

/** What this replica knows of one key: its count in Redis when last told, and since then. */
interface KeyView {
  /** The count Redis last answered (the sliding window's estimate, rounded up). */
  counted: number;
  syncedAt: number;
  /** When Redis's current window ends, as of the last answer. */
  windowEndsAt: number;
  /** Admitted here from memory and not yet sent to Redis. */
  pending: number;
}

export interface LocalAdmission {
  readonly remaining: number;
  readonly resetMs: number;
}

export class LocalAllowance {
  private readonly views = new Map<string, KeyView>();
  /** Keys with pending requests: what the next flush sends. */
  private readonly unflushed = new Set<string>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs: number = RATE_LIMIT_WINDOW_SECONDS * 1000,
  ) {}

  /** Admits one request from memory when the rules allow, else null: ask Redis. */
  tryAdmit(key: string, limit: number): LocalAdmission | null {
    const budget = Math.floor(limit * LOCAL_SHARE_OF_LIMIT);
    const view = this.views.get(key);
    if (budget < 1 || !view || view.pending >= budget) return null;
    const now = this.now();
    if (now - view.syncedAt > VIEW_FRESH_MS) return null;
    if (view.counted + view.pending + 1 > limit * LOCAL_CEILING_SHARE) return null;
    view.pending += 1;
    this.unflushed.add(key);
    return { remaining: limit - view.counted - view.pending, resetMs: this.resetMs(view, now) };
  }

  /**
   * Hands over a key's pending requests, to be sent with the request that now asks Redis (they
   * are counted before it, in the same round trip).
   */
  takePending(key: string): number {
    this.unflushed.delete(key);
    return this.takePendingOf(key);
  }

  /** Hands over every key's pending requests, for a flush. */
  takeAllPending(): Array<[key: string, pending: number]> {
    const batch: Array<[string, number]> = [];
    for (const key of this.unflushed) batch.push([key, this.takePendingOf(key)]);
    this.unflushed.clear();
    return batch;
  }

  /** Records Redis's answer for a key: its count, and how long its window still runs. */
  synced(key: string, counted: number, windowLeftMs: number): void {
    const now = this.now();
    const view = this.views.get(key);
    if (view) {
      view.counted = counted;
      view.syncedAt = now;
      view.windowEndsAt = now + windowLeftMs;
    } else {
      this.views.set(key, { counted, syncedAt: now, windowEndsAt: now + windowLeftMs, pending: 0 });
    }
  }

  /** Forgets views too old to be used that have nothing pending (memory stays bounded). */
  prune(): void {
    const oldest = this.now() - VIEW_FRESH_MS;
    for (const [key, view] of this.views) {
      if (view.syncedAt < oldest && view.pending === 0) this.views.delete(key);
    }
  }

  get size(): number {
    return this.views.size;
  }

  /** Until the window Redis last reported ends, or, once it has, the one running now. */
  private resetMs(view: KeyView, now: number): number {
    const left = view.windowEndsAt - now;
    return left >= 0 ? left : this.windowMs - (-left % this.windowMs);
  }

  private takePendingOf(key: string): number {
    const view = this.views.get(key);
    if (!view) return 0;
    const pending = view.pending;
    view.pending = 0;
    return pending;
  }
}
