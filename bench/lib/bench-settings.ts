/**
 * Everything the benchmark can be told through the environment, read in one place. The parent
 * passes the server settings to its children explicitly (see `serverEnv`), so a child never
 * depends on what happened to be exported in the shell that ran `npm run bench`.
 */

function intFrom(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected an integer between ${min} and ${max}`);
  }
  return value;
}

export interface BenchSettings {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Tenants provisioned (and touched by the RSS phase). */
  readonly tenants: number;
  /** Tenants the throughput load of the data plane spreads over. */
  readonly loadTenants: number;
  readonly warmupSeconds: number;
  /** Warm-up goes on (in warm-up-length steps) until the server has answered this many. */
  readonly warmupRequests: number;
  readonly durationSeconds: number;
  /**
   * Unmeasured load on a server right before each of its windows. Without it a window began on
   * a process another server's window had just left the cores to: in the palindrome order the
   * servers at either end ran two windows in a row, and their second one was ~15 % cheaper per
   * request than their first (stop 24, VM N), which the server in the middle never got.
   */
  readonly leadInSeconds: number;
  readonly connections: number;
  readonly rounds: number;
  /** Worker contexts (4 jobs each) that provision missing tenants. */
  readonly provisioningWorkers: number;
  readonly provisioningTimeoutSeconds: number;
  /** Sequential requests per server in the round-trip phase. */
  readonly roundTripRequests: number;
  /** Provision and seed the tenants, then stop (prepares the database for later runs). */
  readonly setupOnly: boolean;
  /** Which measurements to run; all by default. */
  readonly phases: readonly BenchPhase[];
}

export const BENCH_PHASES = ['throughput', 'memory', 'roundtrips'] as const;
export type BenchPhase = (typeof BENCH_PHASES)[number];

function phasesFrom(raw: string | undefined): BenchPhase[] {
  if (!raw) return [...BENCH_PHASES];
  const phases = raw.split(',').map((phase) => phase.trim());
  for (const phase of phases) {
    if (!(BENCH_PHASES as readonly string[]).includes(phase)) {
      throw new Error(`BENCH_PHASES: unknown phase "${phase}" (use ${BENCH_PHASES.join(',')})`);
    }
  }
  return phases as BenchPhase[];
}

export function loadBenchSettings(): BenchSettings {
  const tenants = intFrom('BENCH_TENANTS', 10_000, 10, 99_999);
  return {
    databaseUrl:
      process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tenancy_bench',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    tenants,
    loadTenants: Math.min(intFrom('BENCH_LOAD_TENANTS', 1_000, 1, 99_999), tenants),
    warmupSeconds: intFrom('BENCH_WARMUP_S', 10, 0, 600),
    warmupRequests: intFrom('BENCH_WARMUP_REQUESTS', 20_000, 0, 10_000_000),
    durationSeconds: intFrom('BENCH_DURATION_S', 5, 1, 3_600),
    leadInSeconds: intFrom('BENCH_LEAD_IN_S', 2, 0, 600),
    connections: intFrom('BENCH_CONNECTIONS', 32, 1, 1_000),
    rounds: intFrom('BENCH_ROUNDS', 8, 1, 50),
    provisioningWorkers: intFrom('BENCH_PROVISION_WORKERS', 3, 1, 16),
    provisioningTimeoutSeconds: intFrom('BENCH_PROVISION_TIMEOUT_S', 3_600, 10, 86_400),
    roundTripRequests: intFrom('BENCH_ROUND_TRIP_REQUESTS', 500, 10, 100_000),
    setupOnly: process.env.BENCH_SETUP_ONLY === '1',
    phases: phasesFrom(process.env.BENCH_PHASES),
  };
}

/**
 * Fixed, bench-only credentials: the bench database is disposable and bound to loopback. The
 * first seals the tenants' token-signing keys (SIGNING_KEY_ENCRYPTION_KEY).
 */
export const BENCH_SIGNING_KEY_ENCRYPTION_KEY =
  'be4c0000be4c0000be4c0000be4c0000be4c0000be4c0000be4c0000be4c0000';
export const BENCH_ADMIN_TOKEN = 'bench-only-operator-token-0123456789abcdef';
export const BENCH_PLATFORM_DOMAIN = 'bench.test';
export const BENCH_REDIS_PREFIX = 'bench';

/** Slugs t00001 ... t10000: 6 characters, inside the 3-40 `a-z0-9-` rule. */
export function benchSlug(index: number): string {
  return `t${String(index + 1).padStart(5, '0')}`;
}

export const BENCH_SLUG_PATTERN = /^t[0-9]{5}$/;

/**
 * The environment of every server child. Production mode (as deployed), warn-level logs so no
 * server writes a line per request, and the same database, pool size and secret for all three.
 */
export function serverEnv(
  settings: BenchSettings,
  overrides: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: settings.databaseUrl,
    REDIS_URL: settings.redisUrl,
    REDIS_PREFIX: BENCH_REDIS_PREFIX,
    PLATFORM_DOMAIN: BENCH_PLATFORM_DOMAIN,
    SIGNING_KEY_ENCRYPTION_KEY: BENCH_SIGNING_KEY_ENCRYPTION_KEY,
    DATA_PLANE_HOST: '127.0.0.1',
    DATA_PLANE_PORT: '0',
    ...overrides,
  };
}
