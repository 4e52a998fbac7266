/**
 * `npm run bench:onboarding`: how fast a tenant gets a usable schema, cold (the schema steps as
 * the worker runs them) and warm (claiming a pooled schema as POST /v1/tenants does), each with
 * 0 and with 10,000 tenants already in the database, in one run, one tenant on each database in
 * turn; then the whole saga end to end against the local outside systems.
 * See bench/README.md ("Onboarding benchmark") for what each number means.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { readCpuMs, readPostgresCpuMs } from './lib/child-server';
import { readMachineBusyMs } from './lib/fleet-runs';
import { runOnboardingE2e, type E2eResult } from './lib/onboarding-e2e';
import {
  createEmptyDatabase,
  databaseShape,
  dropDatabase,
  ensureOnboardingFleet,
  ONBOARDING_SLUG_PREFIX,
  removeBenchTenants,
  removeRedisKeys,
  settleDatabase,
  type FleetReport,
} from './lib/onboarding-fleet';
import {
  loadOnboardingBenchSettings,
  ONBOARDING_REDIS_PREFIX,
  type OnboardingBenchSettings,
} from './lib/onboarding-settings';
import { sleep } from './lib/concurrency';
import { sampleStats, type SampleStats } from './lib/sample-stats';
import { dropFloorSchemas, FLOOR_SCHEMA_PREFIX, sqlFloorOnce } from './lib/schema-floor';
import { OnboardingTarget, type ColdSample, type WarmSample } from './lib/schema-onboarding';

const RESULTS_FILE = join(__dirname, 'results', 'onboarding-latest.json');
const COMMIT_PROBES = 100;
/** Tenants per database, cold and warm, measured before the run and thrown away. */
const WARM_UP_TENANTS = 3;
const PROGRESS_EVERY = 50;
/** Idle backends flush their statistics within 10 s. */
const STATS_FLUSH_MS = 11_000;
const TOP_RELATIONS = 6;

/** The goals of issue 3 ("What must be measured"). */
const GOALS = {
  warmP50Ms: 10,
  /** django-tenants: 59 ms at 200 tenants, 126 ms past 1,000, on this kind of machine. */
  coldP50Ms: 60,
  coldGrowthAt10k: 1.2,
};

const log = (line: string) => process.stdout.write(`${line}\n`);

interface CpuWindow {
  readonly benchProcess: number;
  readonly postgres: number;
  readonly machine: number;
  /** Machine minus this process and PostgreSQL: other work on the cores (and PowerDNS etc.). */
  readonly other: number;
  readonly seconds: number;
}

function cpuWindow(): () => CpuWindow {
  const started = {
    at: performance.now(),
    bench: readCpuMs(process.pid),
    postgres: readPostgresCpuMs(),
    machine: readMachineBusyMs(),
  };
  return () => {
    const benchProcess = (readCpuMs(process.pid) - started.bench) / 1000;
    const postgres = (readPostgresCpuMs() - started.postgres) / 1000;
    const machine = (readMachineBusyMs() - started.machine) / 1000;
    return {
      benchProcess,
      postgres,
      machine,
      other: machine - benchProcess - postgres,
      seconds: (performance.now() - started.at) / 1000,
    };
  };
}

/**
 * What one durable commit costs on this server: one-row INSERTs, each its own transaction (a
 * WAL flush each). The cold path commits about a dozen times; this is the floor under each.
 */
async function commitFloor(databaseUrl: string): Promise<SampleStats> {
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await pool.query('CREATE TABLE IF NOT EXISTS bench_commit_probe (n integer)');
    const samples: number[] = [];
    for (let i = 0; i < COMMIT_PROBES; i += 1) {
      const started = performance.now();
      await pool.query('INSERT INTO bench_commit_probe VALUES ($1)', [i]);
      samples.push(performance.now() - started);
    }
    await pool.query('DROP TABLE bench_commit_probe');
    return sampleStats(samples);
  } finally {
    await pool.end();
  }
}

