/**
 * `npm run bench:fleet`: one additive template migration (version 4: a column and a partial
 * index on `projects`) rolled across every tenant schema of the bench database by fleet runs at
 * several concurrencies, each followed by a fleet run back to version 3 (the rollback); no-op
 * runs; and, in the same run, two references on the same schemas: the SQL floor (the same DDL,
 * schema by schema, one session) and the naive way (a TypeORM DataSource per schema).
 * See bench/README.md ("Fleet migrations") for what each number means.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { loadBenchSettings, serverEnv, type BenchSettings } from './lib/bench-settings';
import {
  killAllChildren,
  readCpuMs,
  readPostgresCpuMs,
  startServerChild,
  type ServerChild,
} from './lib/child-server';
import { naivePass, prepareNaiveHistory, type NaivePass } from './lib/fleet-naive';
import {
  deleteRunHistory,
  rebuildProjectsTables,
  schemasWithDroppedColumns,
} from './lib/fleet-rebuild';
import {
  BENCH_REQUESTER,
  FleetRunDriver,
  readMachineBusyMs,
  type DurationStats,
  type FleetRunResult,
} from './lib/fleet-runs';
import {
  fleetControlPlaneEnv,
  loadFleetBenchSettings,
  type FleetBenchSettings,
} from './lib/fleet-settings';
import {
  physicalState,
  repairSchemas,
  sqlFloorPass,
  topUpProjects,
  type SqlPass,
} from './lib/fleet-sql';
import { prepareFleet, type BenchTenant } from './lib/tenant-fleet';

const RESULTS_FILE = join(__dirname, 'results', 'fleet-latest.json');
const BASE_VERSION = 3;
const TARGET_VERSION = 4;
/** The migration under test must be the one this bench knows how to write by hand (floor). */
const TARGET_MIGRATION = 'ArchiveProjects0004';
/** Concurrency of the untimed runs that bring the fleet back to version 3 after a failure. */
const RESTORE_CONCURRENCY = 8;

const log = (line: string) => process.stdout.write(`${line}\n`);

/** `count` items spread evenly over `items` (every k-th, starting with the first). */
function spreadEvenly<T>(items: readonly T[], count: number): T[] {
  if (count <= 0) return [];
  const step = items.length / Math.min(count, items.length);
  return Array.from(
    { length: Math.min(count, items.length) },
    (_, i) => items[Math.floor(i * step)],
  );
}

/**
 * The naive loop's sample: as many heavy tenants as their share of the fleet (2 of 200 for
 * 100 of 10,000), the rest spread over the light ones, so its per-schema cost is comparable
 * with a whole-fleet run.
 */
function naiveSampleOf(
  tenants: readonly BenchTenant[],
  heavy: readonly BenchTenant[],
  size: number,
): BenchTenant[] {
  const heavyIds = new Set(heavy.map((tenant) => tenant.id));
  const heavyCount = Math.round((size * heavy.length) / tenants.length);
  const light = tenants.filter((tenant) => !heavyIds.has(tenant.id));
  return [...spreadEvenly(heavy, heavyCount), ...spreadEvenly(light, size - heavyCount)];
}

/** Catalogs a DDL pass over every schema leaves dead rows in. */
const CATALOGS = ['pg_class', 'pg_attribute', 'pg_index', 'pg_depend', 'pg_type'].map(
  (name) => `pg_catalog.${name}`,
);
/** Registry tables a fleet run writes. */
const REGISTRY_TABLES = ['tenants', 'migration_runs', 'migration_run_tenants'].map(
  (name) => `platform.${name}`,
);
let settleSeconds = 0;

/**
 * Before each measurement (untimed). A pass over 10,000 schemas leaves ~50,000 dead rows in
 * pg_class, pg_attribute, pg_index and pg_depend, and a fleet run 20,000 in the registry. With
 * autovacuum on, a server cleans them up in the background; on a server with it off (as on the
 * development machine) they would pile up and make every run slower than the one before. The
 * registry's statistics are either refreshed, as autovacuum's analyze would, or removed
 * (`BENCH_FLEET_REGISTRY_STATS`): the planner picks different joins for some registry queries
 * depending on them. Then a checkpoint, so no measurement flushes the previous one's buffers.
 */
