/**
 * What each plan allows a tenant, and how a tenant's own overrides change it. One table for the
 * data plane's rate limiter and quota checks and for the control plane's limits API.
 */
export const PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export interface PlanLimits {
  /** Requests per minute to a tenant's API, all its users and anonymous callers together. */
  readonly requestsPerMinute: number;
  /** Requests per minute by one signed-in user of the tenant. */
  readonly requestsPerMinutePerUser: number;
  /**
   * Requests of the tenant in progress at once in one data-plane replica; more wait their turn
   * (a bounded queue), so a burst within the rate limit cannot take every database connection
   * and the event loop from the other tenants of the replica.
   */
  readonly concurrentRequests: number;
  /** Tenant users (invited or active). */
  readonly maxUsers: number;
  /** Projects, archived ones included. */
  readonly maxProjects: number;
  /** Bytes of stored files. */
  readonly maxStorageBytes: number;
}

export const LIMIT_NAMES = [
  'requestsPerMinute',
  'requestsPerMinutePerUser',
  'concurrentRequests',
  'maxUsers',
  'maxProjects',
  'maxStorageBytes',
] as const satisfies readonly (keyof PlanLimits)[];
export type LimitName = (typeof LIMIT_NAMES)[number];

const MIB = 1024 * 1024;

export const PLAN_LIMITS: Readonly<Record<Plan, PlanLimits>> = {
  free: {
    requestsPerMinute: 600,
    requestsPerMinutePerUser: 300,
    concurrentRequests: 4,
    maxUsers: 5,
    maxProjects: 50,
    maxStorageBytes: 100 * MIB,
  },
  starter: {
    requestsPerMinute: 3_000,
    requestsPerMinutePerUser: 1_200,
    concurrentRequests: 8,
    maxUsers: 25,
    maxProjects: 500,
    maxStorageBytes: 1024 * MIB,
  },
  pro: {
    requestsPerMinute: 12_000,
    requestsPerMinutePerUser: 3_000,
    concurrentRequests: 16,
    maxUsers: 250,
    maxProjects: 10_000,
    maxStorageBytes: 20 * 1024 * MIB,
  },
  enterprise: {
    requestsPerMinute: 60_000,
    requestsPerMinutePerUser: 6_000,
    concurrentRequests: 64,
    maxUsers: 10_000,
    maxProjects: 1_000_000,
    maxStorageBytes: 500 * 1024 * MIB,
  },
};

export type LimitOverrides = Partial<Record<LimitName, number>>;

export function isPlan(value: string): value is Plan {
  return (PLANS as readonly string[]).includes(value);
}

/** The plan's defaults with the tenant's overrides on top; an unknown plan gets `free`'s. */
export function effectiveLimits(plan: string, overrides: LimitOverrides = {}): PlanLimits {
  const defaults = PLAN_LIMITS[isPlan(plan) ? plan : 'free'];
  const limits: Record<LimitName, number> = { ...defaults };
  for (const name of LIMIT_NAMES) {
    const value = overrides[name];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) limits[name] = value;
  }
  return limits;
}