interface TargetResult {
  readonly label: string;
  readonly shapeBefore: Awaited<ReturnType<typeof databaseShape>>;
  readonly cold: SampleStats;
  /** The template's statements alone, one transaction (lib/schema-floor.ts). */
  readonly sqlFloor: SampleStats;
  readonly warmClaim: SampleStats;
  readonly warmCreate: SampleStats;
  /** Mean ms per part of a cold sample (means add up; percentiles do not). */
  readonly coldPartsMean: Record<string, number>;
  readonly verified: Awaited<ReturnType<OnboardingTarget['verifyClaimed']>>;
  readonly coldSamples: readonly number[];
  readonly warmClaimSamples: readonly number[];
  /** pg_stat_database per measured tenant: blocks read from outside shared buffers, hits. */
  readonly coldBlocksPerTenant: BlockCounters;
  readonly warmBlocksPerTenant: BlockCounters;
}

interface BlockCounters {
  readonly read: number;
  readonly hit: number;
  readonly commits: number;
  /** The catalog and registry relations with the most blocks read, per round. */
  readonly topReads?: readonly [string, number][];
}

function meanParts(samples: readonly ColdSample[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const sample of samples) {
    for (const [key, ms] of Object.entries(sample.parts)) sums[key] = (sums[key] ?? 0) + ms;
  }
  const mean: Record<string, number> = { total: 0 };
  for (const [key, sum] of Object.entries(sums)) mean[key] = sum / samples.length;
  mean.total = samples.reduce((sum, sample) => sum + sample.ms, 0) / samples.length;
  return mean;
}

