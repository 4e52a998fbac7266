/**
 * What `npm run bench:onboarding` can be told through the environment, read in one place. The
 * databases are its own: the 10,000-tenant one is built once (through the platform, by
 * `prepareFleet`) and reused; the empty one is made afresh by every run and dropped at its end.
 */

export const ONBOARDING_PHASES = ['schema', 'e2e'] as const;
export type OnboardingPhase = (typeof ONBOARDING_PHASES)[number];

/** Redis key prefix of everything the schema phase starts (its queues are never consumed). */
export const ONBOARDING_REDIS_PREFIX = 'bench-onboarding';

export interface OnboardingBenchSettings {
  /** Holds `fleetTenants` active tenants t00001..., built once and reused across runs. */
  readonly fleetDatabaseUrl: string;
  /** Dropped and created again by every run: the "0 tenants present" database. */
  readonly emptyDatabaseUrl: string;
  readonly redisUrl: string;
  readonly fleetTenants: number;
  /** Tenants measured per database, cold and then warm (the warm ones claim the cold ones). */
  readonly tenants: number;
  /** Also time cold tenants on a third, empty database with synchronous_commit = off. */
  readonly asyncCommitProbe: boolean;
  /**
   * Cold tenants take roles the worker made ahead (TENANT_ROLE_RESERVE_SIZE, the default);
   * `BENCH_ONBOARDING_ROLE_RESERVE=0`: each cold tenant creates its own role, as before.
   */
  readonly roleReserve: boolean;
  readonly e2eTenants: number;
  /** Worker processes started next to the platform's in-process worker for the e2e phase. */
  readonly e2eExtraWorkers: number;
  readonly e2eTimeoutSeconds: number;
  /** Job attempts and first backoff of the e2e platform: the production defaults (5, 2 s). */
  readonly e2eAttempts: number;
  readonly e2eBackoffMs: number;
  /** WARM_POOL_SIZE of the e2e platform (0: every tenant cold, as by default). */
  readonly e2eWarmPool: number;
  /** Provisioning of the 10,000-tenant fleet: worker contexts (4 jobs each). */
  readonly buildWorkers: number;
  readonly phases: readonly OnboardingPhase[];
}

function intFrom(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected an integer between ${min} and ${max}`);
  }
  return value;
}

function phasesFrom(raw: string | undefined): OnboardingPhase[] {
  if (!raw) return [...ONBOARDING_PHASES];
  const phases = raw.split(',').map((phase) => phase.trim());
  for (const phase of phases) {
    if (!(ONBOARDING_PHASES as readonly string[]).includes(phase)) {
      throw new Error(
        `BENCH_ONBOARDING_PHASES: unknown phase "${phase}" (use ${ONBOARDING_PHASES.join(',')})`,
      );
    }
  }
  return phases as OnboardingPhase[];
}

export function loadOnboardingBenchSettings(): OnboardingBenchSettings {
  return {
    fleetDatabaseUrl:
      process.env.BENCH_ONBOARDING_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/tenancy_bench_onboarding',
    emptyDatabaseUrl:
      process.env.BENCH_ONBOARDING_EMPTY_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/tenancy_bench_onboarding_empty',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    fleetTenants: intFrom('BENCH_ONBOARDING_FLEET_TENANTS', 10_000, 10, 99_999),
    tenants: intFrom('BENCH_ONBOARDING_TENANTS', 200, 1, 5_000),
    asyncCommitProbe: process.env.BENCH_ONBOARDING_ASYNC_PROBE !== '0',
    roleReserve: process.env.BENCH_ONBOARDING_ROLE_RESERVE !== '0',
    e2eTenants: intFrom('BENCH_ONBOARDING_E2E_TENANTS', 100, 1, 5_000),
    e2eExtraWorkers: intFrom('BENCH_ONBOARDING_E2E_WORKERS', 0, 0, 8),
    e2eTimeoutSeconds: intFrom('BENCH_ONBOARDING_E2E_TIMEOUT_S', 600, 10, 86_400),
    e2eAttempts: intFrom('BENCH_ONBOARDING_E2E_ATTEMPTS', 5, 1, 50),
    e2eBackoffMs: intFrom('BENCH_ONBOARDING_E2E_BACKOFF_MS', 2_000, 10, 600_000),
    e2eWarmPool: intFrom('BENCH_ONBOARDING_E2E_WARM_POOL', 0, 0, 10_000),
    buildWorkers: intFrom('BENCH_PROVISION_WORKERS', 3, 1, 16),
    phases: phasesFrom(process.env.BENCH_ONBOARDING_PHASES),
  };
}
