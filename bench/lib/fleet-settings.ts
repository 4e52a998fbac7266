/**
 * What `npm run bench:fleet` can be told through the environment, on top of the shared bench
 * settings (database, Redis, tenant count: `loadBenchSettings`). Read in one place.
 */
import {
  BENCH_ADMIN_TOKEN,
  BENCH_SIGNING_KEY_ENCRYPTION_KEY,
  BENCH_PLATFORM_DOMAIN,
} from './bench-settings';
import type { BenchSettings } from './bench-settings';

export const FLEET_PHASES = ['noop', 'fleet', 'processes', 'floor', 'naive'] as const;
export type FleetPhase = (typeof FLEET_PHASES)[number];

/** Its own Bull prefix, so claimer jobs never mix with the data-plane bench's queues. */
export const FLEET_REDIS_PREFIX = 'bench-fleet';

export interface FleetBenchSettings {
  /** Concurrency of the measured runs (one run up and one back down per value). */
  readonly concurrencies: readonly number[];
  /** Tenants that get `heavyRows` projects rows, spread evenly over the fleet. */
  readonly heavyTenants: number;
  readonly heavyRows: number;
  /** Schemas the naive loop (a TypeORM DataSource per schema) migrates. */
  readonly naiveSample: number;
  /** Separate worker processes of the `processes` phase (claimers leave this process). */
  readonly workerProcesses: number;
  /** Concurrency of the `processes` phase. */
  readonly processesConcurrency: number;
  /** Pool size of each process's pools (registry and tenant cluster). */
  readonly poolSize: number;
  /** A run still going after this long is cancelled and the bench fails. */
  readonly runTimeoutSeconds: number;
  readonly phases: readonly FleetPhase[];
  /**
   * `analyzed` (default): the registry tables are analyzed before each measurement, as
   * autovacuum keeps them on a production server. `none`: their statistics are removed instead,
   * as on a server that never analyzed them (autovacuum off), which changes some plans.
   */
  readonly registryStats: 'analyzed' | 'none';
  /** Rebuild `projects` tables (at start and end) that carry this many dropped columns. */
  readonly rebuildDropped: number;
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

function listFrom<T extends string | number>(
  name: string,
  fallback: readonly T[],
  parse: (item: string) => T,
): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  return raw.split(',').map((item) => parse(item.trim()));
}

export function loadFleetBenchSettings(): FleetBenchSettings {
  // One worker process runs at most 8 claimers (CLAIMERS_PER_WORKER); more would never start.
  const concurrencies = listFrom('BENCH_FLEET_CONCURRENCY', [1, 2, 4, 8], (item) => {
    const value = Number(item);
    if (!Number.isInteger(value) || value < 1 || value > 8) {
      throw new Error(`BENCH_FLEET_CONCURRENCY: "${item}" is not an integer between 1 and 8`);
    }
    return value;
  });
  const phases = listFrom<FleetPhase>('BENCH_FLEET_PHASES', FLEET_PHASES, (item) => {
    if (!(FLEET_PHASES as readonly string[]).includes(item)) {
      throw new Error(
        `BENCH_FLEET_PHASES: unknown phase "${item}" (use ${FLEET_PHASES.join(',')})`,
      );
    }
    return item as FleetPhase;
  });
  const workerProcesses = intFrom('BENCH_FLEET_WORKER_PROCESSES', 2, 1, 8);
  return {
    concurrencies,
    heavyTenants: intFrom('BENCH_FLEET_HEAVY_TENANTS', 100, 0, 10_000),
    heavyRows: intFrom('BENCH_FLEET_HEAVY_ROWS', 3_000, 1, 1_000_000),
    naiveSample: intFrom('BENCH_FLEET_NAIVE_SAMPLE', 200, 1, 10_000),
    workerProcesses,
    processesConcurrency: intFrom('BENCH_FLEET_PROCESSES_CONCURRENCY', 8, 1, 8 * workerProcesses),
    poolSize: intFrom('BENCH_FLEET_POOL_SIZE', 12, 2, 100),
    runTimeoutSeconds: intFrom('BENCH_FLEET_RUN_TIMEOUT_S', 1_800, 10, 86_400),
    phases,
    registryStats: registryStatsFrom(process.env.BENCH_FLEET_REGISTRY_STATS),
    rebuildDropped: intFrom('BENCH_FLEET_REBUILD_DROPPED', 10, 1, 1_000),
  };
}

function registryStatsFrom(raw: string | undefined): 'analyzed' | 'none' {
  if (raw === undefined || raw === '' || raw === 'analyzed') return 'analyzed';
  if (raw === 'none') return 'none';
  throw new Error(`BENCH_FLEET_REGISTRY_STATS=${raw}: use analyzed or none`);
}

/**
 * The control plane's environment for the bench process and its worker children: production
 * mode, warn-level logs, the bench database, a pool big enough for 8 claimers (each holds at
 * most one tenant connection and one registry connection at a time).
 */
export function fleetControlPlaneEnv(
  bench: BenchSettings,
  fleet: FleetBenchSettings,
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: bench.databaseUrl,
    DATABASE_POOL_SIZE: String(fleet.poolSize),
    REDIS_URL: bench.redisUrl,
    REDIS_PREFIX: FLEET_REDIS_PREFIX,
    PLATFORM_DOMAIN: BENCH_PLATFORM_DOMAIN,
    PLATFORM_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    SIGNING_KEY_ENCRYPTION_KEY: BENCH_SIGNING_KEY_ENCRYPTION_KEY,
    WORKER_PORT: '0',
  };
}