async function schemaPhase(settings: OnboardingBenchSettings, fleetReport: FleetReport) {
  const fleetPool = new Pool({ connectionString: settings.fleetDatabaseUrl, max: 2 });
  const asyncUrl = asyncCommitDatabaseUrl(settings.emptyDatabaseUrl);
  const targets: OnboardingTarget[] = [];
  try {
    const leftovers = await removeBenchTenants(fleetPool);
    await dropFloorSchemas(fleetPool);
    if (leftovers > 0) log(`  removed ${leftovers} tenant(s) an earlier run left behind`);
    log('  vacuum + analyze of catalogs and registry, checkpoint (untimed)');
    await settleDatabase(settings.fleetDatabaseUrl);
    await createEmptyDatabase(settings.emptyDatabaseUrl);
    if (settings.asyncCommitProbe) {
      await createEmptyDatabase(asyncUrl);
      await setAsyncCommit(asyncUrl);
    }
    const floor = await commitFloor(settings.emptyDatabaseUrl);
    log(`  durable commit floor: p50 ${floor.p50.toFixed(2)} ms (one-row INSERT, autocommit)`);

    const fleetLabel =
      settings.fleetTenants >= 1000
        ? `${settings.fleetTenants / 1000}k`
        : `${settings.fleetTenants}`;
    const open = async (label: string, databaseUrl: string) => {
      const target = await OnboardingTarget.open({
        label,
        databaseUrl,
        redisUrl: settings.redisUrl,
        // Enough reserved roles for every cold tenant of the run, made before it starts.
        roleReserve: settings.roleReserve ? Math.min(5_000, WARM_UP_TENANTS + settings.tenants) : 0,
      });
      targets.push(target);
      return target;
    };
    const empty = await open('0', settings.emptyDatabaseUrl);
    const fleet = await open(fleetLabel, settings.fleetDatabaseUrl);
    const probe = settings.asyncCommitProbe ? await open('0-async', asyncUrl) : null;
    const compared = [empty, fleet];
    const shapes = new Map<OnboardingTarget, Awaited<ReturnType<typeof databaseShape>>>();
    for (const target of targets) shapes.set(target, await databaseShape(target.pool));
    log(
      `  databases: 0 tenants (${shapes.get(empty)?.pgClassRows} pg_class rows), ` +
        `${fleetReport.tenants.toLocaleString('en')} tenants (${shapes.get(fleet)?.pgClassRows.toLocaleString('en')} pg_class rows)` +
        (probe ? ', and 0 tenants with synchronous_commit = off (probe, cold only)' : ''),
    );

    const tag = Date.now().toString(36);
    let slugCount = 0;
    const nextSlug = () => `${ONBOARDING_SLUG_PREFIX}${tag}-${slugCount++}`;
    let floorCount = 0;
    const nextFloorSchema = () => `${FLOOR_SCHEMA_PREFIX}${tag}_${floorCount++}`;

    // Untimed warm-up per database: connections, prepared plans, JIT of the code paths.
    for (const target of targets) {
      for (const id of await target.addWarming(WARM_UP_TENANTS)) await target.coldOne(id);
      if (target !== probe) {
        for (let i = 0; i < WARM_UP_TENANTS; i += 1) await target.claimOne(nextSlug());
        await sqlFloorOnce(target.pool, nextFloorSchema());
      }
    }

    const n = settings.tenants;
    const warming = new Map<OnboardingTarget, string[]>();
    for (const target of targets) warming.set(target, await target.addWarming(n));
    const cold = new Map<OnboardingTarget, ColdSample[]>(targets.map((t) => [t, []]));
    const floors = new Map<OnboardingTarget, number[]>(compared.map((t) => [t, []]));
    const warm = new Map<OnboardingTarget, WarmSample[]>(compared.map((t) => [t, []]));

    // One tenant on each database in turn, the order rotating, so that whatever else the
    // machine does at a moment hits every database alike; right after each cold tenant, the
    // reference on the same database: the template's statements alone, in one transaction.
    const coldPhase = await measured(targets, n, async (i) => {
      for (const target of rotate(targets, i)) {
        cold.get(target)!.push(await target.coldOne(warming.get(target)![i]));
        const floor = floors.get(target);
        if (floor) floor.push(await sqlFloorOnce(target.pool, nextFloorSchema()));
      }
      if ((i + 1) % PROGRESS_EVERY === 0 || i + 1 === n) {
        progress('cold ', i + 1, n, [
          ...targets.map((t): [string, number[]] => [t.label, cold.get(t)!.map((s) => s.ms)]),
          ...compared.map((t): [string, number[]] => [`${t.label} floor`, floors.get(t)!]),
        ]);
      }
    });
    for (const target of targets) await target.checkPooled();
    const warmPhase = await measured(compared, n, async (i) => {
      for (const target of rotate(compared, i))
        warm.get(target)!.push(await target.claimOne(nextSlug()));
      if ((i + 1) % PROGRESS_EVERY === 0 || i + 1 === n) {
        progress(
          'warm',
          i + 1,
          n,
          compared.map((t) => [t.label, warm.get(t)!.map((s) => s.claimMs)]),
        );
      }
    });

    const results: TargetResult[] = [];
    for (const target of compared) {
      const verified = await target.verifyClaimed();
      const coldSamples = cold.get(target)!;
      const warmSamples = warm.get(target)!;
      results.push({
        label: target.label,
        shapeBefore: shapes.get(target)!,
        cold: sampleStats(coldSamples.map((s) => s.ms)),
        sqlFloor: sampleStats(floors.get(target)!),
        warmClaim: sampleStats(warmSamples.map((s) => s.claimMs)),
        warmCreate: sampleStats(warmSamples.map((s) => s.createMs)),
        coldPartsMean: meanParts(coldSamples),
        verified,
        coldSamples: coldSamples.map((s) => s.ms),
        warmClaimSamples: warmSamples.map((s) => s.claimMs),
        coldBlocksPerTenant: coldPhase.blocksPerTenant.get(target)!,
        warmBlocksPerTenant: warmPhase.blocksPerTenant.get(target)!,
      });
    }
    log(
      `  verified: every claimed schema is at template v${TENANT_TEMPLATE_MIGRATIONS.length} with ` +
        `${results[0].verified.countries} countries and ${results[0].verified.currencies} currencies`,
    );
    const probeSamples = probe ? cold.get(probe)! : null;
    return {
      commitFloorMs: floor,
      targets: results,
      asyncCommitProbe: probeSamples && {
        label: probe!.label,
        cold: sampleStats(probeSamples.map((s) => s.ms)),
        coldPartsMean: meanParts(probeSamples),
        blocksPerTenant: coldPhase.blocksPerTenant.get(probe!)!,
        /** Median of probe[i] / cold@0[i]. */
        pairedRatioToSync: pairedRatio(
          probeSamples.map((s) => s.ms),
          results[0].coldSamples,
        ),
      },
      cpu: { cold: coldPhase.cpu, warm: warmPhase.cpu },
      loadAverage: { coldStart: coldPhase.loadAtStart, warmStart: warmPhase.loadAtStart },
    };
  } finally {
    for (const target of targets) await target.close().catch(() => undefined);
    const removed = await removeBenchTenants(fleetPool).catch((error: unknown) => {
      log(`  cleanup of the fleet database failed: ${String(error)}`);
      return 0;
    });
    await dropFloorSchemas(fleetPool).catch(() => undefined);
    log(`  cleanup: removed the ${removed} tenant(s) this run made in the fleet database`);
    await fleetPool.end();
    await dropDatabase(settings.emptyDatabaseUrl).catch(() => undefined);
    await dropDatabase(asyncUrl).catch(() => undefined);
    // The jobs the API contexts enqueued (never consumed) and Bull's bookkeeping around them.
    await removeRedisKeys(settings.redisUrl, `${ONBOARDING_REDIS_PREFIX}-*`);
  }
}

