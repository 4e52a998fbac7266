/**
 * Drives fleet migration runs the way an SRE does: a Nest application context of the CLI
 * module as `tenants:migrate` builds it (`runsFleetJobs: true`: with the claimer processor, so
 * this process executes the runs it starts), `MigrationRunsService.create()`, then `view()`
 * until the run is no longer `running`. Everything else about a run is read back from the registry afterwards.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Queue } from 'bull';
import { loadControlPlaneConfig } from '@platform/config';
import { migratePlatformSchema } from '@platform/database';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import type { Pool } from 'pg';
import { CliModule } from '../../apps/control-plane/src/cli.module';
import {
  FleetPlanner,
  type FleetPlan,
} from '../../apps/control-plane/src/fleet/fleet-planner.service';
import { FLEET_QUEUE } from '../../apps/control-plane/src/fleet/fleet.queue';
import { MigrationRunsService } from '../../apps/control-plane/src/fleet/migration-runs.service';
import type { MigrationRunView } from '../../apps/control-plane/src/fleet/migration-run.types';
import { readCpuMs, readPostgresCpuMs } from './child-server';
import { sleep } from './concurrency';

/**
 * CPU time the whole machine spent busy so far (all cores, from /proc/stat), in milliseconds.
 * Minus this process, PostgreSQL and the worker children, it is what other work took.
 */
export function readMachineBusyMs(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = cpu
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user + nice + system + irq + softirq + steal) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** `requested_by` of the runs the bench starts (the bench deletes its old ones at start). */
export const BENCH_REQUESTER = 'bench';

/** The CLI's own follow loop polls every 250 ms; a little finer here, still cheap. */
const POLL_MS = 200;
const MILESTONE = 1_000;
/** Kernel clock ticks per second in /proc/stat (USER_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface DurationStats {
  readonly tenants: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

export interface FleetRunResult {
  readonly label: string;
  readonly runId: string;
  readonly targetVersion: number;
  readonly concurrency: number;
  /** Where the claimers ran: this process, or N worker processes. */
  readonly claimers: string;
  readonly status: string;
  readonly statusReason: string | null;
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Tenants whose version changed (the rest were already at the target). */
  readonly changed: number;
  /** The run's own started_at -> finished_at (registry clock). */
  readonly runSeconds: number;
  /** From calling create() until a poll saw the run finished. */
  readonly wallSeconds: number;
  readonly tenantsPerSecond: number;
  /** From the run's start until its 1,000th tenant outcome was recorded. */
  readonly first1000Seconds: number | null;
  /** Seconds per consecutive 1,000 recorded outcomes (does the rate hold over the run?). */
  readonly secondsPerThousand: number[];
  /** migration_run_tenants.duration_ms: the migrator's call for one tenant, claims excluded. */
  readonly durationMs: DurationStats;
  /** The same, over the tenants with big tables only. */
  readonly heavyDurationMs: DurationStats | null;
  /**
   * Claimer time per tenant spent outside the migrator's call: claims, outcome records, run
   * lookups, the version read after a failure (run time x concurrency / tenants - mean).
   */
  readonly outsideMigratorMsPerTenant: number;
  /**
   * CPU seconds during the run: this process, all PostgreSQL processes, worker children, and
   * everything else on the machine (other work skews a run; more than a few seconds is noise).
   */
  readonly cpuSeconds: {
    benchProcess: number;
    postgres: number;
    workerChildren: number;
    other: number;
  };
  readonly loadAverageAtStart: number;
}

export interface RunOptions {
  readonly label: string;
  readonly targetVersion: number;
  readonly concurrency: number;
  readonly claimers: string;
  /** CPU milliseconds used so far by worker children (0 when the claimers are local). */
  readonly childrenCpuMs?: () => number;
}

export class FleetRunDriver {
  private constructor(
    private readonly app: INestApplicationContext,
    private readonly pool: Pool,
    private readonly heavyTenantIds: readonly string[],
    private readonly runTimeoutSeconds: number,
  ) {}

  /** Migrates the registry first (as cli.ts does), then starts the CLI module's context. */
  static async open(
    env: Record<string, string>,
    pool: Pool,
    heavyTenantIds: readonly string[],
    runTimeoutSeconds: number,
  ): Promise<FleetRunDriver> {
    const config = loadControlPlaneConfig(env);
    await migratePlatformSchema(config.databaseUrl.reveal(), PLATFORM_MIGRATIONS);
    const app = await NestFactory.createApplicationContext(
      CliModule.forRoot(config, { runsFleetJobs: true }),
      {
        logger: ['error', 'warn'],
      },
    );
    await app.init();
    return new FleetRunDriver(app, pool, heavyTenantIds, runTimeoutSeconds);
  }

  plan(targetVersion: number): Promise<FleetPlan> {
    return this.app.get(FleetPlanner).plan(targetVersion);
  }