async function settle(pool: Pool, registryStats: FleetBenchSettings['registryStats']) {
  const started = performance.now();
  await pool.query(`VACUUM (ANALYZE) ${CATALOGS.join(', ')}`);
  if (registryStats === 'analyzed') {
    await pool.query(`VACUUM (ANALYZE) ${REGISTRY_TABLES.join(', ')}`);
  } else {
    await pool.query(`VACUUM ${REGISTRY_TABLES.join(', ')}`);
    await pool.query(`DELETE FROM pg_statistic WHERE starelid = ANY($1::regclass[])`, [
      REGISTRY_TABLES,
    ]);
  }
  await pool.query('CHECKPOINT');
  settleSeconds += (performance.now() - started) / 1000;
}

async function registryVersions(pool: Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ version: number; n: number }>(
    `SELECT template_version AS version, count(*)::int AS n FROM platform.tenants
      WHERE status IN ('active', 'suspended') GROUP BY 1`,
  );
  return new Map(rows.map((row) => [row.version, row.n]));
}

/** After a fleet run: every tenant succeeded, and registry and schemas agree on the version. */
async function verifyRun(pool: Pool, run: FleetRunResult, tenants: number): Promise<void> {
  const problems: string[] = [];
  if (run.status !== 'completed') problems.push(`status ${run.status} (${run.statusReason})`);
  if (run.total !== tenants || run.succeeded !== tenants || run.failed !== 0) {
    problems.push(`${run.succeeded}/${run.total} succeeded, ${run.failed} failed`);
  }
  const versions = await registryVersions(pool);
  if (versions.get(run.targetVersion) !== tenants) {
    problems.push(`registry versions ${JSON.stringify([...versions])}`);
  }
  await verifyPhysical(pool, run.targetVersion === TARGET_VERSION ? tenants : 0, problems);
  if (problems.length > 0) throw new Error(`${run.label}: ${problems.join('; ')}`);
}

async function verifyPhysical(pool: Pool, expected: number, problems: string[] = []) {
  const state = await physicalState(pool);
  if (state.withArchivedAt.length !== expected || state.withActiveIndex.length !== expected) {
    problems.push(
      `expected ${expected} schemas with the v4 column and index, found ` +
        `${state.withArchivedAt.length} and ${state.withActiveIndex.length}`,
    );
  }
  return problems;
}

/**
 * Brings the fleet to version 3 by its own histories (a fleet run, when the planner finds
 * anything else), then removes v4 objects and naive history tables that no history accounts
 * for (an interrupted floor or naive phase). Returns what it found, for the record.
 */
async function ensureBaseline(driver: FleetRunDriver, pool: Pool, tenants: number) {
  const plan = await driver.plan(BASE_VERSION);
  const found = plan.groups.map((group) => ({
    version: group.fromVersion,
    tenants: group.tenants,
  }));
  log(
    `  planner: ${plan.tenants} tenants, by version ${found.map((g) => `v${g.version}: ${g.tenants}`).join(', ')}`,
  );
  if (plan.tenants !== tenants) {
    throw new Error(`the registry has ${plan.tenants} migratable tenants, expected ${tenants}`);
  }
  if (plan.pending > 0) {
    log(
      `  ${plan.pending} tenant(s) not at v${BASE_VERSION}: restoring with a fleet run (untimed)`,
    );
    const restore = await driver.run({
      label: 'restore to v3',
      targetVersion: BASE_VERSION,
      concurrency: RESTORE_CONCURRENCY,
      claimers: 'this process',
    });
    if (restore.status !== 'completed') throw new Error(`restore run ${restore.status}`);
  }
  const state = await physicalState(pool);
  const leftovers = [...new Set([...state.withArchivedAt, ...state.withActiveIndex])];
  if (leftovers.length > 0 || state.withNaiveHistory.length > 0) {
    log(
      `  repairing ${leftovers.length} schema(s) with v4 objects but a v3 history and ` +
        `${state.withNaiveHistory.length} naive history table(s) (an interrupted earlier run)`,
    );
    await repairSchemas(pool, leftovers, state.withNaiveHistory);
  }
  const problems = await verifyPhysical(pool, 0);
  const after = await physicalState(pool);
  if (after.withNaiveHistory.length > 0) problems.push('naive history tables left');
  if (problems.length > 0) throw new Error(`fleet is not at a clean v3: ${problems.join('; ')}`);
  return { versionsFound: found, restored: plan.pending, repaired: leftovers.length };
}