/** `items` rotated by `i`: each takes every position equally often. */
function rotate<T>(items: readonly T[], i: number): T[] {
  const shift = i % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function progress(name: string, done: number, n: number, series: [string, number[]][]): void {
  const parts = series.map(([label, values]) => {
    const stats = sampleStats(values.slice(-PROGRESS_EVERY));
    return `@${label} p50 ${stats.p50.toFixed(1)} ms`;
  });
  log(
    `  ${name} ${String(done).padStart(4)}/${n}: last ${PROGRESS_EVERY}: ${parts.join(', ')}` +
      ` (load ${loadavg()[0].toFixed(1)})`,
  );
}

/**
 * Runs `n` rounds and returns the CPU used meanwhile and, per database, the blocks read and hit
 * and the commits per round (pg_stat_database, read after the backends flushed their counts).
 */
async function measured(
  targets: readonly OnboardingTarget[],
  n: number,
  round: (i: number) => Promise<void>,
) {
  // Counts of earlier work (the vacuum at start, the warm-up) are reported lazily too: let
  // them land before the window opens.
  await sleep(STATS_FLUSH_MS);
  for (const target of targets) await target.touch();
  const before = new Map<OnboardingTarget, BlockCounters>();
  const readsBefore = new Map<OnboardingTarget, Map<string, number>>();
  for (const target of targets) {
    before.set(target, await target.blockCounters());
    readsBefore.set(target, await target.relationReads());
  }
  const window = cpuWindow();
  const loadAtStart = loadavg()[0] ?? 0;
  for (let i = 0; i < n; i += 1) await round(i);
  const cpu = window();
  // Backends report block counts lazily (at most every second, idle ones after 10 s).
  await sleep(STATS_FLUSH_MS);
  const blocksPerTenant = new Map<OnboardingTarget, BlockCounters>();
  for (const target of targets) {
    const start = before.get(target)!;
    const after = await target.blockCounters();
    const startReads = readsBefore.get(target)!;
    const topReads = [...(await target.relationReads())]
      .map(([name, read]): [string, number] => [name, (read - (startReads.get(name) ?? 0)) / n])
      .filter(([, read]) => read > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_RELATIONS);
    blocksPerTenant.set(target, {
      read: (after.read - start.read) / n,
      hit: (after.hit - start.hit) / n,
      commits: (after.commits - start.commits) / n,
      topReads,
    });
  }
  return { cpu, loadAtStart, blocksPerTenant };
}

/** The probe's own database: an empty one like `emptyUrl`, named `<empty>_async`. */
function asyncCommitDatabaseUrl(emptyUrl: string): string {
  const url = new URL(emptyUrl);
  url.pathname = `${url.pathname}_async`;
  return url.toString();
}

/**
 * Every session of the probe database commits without waiting for its WAL flush: what the
 * schema steps would cost if they set `synchronous_commit = off` themselves.
 */
async function setAsyncCommit(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    await pool.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`);
  } finally {
    await pool.end();
  }
}

type SchemaResult = Awaited<ReturnType<typeof schemaPhase>>;

const fmt = (value: number, digits = 1) => value.toFixed(digits);
const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

/** Median of a[i] / b[i]: pairs measured next to each other share the machine's state. */
function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return sampleStats(a.map((value, i) => ratio(value, b[i] ?? Number.NaN))).p50;
}

function ratios(schema: SchemaResult) {
  const [empty, fleet] = schema.targets;
  return {
    coldFleetOver0Paired: pairedRatio(fleet.coldSamples, empty.coldSamples),
    warmFleetOver0Paired: pairedRatio(fleet.warmClaimSamples, empty.warmClaimSamples),
    warmOverColdAt0: ratio(empty.warmClaim.p50, empty.cold.p50),
    warmOverColdAtFleet: ratio(fleet.warmClaim.p50, fleet.cold.p50),
    coldFleetOver0P50: ratio(fleet.cold.p50, empty.cold.p50),
    coldFleetOver0P95: ratio(fleet.cold.p95, empty.cold.p95),
    warmFleetOver0P50: ratio(fleet.warmClaim.p50, empty.warmClaim.p50),
    warmFleetOver0P95: ratio(fleet.warmClaim.p95, empty.warmClaim.p95),
  };
}

function goals(schema: SchemaResult | null) {
  if (!schema) return [];
  const [empty, fleet] = schema.targets;
  const r = ratios(schema);
  return [
    ...schema.targets.map((target) => ({
      goal: `warm p50 @${target.label} <= ${GOALS.warmP50Ms} ms`,
      value: `${fmt(target.warmClaim.p50, 2)} ms (claim transaction)`,
      met: target.warmClaim.p50 <= GOALS.warmP50Ms,
    })),
    ...schema.targets.map((target) => ({
      goal: `cold p50 @${target.label} <= ${GOALS.coldP50Ms} ms`,
      value: `${fmt(target.cold.p50)} ms`,
      met: target.cold.p50 <= GOALS.coldP50Ms,
    })),
    {
      goal: `cold p50 @${fleet.label} <= ${GOALS.coldGrowthAt10k}x @${empty.label}`,
      value: `${fmt(r.coldFleetOver0P50, 2)}x (median of paired ratios ${fmt(r.coldFleetOver0Paired, 2)}x)`,
      met: r.coldFleetOver0P50 <= GOALS.coldGrowthAt10k,
    },
  ];
}

/** Cold parts in the order they run, with what is left over inside each step. */
function coldBreakdown(parts: Record<string, number>): [string, number][] {
  const get = (key: string) => parts[key] ?? 0;
  const migrations = Object.keys(parts).filter((key) => key.startsWith('migration:'));
  const migrationSum = migrations.reduce((sum, key) => sum + get(key), 0);
  const steps = ['step:create-schema', 'step:apply-template', 'step:seed-lookups'];
  return [
    ['create-schema (CREATE SCHEMA, autocommit)', get('step:create-schema')],
    ['apply-template', get('step:apply-template')],
    ...migrations.map((key): [string, number] => [
      `  ${key.slice('migration:'.length)} up()`,
      get(key),
    ]),
    [
      '  migrator: version check, tx, lock, history table + rows, commit',
      get('migrate') - migrationSum,
    ],
    ['  registry: template_version update', get('step:apply-template') - get('migrate')],
    ['seed-lookups', get('step:seed-lookups')],
    ['  seed statements (countries, currencies)', get('seeds')],
    ['  tenant transaction: begin, search_path, commit', get('step:seed-lookups') - get('seeds')],
    [
      'around the steps: lock, tenant read, records, pooled',
      get('total') - steps.reduce((sum, key) => sum + get(key), 0),
    ],
    ['  step records: done steps read, succeeded x3', get('records')],
    [
      '  runner: lock, tenant read, waits for started x3, pooled update',
      get('total') - steps.reduce((sum, key) => sum + get(key), 0) - get('records'),
    ],
    ['total', get('total')],
  ];
}

function printSummary(schema: SchemaResult | null, e2e: E2eResult | null) {
  const line = '-'.repeat(100);
  log('');
  log(line);
  if (schema) {
    const [empty, fleet] = schema.targets;
    log(
      `Schema-ready time per tenant (ms), ${empty.cold.n} tenants per database, ` +
        'one on each database in turn',
    );
    log(line);
    log(
      `${''.padEnd(44)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'mean'.padStart(9)}${'max'.padStart(9)}`,
    );
    const row = (label: string, stats: SampleStats, digits = 1) =>
      log(
        `${label.padEnd(44)}${fmt(stats.p50, digits).padStart(9)}${fmt(stats.p95, digits).padStart(9)}` +
          `${fmt(stats.mean, digits).padStart(9)}${fmt(stats.max, digits).padStart(9)}`,
      );
    for (const target of schema.targets) {
      row(`cold @${target.label} tenants (worker's schema steps)`, target.cold);
    }
    if (schema.asyncCommitProbe) {
      row(`cold @0, synchronous_commit = off (probe)`, schema.asyncCommitProbe.cold);
    }
    for (const target of schema.targets) {
      row(`SQL floor @${target.label} (template, one tx)`, target.sqlFloor);
    }
    for (const target of schema.targets) {
      row(`warm @${target.label} tenants (claim transaction)`, target.warmClaim, 2);
    }
    for (const target of schema.targets) {
      row(`warm @${target.label} tenants (all of create())`, target.warmCreate, 2);
    }
    log('');
    const r = ratios(schema);
    const label = (text: string) => text.padEnd(30);
    log(`${label('warm / cold, p50, @0')}${fmt(r.warmOverColdAt0, 3)}`);
    log(`${label(`warm / cold, p50, @${fleet.label}`)}${fmt(r.warmOverColdAtFleet, 3)}`);
    log(
      `${label(`cold @${fleet.label} / cold @0`)}p50 ${fmt(r.coldFleetOver0P50, 2)}x, ` +
        `p95 ${fmt(r.coldFleetOver0P95, 2)}x, median of paired ratios ${fmt(r.coldFleetOver0Paired, 2)}x`,
    );
    log(
      `${label(`warm @${fleet.label} / warm @0`)}p50 ${fmt(r.warmFleetOver0P50, 2)}x, ` +
        `p95 ${fmt(r.warmFleetOver0P95, 2)}x, median of paired ratios ${fmt(r.warmFleetOver0Paired, 2)}x`,
    );
    log(
      `${label('cold / SQL floor, p50')}@0 ${fmt(ratio(empty.cold.p50, empty.sqlFloor.p50), 2)}x, ` +
        `@${fleet.label} ${fmt(ratio(fleet.cold.p50, fleet.sqlFloor.p50), 2)}x`,
    );
    if (schema.asyncCommitProbe) {
      log(
        `${label('cold, async commit / sync @0')}p50 ${fmt(ratio(schema.asyncCommitProbe.cold.p50, empty.cold.p50), 2)}x, ` +
          `median of paired ratios ${fmt(schema.asyncCommitProbe.pairedRatioToSync, 2)}x`,
      );
    }
    log('');
    const probeParts = schema.asyncCommitProbe?.coldPartsMean;
    log(
      `Where cold time goes (mean ms per tenant)${''.padEnd(23)}${'@0'.padStart(8)}` +
        `${`@${fleet.label}`.padStart(9)}${probeParts ? '  @0 async'.padStart(11) : ''}`,
    );
    const a = coldBreakdown(empty.coldPartsMean);
    const b = new Map(coldBreakdown(fleet.coldPartsMean));
    const c = probeParts ? new Map(coldBreakdown(probeParts)) : null;
    for (const [label, ms] of a) {
      log(
        `  ${label.padEnd(62)}${fmt(ms).padStart(8)}${fmt(b.get(label) ?? 0).padStart(9)}` +
          (c ? fmt(c.get(label) ?? 0).padStart(11) : ''),
      );
    }
    log(`  per round (the cold tenant and its SQL-floor schema; probe: the cold tenant only):`);
    const probeBlocks = schema.asyncCommitProbe?.blocksPerTenant;
    const counterRow = (text: string, key: 'read' | 'hit' | 'commits', digits: number) =>
      log(
        `  ${text.padEnd(62)}${fmt(empty.coldBlocksPerTenant[key], digits).padStart(8)}` +
          `${fmt(fleet.coldBlocksPerTenant[key], digits).padStart(9)}` +
          (probeBlocks ? fmt(probeBlocks[key], digits).padStart(11) : ''),
      );
    counterRow('  shared-buffer misses (pg_stat_database blks_read)', 'read', 1);
    counterRow('  shared-buffer hits (blks_hit)', 'hit', 0);
    counterRow('  transactions (xact_commit, read-only ones too)', 'commits', 1);
    for (const target of schema.targets) {
      const top = (target.coldBlocksPerTenant.topReads ?? [])
        .map(([name, read]) => `${name} ${fmt(read)}`)
        .join(', ');
      log(`    most misses @${target.label}: ${top || 'none'}`);
    }
    log(`  durable commit floor (one-row INSERT): p50 ${fmt(schema.commitFloorMs.p50, 2)} ms`);
    const cpu = schema.cpu.cold;
    log(
      `  CPU during the cold phase (${fmt(cpu.seconds, 0)} s): bench ${fmt(cpu.benchProcess)} s, ` +
        `postgres ${fmt(cpu.postgres)} s, other work on the machine ${fmt(cpu.other)} s; ` +
        `load average ${fmt(schema.loadAverage.coldStart, 2)} at start`,
    );
    log('');
  }
  if (e2e) {
    log(
      `End to end: ${e2e.tenants} tenants posted at once, ${e2e.workers.inProcess + e2e.workers.processes} worker(s) x ${e2e.workers.jobsEach} jobs, ` +
        (e2e.warmPool > 0
          ? `warm pool of ${e2e.warmPool} (${e2e.claimedFromPool} claimed a pooled schema; ` +
            'their schema steps ran before the POST and count in the step times)'
          : 'no warm pool (cold)'),
    );
    log(line);
    log(
      `${fmt(e2e.tenantsPerMinute, 0)} tenants/min (all active and mailed in ${fmt(e2e.wallSeconds)} s); ` +
        `time to active p50 ${fmt(e2e.timeToActiveMs.p50 / 1000, 2)} s, p95 ${fmt(e2e.timeToActiveMs.p95 / 1000, 2)} s; ` +
        `to welcome mail p50 ${fmt(e2e.timeToMailMs.p50 / 1000, 2)} s, p95 ${fmt(e2e.timeToMailMs.p95 / 1000, 2)} s`,
    );
    log(
      `queue wait (POST to first step) p50 ${fmt(e2e.queueWaitMs.p50 / 1000, 2)} s, p95 ${fmt(e2e.queueWaitMs.p95 / 1000, 2)} s; ` +
        `first tenant (orders the wildcard certificate) ${fmt(e2e.firstTenantSeconds)} s`,
    );
    log(
      `${'step (registry duration_ms)'.padEnd(30)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'mean'.padStart(8)}${'max'.padStart(8)}  retried`,
    );
    for (const step of e2e.steps) {
      const mark = step.step === e2e.slowestStep ? '  <- slowest' : '';
      log(
        `${step.step.padEnd(30)}${fmt(step.durationMs.p50, 0).padStart(8)}${fmt(step.durationMs.p95, 0).padStart(8)}` +
          `${fmt(step.durationMs.mean, 0).padStart(8)}${fmt(step.durationMs.max, 0).padStart(8)}  ${String(step.retried).padStart(7)}${mark}`,
      );
    }
    log(
      `CPU: this process (control plane, worker, data plane, s3rver, SMTP) ${fmt(e2e.cpuSeconds.benchProcess)} s, ` +
        `postgres ${fmt(e2e.cpuSeconds.postgres)} s, worker processes ${fmt(e2e.cpuSeconds.workerProcesses)} s, ` +
        `machine ${fmt(e2e.cpuSeconds.machine)} s; load average ${fmt(e2e.loadAverageAtStart, 2)} at start`,
    );
    log('');
  }
  const list = goals(schema);
  if (list.length > 0) {
    log('Goals');
    for (const goal of list) {
      log(`  ${goal.met ? 'met   ' : 'MISSED'}  ${goal.goal.padEnd(34)} ${goal.value}`);
    }
  }
  log(line);
}