  /** Runs left `running` by an interrupted bench would keep claimers busy: cancel them. */
  async cancelLeftovers(): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM platform.migration_runs WHERE status IN ('running', 'paused')`,
    );
    for (const row of rows) await this.app.get(MigrationRunsService).cancel(row.id);
    return rows.length;
  }

  /** Stops (or restarts) this process's claimers, so that only worker children take jobs. */
  async pauseLocalClaimers(paused: boolean): Promise<void> {
    const queue = this.app.get<Queue>(getQueueToken(FLEET_QUEUE));
    if (paused) await queue.pause(true);
    else await queue.resume(true);
  }

  async run(options: RunOptions): Promise<FleetRunResult> {
    const service = this.app.get(MigrationRunsService);
    const childrenCpuMs = options.childrenCpuMs ?? (() => 0);
    const loadAverageAtStart = loadavg()[0] ?? 0;
    const cpuBefore = {
      bench: readCpuMs(process.pid),
      postgres: readPostgresCpuMs(),
      children: childrenCpuMs(),
      machine: readMachineBusyMs(),
    };
    const wallStarted = performance.now();
    const created = await service.create(
      { targetVersion: options.targetVersion, concurrency: options.concurrency },
      BENCH_REQUESTER,
    );
    const deadline = Date.now() + this.runTimeoutSeconds * 1000;
    let view: MigrationRunView = created;
    while (view.status === 'running') {
      if (Date.now() > deadline) {
        await service.cancel(created.id);
        throw new Error(
          `${options.label}: run ${created.id} still running after ${this.runTimeoutSeconds} s; cancelled`,
        );
      }
      await sleep(POLL_MS);
      view = await service.view(created.id);
    }
    const wallSeconds = (performance.now() - wallStarted) / 1000;
    const benchProcess = (readCpuMs(process.pid) - cpuBefore.bench) / 1000;
    const postgres = (readPostgresCpuMs() - cpuBefore.postgres) / 1000;
    const workerChildren = (childrenCpuMs() - cpuBefore.children) / 1000;
    const machine = (readMachineBusyMs() - cpuBefore.machine) / 1000;
    const cpuSeconds = {
      benchProcess,
      postgres,
      workerChildren,
      other: machine - benchProcess - postgres - workerChildren,
    };
    const timing = await this.timing(created.id);
    const durationMs = await this.durations(created.id, null);
    const changed = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM platform.migration_run_tenants
        WHERE run_id = $1 AND status = 'succeeded' AND from_version IS DISTINCT FROM to_version`,
      [created.id],
    );
    return {
      label: options.label,
      runId: created.id,
      targetVersion: options.targetVersion,
      concurrency: options.concurrency,
      claimers: options.claimers,
      status: view.status,
      statusReason: view.statusReason,
      total: view.total,
      succeeded: view.counts.succeeded,
      failed: view.counts.failed,
      changed: changed.rows[0]?.n ?? 0,
      runSeconds: timing.runSeconds,
      wallSeconds,
      tenantsPerSecond: view.total / Math.max(timing.runSeconds, 0.001),
      first1000Seconds: timing.milestones[0] ?? null,
      secondsPerThousand: timing.milestones.map((at, i) => at - (timing.milestones[i - 1] ?? 0)),
      durationMs,
      heavyDurationMs:
        this.heavyTenantIds.length > 0
          ? await this.durations(created.id, this.heavyTenantIds)
          : null,
      outsideMigratorMsPerTenant:
        (timing.runSeconds * 1000 * options.concurrency) / Math.max(view.total, 1) -
        durationMs.mean,
      cpuSeconds,
      loadAverageAtStart,
    };
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  /** Run time, and the time from the start at which each 1,000th outcome was recorded. */
  private async timing(runId: string): Promise<{ runSeconds: number; milestones: number[] }> {
    const run = await this.pool.query<{ seconds: number }>(
      `SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds
         FROM platform.migration_runs WHERE id = $1`,
      [runId],
    );
    const milestones = await this.pool.query<{ seconds: number }>(
      `SELECT extract(epoch FROM t.finished_at - r.started_at)::float8 AS seconds
         FROM (SELECT finished_at, row_number() OVER (ORDER BY finished_at) AS n
                 FROM platform.migration_run_tenants
                WHERE run_id = $1 AND finished_at IS NOT NULL) t,
              platform.migration_runs r
        WHERE r.id = $1 AND t.n % $2 = 0 ORDER BY t.n`,
      [runId, MILESTONE],
    );
    return {
      runSeconds: run.rows[0]?.seconds ?? NaN,
      milestones: milestones.rows.map((row) => row.seconds),
    };
  }

  /** duration_ms statistics of one run, over all tenants or the given ones. */
  async durations(runId: string, tenantIds: readonly string[] | null): Promise<DurationStats> {
    const { rows } = await this.pool.query<DurationStats>(
      `SELECT count(*)::int AS tenants,
              coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms), 0)::float8 AS p50,
              coalesce(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms), 0)::float8 AS p95,
              coalesce(max(duration_ms), 0)::float8 AS max,
              coalesce(avg(duration_ms), 0)::float8 AS mean
         FROM platform.migration_run_tenants
        WHERE run_id = $1 AND duration_ms IS NOT NULL
          AND ($2::uuid[] IS NULL OR tenant_id = ANY($2::uuid[]))`,
      [runId, tenantIds],
    );
    return rows[0];
  }
}