/** Gives `projects` back the shape provisioning made where DDL left many dropped columns. */
async function rebuildDropped(bench: BenchSettings, fleet: FleetBenchSettings, pool: Pool) {
  const schemas = await schemasWithDroppedColumns(pool, fleet.rebuildDropped);
  if (schemas.length === 0) return { schemas: 0, seconds: 0 };
  const started = performance.now();
  await rebuildProjectsTables(bench.databaseUrl, schemas, TENANT_TEMPLATE_MIGRATIONS);
  const seconds = (performance.now() - started) / 1000;
  log(
    `  rebuilt projects in ${schemas.length} schemas (dropped columns left by up/down cycles) ` +
      `in ${seconds.toFixed(1)} s`,
  );
  return { schemas: schemas.length, seconds };
}

async function environmentFacts(pool: Pool) {
  const version = await pool.query<{ server_version: string }>('SHOW server_version');
  const settings = await pool.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings
      WHERE name IN ('shared_buffers', 'synchronous_commit', 'fsync', 'max_wal_size',
                     'checkpoint_timeout', 'max_connections')`,
  );
  return {
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    postgres: version.rows[0]?.server_version ?? 'unknown',
    postgresSettings: Object.fromEntries(settings.rows.map((row) => [row.name, row.setting])),
    loadAverageAtStart: loadavg(),
  };
}

function logRun(run: FleetRunResult): void {
  const first = run.first1000Seconds === null ? '-' : `${run.first1000Seconds.toFixed(2)} s`;
  log(
    `  ${run.label.padEnd(42)} ${run.runSeconds.toFixed(2).padStart(7)} s  ` +
      `${run.tenantsPerSecond.toFixed(0).padStart(5)} tenants/s  first 1,000 ${first}  ` +
      `p50/p95 ${run.durationMs.p50.toFixed(0)}/${run.durationMs.p95.toFixed(0)} ms, ` +
      `outside the migrator ${run.outsideMigratorMsPerTenant.toFixed(2)} ms/tenant  ` +
      `CPU s: bench ${run.cpuSeconds.benchProcess.toFixed(1)}, workers ` +
      `${run.cpuSeconds.workerChildren.toFixed(1)}, postgres ${run.cpuSeconds.postgres.toFixed(1)}, ` +
      `other ${run.cpuSeconds.other.toFixed(1)}` +
      `  (${run.succeeded}/${run.total} ok, ${run.changed} changed)`,
  );
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Runs a pass and adds the CPU this process and PostgreSQL spent on it. */
async function measured(pass: () => Promise<SqlPass | NaivePass>) {
  const before = { bench: readCpuMs(process.pid), postgres: readPostgresCpuMs() };
  const machine = readMachineBusyMs();
  const result = await pass();
  const benchProcess = (readCpuMs(process.pid) - before.bench) / 1000;
  const postgres = (readPostgresCpuMs() - before.postgres) / 1000;
  return passStats(result, {
    benchProcess,
    postgres,
    other: (readMachineBusyMs() - machine) / 1000 - benchProcess - postgres,
  });
}

function passStats(
  pass: SqlPass | NaivePass,
  cpuSeconds: { benchProcess: number; postgres: number; other: number },
) {
  const mean = (pass.seconds * 1000) / Math.max(pass.schemas, 1);
  return {
    cpuSeconds,
    direction: pass.direction,
    schemas: pass.schemas,
    seconds: pass.seconds,
    msPerSchema: mean,
    p50Ms: quantile(pass.perSchemaMs, 0.5),
    p95Ms: quantile(pass.perSchemaMs, 0.95),
    maxMs: quantile(pass.perSchemaMs, 1),
  };
}

function logPass(label: string, stats: ReturnType<typeof passStats>): void {
  log(
    `  ${label.padEnd(42)} ${stats.seconds.toFixed(2).padStart(7)} s  ` +
      `${(stats.schemas / stats.seconds).toFixed(0).padStart(5)} schemas/s  ` +
      `${stats.msPerSchema.toFixed(2)} ms/schema, p50/p95 ${stats.p50Ms.toFixed(1)}/${stats.p95Ms.toFixed(1)} ms  ` +
      `CPU s: bench ${stats.cpuSeconds.benchProcess.toFixed(1)}, postgres ${stats.cpuSeconds.postgres.toFixed(1)}, ` +
      `other ${stats.cpuSeconds.other.toFixed(1)}`,
  );
}

interface Measurements {
  noop: FleetRunResult[];
  up: FleetRunResult[];
  down: FleetRunResult[];
  processes: FleetRunResult[];
  floor: { up: ReturnType<typeof passStats>; down: ReturnType<typeof passStats> } | null;
  naive: {
    up: ReturnType<typeof passStats>;
    down: ReturnType<typeof passStats>;
    /** Our c=1 run's migrator time (duration_ms) on the same schemas. */
    oursOnSameSchemas: DurationStats | null;
  } | null;
}

async function fleetPhase(
  driver: FleetRunDriver,
  pool: Pool,
  fleet: FleetBenchSettings,
  tenants: number,
  measurements: Measurements,
): Promise<void> {
  for (const concurrency of fleet.concurrencies) {
    await settle(pool, fleet.registryStats);
    const up = await driver.run({
      label: `up v3->v4, c=${concurrency}`,
      targetVersion: TARGET_VERSION,
      concurrency,
      claimers: 'this process',
    });
    logRun(up);
    measurements.up.push(up);
    await verifyRun(pool, up, tenants);
    await settle(pool, fleet.registryStats);
    const down = await driver.run({
      label: `rollback v4->v3, c=${concurrency}`,
      targetVersion: BASE_VERSION,
      concurrency,
      claimers: 'this process',
    });
    logRun(down);
    measurements.down.push(down);
    await verifyRun(pool, down, tenants);
  }
}

async function processesPhase(
  driver: FleetRunDriver,
  pool: Pool,
  bench: BenchSettings,
  fleet: FleetBenchSettings,
  tenants: number,
  measurements: Measurements,
): Promise<void> {
  const children: ServerChild[] = [];
  await driver.pauseLocalClaimers(true);
  try {
    const env = serverEnv(bench, fleetControlPlaneEnv(bench, fleet));
    for (let i = 0; i < fleet.workerProcesses; i += 1) {
      children.push(
        await startServerChild({
          name: `fleet-worker-${i + 1}`,
          entry: 'bench/lib/fleet-worker-child.ts',
          env,
        }),
      );
    }
    const childrenCpuMs = () => children.reduce((sum, child) => sum + child.cpuMs(), 0);
    const claimers = `${fleet.workerProcesses} worker processes`;
    const concurrency = fleet.processesConcurrency;
    for (const [targetVersion, label] of [
      [TARGET_VERSION, `up v3->v4, c=${concurrency}, ${claimers}`],
      [BASE_VERSION, `rollback v4->v3, c=${concurrency}, ${claimers}`],
    ] as const) {
      await settle(pool, fleet.registryStats);
      const run = await driver.run({ label, targetVersion, concurrency, claimers, childrenCpuMs });
      logRun(run);
      measurements.processes.push(run);
      await verifyRun(pool, run, tenants);
    }
  } finally {
    for (const child of children) await child.stop();
    await driver.pauseLocalClaimers(false);
  }
}

async function floorPhase(
  bench: BenchSettings,
  fleet: FleetBenchSettings,
  pool: Pool,
  schemaNames: readonly string[],
  measurements: Measurements,
): Promise<void> {
  await settle(pool, fleet.registryStats);
  const up = await measured(() => sqlFloorPass(bench.databaseUrl, schemaNames, 'up'));
  const upProblems = await verifyPhysical(pool, schemaNames.length);
  if (upProblems.length > 0) throw new Error(`SQL floor up: ${upProblems.join('; ')}`);
  logPass('SQL floor up, one session', up);
  await settle(pool, fleet.registryStats);
  const down = await measured(() => sqlFloorPass(bench.databaseUrl, schemaNames, 'down'));
  const downProblems = await verifyPhysical(pool, 0);
  if (downProblems.length > 0) throw new Error(`SQL floor down: ${downProblems.join('; ')}`);
  logPass('SQL floor rollback, one session', down);
  measurements.floor = { up, down };
}

async function naivePhase(
  driver: FleetRunDriver,
  bench: BenchSettings,
  fleet: FleetBenchSettings,
  pool: Pool,
  sample: readonly BenchTenant[],
  measurements: Measurements,
): Promise<void> {
  const schemaNames = sample.map((tenant) => tenant.schemaName);
  await prepareNaiveHistory(pool, schemaNames, TENANT_TEMPLATE_MIGRATIONS, BASE_VERSION);
  try {
    await settle(pool, fleet.registryStats);
    const up = await measured(() =>
      naivePass(bench.databaseUrl, schemaNames, TENANT_TEMPLATE_MIGRATIONS, 'up'),
    );
    const upProblems = await verifyPhysical(pool, schemaNames.length);
    if (upProblems.length > 0) throw new Error(`naive up: ${upProblems.join('; ')}`);
    logPass(`naive up, ${sample.length} schemas`, up);
    await settle(pool, fleet.registryStats);
    const down = await measured(() =>
      naivePass(bench.databaseUrl, schemaNames, TENANT_TEMPLATE_MIGRATIONS, 'down'),
    );
    const downProblems = await verifyPhysical(pool, 0);
    if (downProblems.length > 0) throw new Error(`naive down: ${downProblems.join('; ')}`);
    logPass(`naive rollback, ${sample.length} schemas`, down);
    const c1 = measurements.up.find((run) => run.concurrency === 1);
    measurements.naive = {
      up,
      down,
      oursOnSameSchemas: c1
        ? await driver.durations(
            c1.runId,
            sample.map((tenant) => tenant.id),
          )
        : null,
    };
  } finally {
    const state = await physicalState(pool);
    await repairSchemas(pool, [], state.withNaiveHistory);
  }
}

function summarise(measurements: Measurements, fleet: FleetBenchSettings, tenants: number) {
  const bestBy = (runs: readonly FleetRunResult[], key: (run: FleetRunResult) => number) =>
    runs.length === 0 ? null : runs.reduce((a, b) => (key(b) < key(a) ? b : a));
  const upRuns = [
    ...measurements.up,
    ...measurements.processes.filter((r) => r.targetVersion === 4),
  ];
  const bestUp = bestBy(upRuns, (run) => run.runSeconds);
  const bestFirst1000 = bestBy(
    upRuns.filter((run) => run.first1000Seconds !== null),
    (run) => run.first1000Seconds!,
  );
  const bestNoop = bestBy(measurements.noop, (run) => run.runSeconds);
  const c1Up = measurements.up.find((run) => run.concurrency === 1) ?? null;
  const c1Down = measurements.down.find((run) => run.concurrency === 1) ?? null;
  const bestDown = bestBy(
    [...measurements.down, ...measurements.processes.filter((r) => r.targetVersion === 3)],
    (run) => run.runSeconds,
  );
  const floor = measurements.floor;
  const naive = measurements.naive;
  const oursMsPerSchemaC1 = c1Up ? (c1Up.runSeconds * 1000) / c1Up.total : null;
  const scale = (run: FleetRunResult | null) =>
    run && floor ? run.runSeconds / floor.up.seconds : null;
  return {
    tenants,
    goals: {
      first1000AtMostSeconds: {
        goal: 3.5,
        measured: bestFirst1000?.first1000Seconds ?? null,
        run: bestFirst1000?.label ?? null,
        met: bestFirst1000 ? bestFirst1000.first1000Seconds! <= 3.5 : null,
      },
      allTenantsAtMostSeconds: {
        goal: 60,
        measured: bestUp?.runSeconds ?? null,
        run: bestUp?.label ?? null,
        met: bestUp ? bestUp.runSeconds <= 60 : null,
      },
      withinFloorFactor: {
        goal: 3,
        measuredBest: scale(bestUp),
        measuredAtConcurrency1: scale(c1Up),
        run: bestUp?.label ?? null,
        met: scale(bestUp) === null ? null : scale(bestUp)! <= 3,
      },
      noopAtMostSeconds: {
        goal: 10,
        measured: bestNoop?.runSeconds ?? null,
        run: bestNoop?.label ?? null,
        met: bestNoop ? bestNoop.runSeconds <= 10 : null,
      },
    },
    rollback: {
      bestSeconds: bestDown?.runSeconds ?? null,
      bestRun: bestDown?.label ?? null,
      overFloorRollbackAtConcurrency1:
        c1Down && floor ? c1Down.runSeconds / floor.down.seconds : null,
      overFloorRollbackBest: bestDown && floor ? bestDown.runSeconds / floor.down.seconds : null,
    },
    naiveOverOurs: naive
      ? {
          naiveMsPerSchema: naive.up.msPerSchema,
          oursMsPerSchemaConcurrency1: oursMsPerSchemaC1,
          ratioPerSchema: oursMsPerSchemaC1 ? naive.up.msPerSchema / oursMsPerSchemaC1 : null,
          oursMigratorMeanMsOnSameSchemas: naive.oursOnSameSchemas?.mean ?? null,
          ratioAgainstMigratorOnSameSchemas: naive.oursOnSameSchemas
            ? naive.up.msPerSchema / Math.max(naive.oursOnSameSchemas.mean, 0.001)
            : null,
          rollbackRatioPerSchema:
            c1Down && naive
              ? naive.down.msPerSchema / ((c1Down.runSeconds * 1000) / c1Down.total)
              : null,
        }
      : null,
    concurrencies: fleet.concurrencies,
  };
}

function fmt(value: number | null | undefined, digits = 2, suffix = ''): string {
  return value === null || value === undefined || Number.isNaN(value)
    ? '-'
    : `${value.toFixed(digits)}${suffix}`;
}

function printSummary(
  measurements: Measurements,
  summary: ReturnType<typeof summarise>,
  fleet: FleetBenchSettings,
): void {
  const line = '-'.repeat(128);
  log('');
  log(line);
  log(
    `Fleet migration ${TARGET_MIGRATION} over ${summary.tenants.toLocaleString('en')} tenant schemas ` +
      `(${fleet.heavyTenants} of them with ${fleet.heavyRows.toLocaleString('en')} projects rows, the rest 20); ` +
      `registry statistics: ${fleet.registryStats}`,
  );
  log(line);
  log(
    `${'run'.padEnd(44)}${'run s'.padStart(8)}${'wall s'.padStart(8)}${'tenants/s'.padStart(11)}` +
      `${'1st 1,000 s'.padStart(12)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}` +
      `${'heavy p50'.padStart(10)}${'CPU s node'.padStart(11)}${'pg'.padStart(6)}${'other'.padStart(7)}` +
      `${'ok'.padStart(12)}`,
  );
  const row = (run: FleetRunResult) =>
    log(
      `${run.label.padEnd(44)}${fmt(run.runSeconds).padStart(8)}${fmt(run.wallSeconds).padStart(8)}` +
        `${fmt(run.tenantsPerSecond, 0).padStart(11)}${fmt(run.first1000Seconds).padStart(12)}` +
        `${fmt(run.durationMs.p50, 0).padStart(8)}${fmt(run.durationMs.p95, 0).padStart(8)}` +
        `${fmt(run.heavyDurationMs?.p50, 0).padStart(10)}` +
        `${fmt(run.cpuSeconds.benchProcess + run.cpuSeconds.workerChildren, 1).padStart(11)}` +
        `${fmt(run.cpuSeconds.postgres, 1).padStart(6)}${fmt(run.cpuSeconds.other, 1).padStart(7)}` +
        `${`${run.succeeded}/${run.total}`.padStart(12)}`,
    );
  for (const run of measurements.noop) row(run);
  for (const up of measurements.up) {
    row(up);
    const down = measurements.down.find((run) => run.concurrency === up.concurrency);
    if (down) row(down);
  }
  for (const run of measurements.processes) row(run);
  const pass = (label: string, stats: ReturnType<typeof passStats>) =>
    log(
      `${label.padEnd(44)}${fmt(stats.seconds).padStart(8)}${''.padStart(8)}` +
        `${fmt(stats.schemas / stats.seconds, 0).padStart(11)}${''.padStart(12)}` +
        `${fmt(stats.p50Ms, 1).padStart(8)}${fmt(stats.p95Ms, 1).padStart(8)}${''.padStart(10)}` +
        `${fmt(stats.cpuSeconds.benchProcess, 1).padStart(11)}${fmt(stats.cpuSeconds.postgres, 1).padStart(6)}` +
        `${fmt(stats.cpuSeconds.other, 1).padStart(7)}`,
    );
  if (measurements.floor) {
    pass('SQL floor up, one session', measurements.floor.up);
    pass('SQL floor rollback, one session', measurements.floor.down);
  }
  if (measurements.naive) {
    pass(
      `naive up, DataSource per schema (${measurements.naive.up.schemas})`,
      measurements.naive.up,
    );
    pass(`naive rollback (${measurements.naive.down.schemas})`, measurements.naive.down);
  }
  log('');
  const { goals, rollback, naiveOverOurs } = summary;
  const verdict = (met: boolean | null) =>
    met === null ? 'not measured' : met ? 'met' : 'NOT met';
  log(
    `goal 1,000 schemas <= 3.5 s: ${fmt(goals.first1000AtMostSeconds.measured, 2, ' s')} ` +
      `(${goals.first1000AtMostSeconds.run}) -> ${verdict(goals.first1000AtMostSeconds.met)}`,
  );
  log(
    `goal all ${summary.tenants.toLocaleString('en')} <= 60 s: ${fmt(goals.allTenantsAtMostSeconds.measured, 2, ' s')} ` +
      `(${goals.allTenantsAtMostSeconds.run}) -> ${verdict(goals.allTenantsAtMostSeconds.met)}`,
  );
  log(
    `goal within 3x of the SQL floor: best run ${fmt(goals.withinFloorFactor.measuredBest, 2, 'x')}, ` +
      `at concurrency 1 ${fmt(goals.withinFloorFactor.measuredAtConcurrency1, 2, 'x')} -> ` +
      `${verdict(goals.withinFloorFactor.met)}`,
  );
  log(
    `goal no-op over all <= 10 s: ${fmt(goals.noopAtMostSeconds.measured, 2, ' s')} ` +
      `(${goals.noopAtMostSeconds.run}) -> ${verdict(goals.noopAtMostSeconds.met)}`,
  );
  log(
    `rollback: best ${fmt(rollback.bestSeconds, 2, ' s')} (${rollback.bestRun}); over the SQL floor's ` +
      `rollback: ${fmt(rollback.overFloorRollbackAtConcurrency1, 2, 'x')} at c=1, ` +
      `${fmt(rollback.overFloorRollbackBest, 2, 'x')} best`,
  );
  if (naiveOverOurs) {
    log(
      `naive / ours per schema: ${fmt(naiveOverOurs.ratioPerSchema, 1, 'x')} ` +
        `(${fmt(naiveOverOurs.naiveMsPerSchema, 1)} ms vs ${fmt(naiveOverOurs.oursMsPerSchemaConcurrency1, 1)} ms ` +
        `per schema of a whole c=1 run); against our migrator's own time on the same schemas ` +
        `(${fmt(naiveOverOurs.oursMigratorMeanMsOnSameSchemas, 1)} ms): ` +
        `${fmt(naiveOverOurs.ratioAgainstMigratorOnSameSchemas, 1, 'x')}; rollback ${fmt(naiveOverOurs.rollbackRatioPerSchema, 1, 'x')}`,
    );
  }
  log(line);
}