async function main(): Promise<void> {
  const wallStarted = Date.now();
  const settings = loadOnboardingBenchSettings();
  const environment = {
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    loadAverageAtStart: loadavg(),
  };
  log(
    `bench:onboarding: ${settings.tenants} tenants per database, ` +
      `fleet ${settings.fleetTenants.toLocaleString('en')}, e2e ${settings.e2eTenants} tenants; ` +
      `machine ${environment.cpus}, load average ${environment.loadAverageAtStart.map((v) => v.toFixed(2)).join(' ')}`,
  );
  if ((environment.loadAverageAtStart[0] ?? 0) > 1.5) {
    log('  note: 1-minute load average > 1.5 (other work on the machine): expect noise');
  }

  let fleet: FleetReport | null = null;
  let schema: SchemaResult | null = null;
  if (settings.phases.includes('schema')) {
    log('== setup');
    fleet = await ensureOnboardingFleet(settings, log);
    log('== schema-ready time: cold (worker steps) then warm (claims), 0 vs fleet, alternating');
    schema = await schemaPhase(settings, fleet);
  }
  let e2e: E2eResult | null = null;
  if (settings.phases.includes('e2e')) {
    log(`== end to end: ${settings.e2eTenants} tenants through the whole saga`);
    e2e = await runOnboardingE2e(
      {
        tenants: settings.e2eTenants,
        extraWorkers: settings.e2eExtraWorkers,
        timeoutSeconds: settings.e2eTimeoutSeconds,
        attempts: settings.e2eAttempts,
        backoffMs: settings.e2eBackoffMs,
        warmPool: settings.e2eWarmPool,
      },
      log,
    );
  }

  printSummary(schema, e2e);
  const wallSeconds = (Date.now() - wallStarted) / 1000;
  log(`wall time ${wallSeconds.toFixed(0)} s; results in ${RESULTS_FILE}`);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        wallSeconds,
        settings: { ...settings, fleetDatabaseUrl: undefined, emptyDatabaseUrl: undefined },
        environment: { ...environment, loadAverageAtEnd: loadavg() },
        goals: goals(schema),
        fleet,
        schema: schema && { ...schema, ratios: ratios(schema) },
        e2e,
      },
      null,
      2,
    )}\n`,
  );
}

main()
  .then(() => {
    // Redis and pg handles of the in-process contexts may linger; the run is over.
    process.exit(0);
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