async function main(): Promise<void> {
  const wallStarted = Date.now();
  const bench = loadBenchSettings();
  const fleet = loadFleetBenchSettings();
  log(
    `bench:fleet: ${bench.tenants} tenants, concurrency ${fleet.concurrencies.join(',')}, ` +
      `${fleet.heavyTenants} heavy tenants x ${fleet.heavyRows} rows, naive sample ${fleet.naiveSample}, ` +
      `phases ${fleet.phases.join(',')}, registry statistics ${fleet.registryStats}`,
  );
  log('== setup');
  const { tenants } = await prepareFleet(bench, log);
  const pool = new Pool({ connectionString: bench.databaseUrl, max: 4 });
  let driver: FleetRunDriver | null = null;
  let completed = false;
  const measurements: Measurements = {
    noop: [],
    up: [],
    down: [],
    processes: [],
    floor: null,
    naive: null,
  };
  try {
    if (TENANT_TEMPLATE_MIGRATIONS[TARGET_VERSION - 1]?.name !== TARGET_MIGRATION) {
      throw new Error(`template migration ${TARGET_VERSION} is not ${TARGET_MIGRATION}`);
    }
    const heavy = spreadEvenly(tenants, fleet.heavyTenants);
    const topUpStarted = Date.now();
    const inserted = await topUpProjects(pool, heavy, fleet.heavyRows);
    log(
      `  ${heavy.length} heavy tenants (${heavy[0]?.slug}, ${heavy[1]?.slug}, ...): ${inserted} rows inserted ` +
        `(${((Date.now() - topUpStarted) / 1000).toFixed(1)} s; 0 when already there)`,
    );
    const naiveSample = naiveSampleOf(tenants, heavy, fleet.naiveSample);
    const facts = await environmentFacts(pool);
    log(
      `machine: ${facts.cpus}, ${facts.memoryGb} GB, node ${facts.node}, PostgreSQL ${facts.postgres}; ` +
        `load average ${facts.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')}`,
    );
    if ((facts.loadAverageAtStart[0] ?? 0) > 1.5) {
      log(
        '  note: 1-minute load average > 1.5 (other work, or a run that just ended): expect noise',
      );
    }
    driver = await FleetRunDriver.open(
      fleetControlPlaneEnv(bench, fleet),
      pool,
      heavy.map((tenant) => tenant.id),
      fleet.runTimeoutSeconds,
    );
    const cancelled = await driver.cancelLeftovers();
    if (cancelled > 0) log(`  cancelled ${cancelled} run(s) left over by an interrupted bench`);
    const baseline = await ensureBaseline(driver, pool, tenants.length);
    const rebuiltAtStart = await rebuildDropped(bench, fleet, pool);
    const deletedRuns = await deleteRunHistory(pool, BENCH_REQUESTER);
    log(`  deleted ${deletedRuns} fleet run(s) of earlier bench runs from the registry`);
    // One untimed run, so that every measured run finds the same registry (and statistics).
    await settle(pool, fleet.registryStats);
    const warmUp = await driver.run({
      label: 'warm-up no-op (untimed)',
      targetVersion: BASE_VERSION,
      concurrency: RESTORE_CONCURRENCY,
      claimers: 'this process',
    });
    await verifyRun(pool, warmUp, tenants.length);
    log(`  warm-up no-op run (untimed): ${warmUp.runSeconds.toFixed(2)} s`);

    if (fleet.phases.includes('noop')) {
      log('== no-op runs (every tenant already at v3: one version check each)');
      for (const concurrency of fleet.concurrencies) {
        await settle(pool, fleet.registryStats);
        const run = await driver.run({
          label: `no-op v3->v3, c=${concurrency}`,
          targetVersion: BASE_VERSION,
          concurrency,
          claimers: 'this process',
        });
        logRun(run);
        measurements.noop.push(run);
        await verifyRun(pool, run, tenants.length);
      }
    }
    if (fleet.phases.includes('fleet')) {
      log('== fleet runs: up to v4, then a fleet run back to v3, per concurrency');
      await fleetPhase(driver, pool, fleet, tenants.length, measurements);
    }
    if (fleet.phases.includes('processes')) {
      log(`== the same with claimers in ${fleet.workerProcesses} separate worker processes`);
      await processesPhase(driver, pool, bench, fleet, tenants.length, measurements);
    }
    if (fleet.phases.includes('floor')) {
      log('== SQL floor: the same DDL, schema by schema, one session; rolled back the same way');
      await floorPhase(
        bench,
        fleet,
        pool,
        tenants.map((tenant) => tenant.schemaName),
        measurements,
      );
    }
    if (fleet.phases.includes('naive')) {
      log(`== naive: a TypeORM DataSource per schema, ${naiveSample.length} schemas, sequential`);
      await naivePhase(driver, bench, fleet, pool, naiveSample, measurements);
    }

    const summary = summarise(measurements, fleet, tenants.length);
    printSummary(measurements, summary, fleet);
    log('== final check');
    const final = {
      ...(await ensureBaseline(driver, pool, tenants.length)),
      rebuilt: await rebuildDropped(bench, fleet, pool),
    };
    completed = true;
    const wallSeconds = (Date.now() - wallStarted) / 1000;
    log(
      `untimed between measurements: ${settleSeconds.toFixed(0)} s of VACUUM (ANALYZE) + CHECKPOINT`,
    );
    log(
      `fleet left at v${BASE_VERSION} (planner); wall time ${wallSeconds.toFixed(0)} s; results in ${RESULTS_FILE}`,
    );
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      RESULTS_FILE,
      `${JSON.stringify(
        {
          finishedAt: new Date().toISOString(),
          wallSeconds,
          settleSeconds,
          settings: { tenants: bench.tenants, ...fleet },
          environment: facts,
          setup: {
            heavyTenants: heavy.map((tenant) => tenant.slug),
            rowsInserted: inserted,
            naiveSample: naiveSample.map((tenant) => tenant.slug),
            baseline,
            rebuiltAtStart,
            deletedRuns,
            warmUpSeconds: warmUp.runSeconds,
          },
          final,
          summary,
          runs: measurements,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    if (driver && !completed) {
      // Whatever went wrong, leave the fleet at v3 with nothing its histories do not record.
      log('== restoring the fleet after a failure');
      await ensureBaseline(driver, pool, tenants.length)
        .then(() => rebuildDropped(bench, fleet, pool))
        .catch((error: unknown) => log(`  could not restore the fleet to v3: ${String(error)}`));
    }
    await driver?.close();
    await pool.end();
  }
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // The next run finds what this one left half-done (a running run, v4 schemas) and restores.
    console.error(`bench:fleet: ${signal}; the next run restores the fleet to v${BASE_VERSION}`);
    killAllChildren();
    process.exit(130);
  });
}

main()
  .then(() => {
    killAllChildren();
    // Redis and pg handles of the in-process control plane may linger; the run is over.
    process.exit(0);
  })
  .catch((error: unknown) => {
    killAllChildren();
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
