/**
 * `npm run bench`: the data plane against the same NestJS endpoint without tenancy and against
 * a raw node:http + pg ceiling, in one run, on the same query (list 20 projects). Then the data
 * plane's memory after touching 10 and 10,000 tenants, and database round trips per request.
 * See bench/README.md for what each number means and how to read it on a 2-core machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadBenchSettings, serverEnv, type BenchSettings } from './lib/bench-settings';
import {
  killAllChildren,
  readPostgresCpuMs,
  startServerChild,
  type ServerChild,
} from './lib/child-server';
import type { GcPauses, PausesMessage } from './lib/child-ipc';
import { probeBackendCpu } from './lib/backend-cpu';
import { mapLimit, sleep } from './lib/concurrency';
import { HostClient } from './lib/http-client';
import { runLoad, type LoadOptions, type LoadResult } from './lib/load';
import { measureRoundTrips, REPLY_DELAY_MS, type RoundTripResult } from './lib/round-trips';
import { prepareFleet, type BenchTenant, type ProvisioningReport } from './lib/tenant-fleet';

const PROJECTS_PATH = '/api/projects';
const EXPECTED_ITEMS = 20;
const SETTLE_MS = 2_000;
const STATS_FLUSH_MS = 1_500;
const RSS_FEW_TENANTS = 10;
const RSS_REQUESTS_PER_PHASE = 10_000;
const RESULTS_FILE = join(__dirname, 'results', 'latest.json');

type ServerKey = 'baseline' | 'dataPlane' | 'ceiling';

interface ServerSpec {
  readonly key: ServerKey;
  readonly label: string;
  readonly entry: string;
  readonly env: NodeJS.ProcessEnv;
  /** The data plane resolves the tenant from Host; the others ignore it. */
  readonly tenantAware: boolean;
  /** Its connections' `application_name`: their backends' CPU is this server's database cost. */
  readonly applicationName: string;
}

interface ThroughputRun extends LoadResult {
  readonly server: ServerKey;
  readonly round: number;
  /** CPU the server process used per request during the measured window. */
  readonly serverCpuMsPerRequest: number;
  /** CPU all PostgreSQL processes used per request during the window. */
  readonly postgresCpuMsPerRequest: number;
  /**
   * CPU of this server's own backends (by application_name) per request: unlike the figure
   * above, not moved by other work on the same PostgreSQL (other test suites, autovacuum).
   */
  readonly ownBackendsCpuMsPerRequest: number;
  /**
   * Shared-buffer hits per request in the bench database (pg_stat_database): about 2 for the
   * query itself; more while backends still load catalog entries of schemas they meet first.
   */
  readonly bufferHitsPerRequest: number;
  /** CPU autocannon (the bench parent) used per request during the window. */
  readonly loadGeneratorCpuMsPerRequest: number;
  readonly serverRssMb: number;
  /** 1-minute load average when the run started: others' work on the 2 cores shows up here. */
  readonly loadAverageAtStart: number;
  /**
   * What kept the server's own event loop from answering during the window: how late it ran
   * (p99, max; sampled every 5 ms) and its garbage collections. A server whose p99 latency is
   * worse than its throughput explains shows it here, or not (the wait is elsewhere).
   */
  readonly pauses: Omit<PausesMessage, 'type'>;
}

interface MemoryPoint {
  readonly label: string;
  /** Distinct tenants touched so far. */
  readonly tenantsTouched: number;
  /** Requests sent to this child so far. */
  readonly requests: number;
  /** VmRSS after a 2 s settle, before any forced GC. */
  readonly rssMb: number;
  readonly rssAfterGcMb: number;
  readonly heapUsedAfterGcMb: number;
  readonly heapTotalAfterGcMb: number;
  /** Memory outside the V8 heap that V8 knows of (Buffers and the like). */
  readonly externalAfterGcMb: number;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => bytes / (1024 * 1024);

function serverSpecs(settings: BenchSettings, fixedSchema: string): ServerSpec[] {
  return [
    {
      key: 'baseline',
      label: '(1) NestJS baseline, no tenancy',
      entry: 'bench/baseline/baseline-server.ts',
      env: serverEnv(settings, { BENCH_SCHEMA: fixedSchema }),
      tenantAware: false,
      applicationName: 'bench-baseline',
    },
    {
      key: 'dataPlane',
      label: `(2) data plane, ${settings.loadTenants.toLocaleString('en')} tenants`,
      entry: 'bench/servers/data-plane-server.ts',
      env: serverEnv(settings),
      tenantAware: true,
      applicationName: 'data-plane',
    },
    {
      key: 'ceiling',
      label: '(3) ceiling: node:http + pg',
      entry: 'bench/raw-pg-server.ts',
      env: serverEnv(settings, { BENCH_SCHEMA: fixedSchema }),
      tenantAware: false,
      applicationName: 'bench-raw-pg',
    },
  ];
}

/** One correct answer before any load, and for the data plane a refused foreign token. */
async function sanityCheck(child: ServerChild, spec: ServerSpec, tenants: readonly BenchTenant[]) {
  const client = new HostClient(child.url, 1);
  try {
    const [first, second] = [tenants[0], tenants[1] ?? tenants[0]];
    const ok = await client.get(PROJECTS_PATH, first.host, first.token);
    const items = ok.status === 200 ? (JSON.parse(ok.body) as { items: unknown[] }).items : [];
    if (ok.status !== 200 || items.length !== EXPECTED_ITEMS) {
      throw new Error(
        `${spec.key}: expected 200 with ${EXPECTED_ITEMS} items, got ${ok.status} ${ok.body.slice(0, 200)}`,
      );
    }
    if (spec.tenantAware && second !== first) {
      const foreign = await client.get(PROJECTS_PATH, second.host, first.token);
      if (foreign.status !== 401) {
        throw new Error(
          `data plane accepted ${first.slug}'s token on ${second.slug}: ${foreign.status}`,
        );
      }
    }
  } finally {
    client.close();
  }
}

/** Shared-buffer hits so far in the bench database (every backend, every statement). */
async function readBufferHits(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'bench-probe' });
  await client.connect();
  try {
    const { rows } = await client.query<{ hits: string }>(
      'SELECT blks_hit::text AS hits FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]?.hits ?? 0);
  } finally {
    await client.end();
  }
}

function randomPicker(tenants: readonly BenchTenant[]) {
  return () => tenants[Math.floor(Math.random() * tenants.length)];
}

interface RunningServer {
  readonly spec: ServerSpec;
  readonly child: ServerChild;
  readonly load: Omit<LoadOptions, 'durationSeconds'>;
}

/** Warm-up steps at most, whatever the count of requests answered (a very slow server). */
const MAX_WARMUP_STEPS = 6;

/** Starts one server, checks it answers correctly, and warms it up (JIT, pools, caches). */
async function startThroughputServer(
  spec: ServerSpec,
  settings: BenchSettings,
  loadTenants: readonly BenchTenant[],
): Promise<RunningServer> {
  const child = await startServerChild({ name: spec.key, entry: spec.entry, env: spec.env });
  try {
    await sanityCheck(child, spec, loadTenants);
    const load = {
      url: child.url,
      path: PROJECTS_PATH,
      connections: settings.connections,
      pick: randomPicker(loadTenants),
    };
    // Until every pooled connection of the data plane has met the tenants of its lane: the
    // first request of a tenant on a backend costs that backend 0.5-2 ms of catalog loading.
    let answered = 0;
    for (let step = 0; settings.warmupSeconds > 0 && step < MAX_WARMUP_STEPS; step += 1) {
      answered += (await runLoad({ ...load, durationSeconds: settings.warmupSeconds })).requests;
      if (answered >= settings.warmupRequests) break;
    }
    return { spec, child, load };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** One measured window of load on a running server, with its CPU and database costs. */
async function measureWindow(
  server: RunningServer,
  round: number,
  settings: BenchSettings,
): Promise<ThroughputRun> {
  const { spec, child, load } = server;
  if (settings.leadInSeconds > 0)
    await runLoad({ ...load, durationSeconds: settings.leadInSeconds });
  const loadAverageAtStart = loadavg()[0] ?? 0;
  const ownBackends = await probeBackendCpu(settings.databaseUrl, [spec.applicationName]);
  const hitsBefore = await readBufferHits(settings.databaseUrl);
  const cpuBefore = child.cpuMs();
  const postgresCpuBefore = readPostgresCpuMs();
  child.startPauses();
  const result = await runLoad({ ...load, durationSeconds: settings.durationSeconds });
  const serverCpuMs = child.cpuMs() - cpuBefore;
  const { loopDelayMs, minorGc, majorGc } = await child.pauses();
  const pauses = { loopDelayMs, minorGc, majorGc };
  const postgresCpuMs = readPostgresCpuMs() - postgresCpuBefore;
  const ownBackendsCpuMs = await ownBackends.read();
  await ownBackends.close();
  // Backends report their statistics at most once a second, when idle: let them.
  await sleep(STATS_FLUSH_MS);
  const bufferHits = (await readBufferHits(settings.databaseUrl)) - hitsBefore;
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(
      `${spec.key}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts under load`,
    );
  }
  const perRequest = (value: number) => value / Math.max(result.requests, 1);
  const run: ThroughputRun = {
    ...result,
    server: spec.key,
    round,
    serverCpuMsPerRequest: perRequest(serverCpuMs),
    postgresCpuMsPerRequest: perRequest(postgresCpuMs),
    ownBackendsCpuMsPerRequest: perRequest(ownBackendsCpuMs),
    bufferHitsPerRequest: perRequest(bufferHits),
    loadGeneratorCpuMsPerRequest: perRequest(result.loadGeneratorCpuMs),
    serverRssMb: mb(child.rssBytes()),
    loadAverageAtStart,
    pauses,
  };
  log(
    `  round ${round} ${spec.label.padEnd(36)} ${run.requestsPerSecond.toFixed(0).padStart(6)} req/s` +
      `  p99 ${run.latencyMs.p99.toFixed(1).padStart(5)} ms  CPU ms/req: server ${run.serverCpuMsPerRequest.toFixed(3)}` +
      ` postgres ${run.postgresCpuMsPerRequest.toFixed(3)} (own backends ${run.ownBackendsCpuMsPerRequest.toFixed(3)})` +
      ` load generator ${run.loadGeneratorCpuMsPerRequest.toFixed(3)}; buffer hits/req ${run.bufferHitsPerRequest.toFixed(1)}` +
      `; loop delay p99 ${pauses.loopDelayMs.p99.toFixed(1)} max ${pauses.loopDelayMs.max.toFixed(0)} ms` +
      `; GC ${gcLine(pauses.minorGc)} minor, ${gcLine(pauses.majorGc)} major` +
      `; load avg ${loadAverageAtStart.toFixed(1)}`,
  );
  return run;
}

/**
 * All three servers run side by side (each in its own process, idle while another is measured),
 * are warmed up once, and are then measured in short windows taken in turn — (1) (2) (3), then
 * (3) (2) (1), and so on — so every round compares them within the same minute of machine load,
 * and a drift of that load over the run affects all three alike.
 */
async function throughputPhase(
  specs: readonly ServerSpec[],
  settings: BenchSettings,
  loadTenants: readonly BenchTenant[],
): Promise<ThroughputRun[]> {
  const servers: RunningServer[] = [];
  try {
    for (const spec of specs) {
      servers.push(await startThroughputServer(spec, settings, loadTenants));
    }
    const runs: ThroughputRun[] = [];
    for (let round = 1; round <= settings.rounds; round += 1) {
      const order = round % 2 === 1 ? servers : [...servers].reverse();
      for (const server of order) runs.push(await measureWindow(server, round, settings));
    }
    return runs;
  } finally {
    for (const server of servers) await server.child.stop();
  }
}

/**
 * Sends `targets` with `concurrency` lanes; each answer must be 200, and from a tenant-aware
 * server it must hold that tenant's rows (project names carry the slug).
 */
async function touchTenants(
  client: HostClient,
  targets: readonly BenchTenant[],
  concurrency: number,
  tenantAware: boolean,
): Promise<void> {
  await mapLimit(targets, concurrency, async (tenant) => {
    const response = await client.get(PROJECTS_PATH, tenant.host, tenant.token);
    const ownRows = !tenantAware || response.body.includes(` of ${tenant.slug}"`);
    if (response.status !== 200 || !ownRows) {
      throw new Error(`${tenant.slug}: ${response.status} ${response.body.slice(0, 200)}`);
    }
  });
}

async function memoryPhase(
  settings: BenchSettings,
  spec: ServerSpec,
  tenants: readonly BenchTenant[],
): Promise<MemoryPoint[]> {
  const child = await startServerChild({
    name: 'data-plane-rss',
    entry: spec.entry,
    // 10,000 requests to 10 tenants in seconds is far past their plan's rate limits (which
    // would answer 429), and this phase measures memory per tenant, not limiting.
    env: { ...spec.env, RATE_LIMITS_ENABLED: 'false' },
    nodeArgs: ['--expose-gc'],
  });
  const client = new HostClient(child.url, settings.connections);
  const points: MemoryPoint[] = [];
  const touched = new Set<string>();
  let requests = 0;
  const send = async (targets: readonly BenchTenant[]) => {
    await touchTenants(client, targets, settings.connections, true);
    for (const tenant of targets) touched.add(tenant.id);
    requests += targets.length;
  };
  const measure = async (label: string) => {
    await sleep(SETTLE_MS);
    const rssMb = mb(child.rssBytes());
    const { usage } = await child.memoryAfterGc();
    const point: MemoryPoint = {
      label,
      tenantsTouched: touched.size,
      requests,
      rssMb,
      rssAfterGcMb: mb(usage.rss),
      heapUsedAfterGcMb: mb(usage.heapUsed),
      heapTotalAfterGcMb: mb(usage.heapTotal),
      externalAfterGcMb: mb(usage.external),
    };
    points.push(point);
    log(
      `  ${label.padEnd(46)} ${String(requests).padStart(6)} req  RSS ${rssMb.toFixed(1)} MB` +
        `  (after GC: heap used ${point.heapUsedAfterGcMb.toFixed(1)} MB, heap total ` +
        `${point.heapTotalAfterGcMb.toFixed(1)} MB, external ${point.externalAfterGcMb.toFixed(1)} MB)`,
    );
  };
  try {
    await measure('fresh, no request yet');
    const few = tenants.slice(0, RSS_FEW_TENANTS);
    // As many requests as one pass over all tenants, so warm-up (JIT, pools, buffers) is
    // comparable; then the same again (control), so drift from requests alone is visible.
    const fewTargets = Array.from(
      { length: Math.max(RSS_REQUESTS_PER_PHASE, tenants.length) },
      (_, i) => few[i % few.length],
    );
    await send(fewTargets);
    await measure(`after touching ${few.length} tenants`);
    await send(fewTargets);
    await measure(`control: same ${few.length} tenants again`);
    await send(tenants);
    await measure(`after touching all ${tenants.length.toLocaleString('en')} tenants`);
    await send(tenants);
    await measure(`second pass over all ${tenants.length.toLocaleString('en')}`);
    return points;
  } finally {
    client.close();
    await child.stop();
  }
}

async function roundTripPhase(
  settings: BenchSettings,
  specs: readonly ServerSpec[],
  tenants: readonly BenchTenant[],
): Promise<RoundTripResult[]> {
  const results: RoundTripResult[] = [];
  for (const spec of specs) {
    const result = await measureRoundTrips(
      settings.databaseUrl,
      spec,
      tenants.slice(0, RSS_FEW_TENANTS),
      settings.roundTripRequests,
    );
    results.push(result);
    const per = result.perRequest;
    log(
      `  ${spec.label.padEnd(36)} ${result.flightsPerRequest.toFixed(2)} round trips/req on the wire, ` +
        `${result.roundTripsFromLatency.toFixed(2)} from latency ` +
        `(p50 ${result.latencyMs.directP50.toFixed(2)} -> ${result.latencyMs.delayedP50.toFixed(2)} ms); ` +
        `${per.commandCompletes.toFixed(2)} statements/req; messages/req: ${per.simpleQueries.toFixed(2)} Q ` +
        `(${per.simpleQueryStatements.toFixed(2)} statements), ${per.parses.toFixed(2)} Parse, ` +
        `${per.executes.toFixed(2)} Execute, ${per.syncs.toFixed(2)} Sync`,
    );
  }
  return results;
}

/** `count x, total ms (longest ms)` of one kind of collection in a window. */
function gcLine(gc: GcPauses): string {
  return `${gc.count}x ${gc.totalMs.toFixed(0)} ms (longest ${gc.longestMs.toFixed(1)})`;
}

/** Per server, the median of each figure over its windows (the runs themselves are in the JSON). */
function typicalRun(runs: readonly ThroughputRun[], key: ServerKey) {
  const own = runs.filter((run) => run.server === key);
  const of = (pick: (run: ThroughputRun) => number) => median(own.map(pick));
  return {
    requestsPerSecond: of((run) => run.requestsPerSecond),
    p50Ms: of((run) => run.latencyMs.p50),
    p99Ms: of((run) => run.latencyMs.p99),
    serverCpuMsPerRequest: of((run) => run.serverCpuMsPerRequest),
    postgresCpuMsPerRequest: of((run) => run.postgresCpuMsPerRequest),
    ownBackendsCpuMsPerRequest: of((run) => run.ownBackendsCpuMsPerRequest),
    loadGeneratorCpuMsPerRequest: of((run) => run.loadGeneratorCpuMsPerRequest),
    bufferHitsPerRequest: of((run) => run.bufferHitsPerRequest),
    serverRssMb: Math.max(...own.map((run) => run.serverRssMb)),
    loopDelayP99Ms: of((run) => run.pauses.loopDelayMs.p99),
    loopDelayMaxMs: of((run) => run.pauses.loopDelayMs.max),
    /** GC pause time per second of window, both kinds. */
    gcMsPerSecond: of(
      (run) => (run.pauses.minorGc.totalMs + run.pauses.majorGc.totalMs) / run.seconds,
    ),
    longestGcMs: of((run) => Math.max(run.pauses.minorGc.longestMs, run.pauses.majorGc.longestMs)),
  };
}

function summariseThroughput(runs: readonly ThroughputRun[], rounds: number) {
  const perRound = Array.from({ length: rounds }, (_, i) => {
    const of = (key: ServerKey) => runs.find((run) => run.round === i + 1 && run.server === key)!;
    const [base, plane, raw] = [of('baseline'), of('dataPlane'), of('ceiling')];
    return {
      round: i + 1,
      dataPlaneOverBaseline: plane.requestsPerSecond / base.requestsPerSecond,
      p99OverBaseline: plane.latencyMs.p99 / base.latencyMs.p99,
      dataPlaneOverCeiling: plane.requestsPerSecond / raw.requestsPerSecond,
      baselineOverCeiling: base.requestsPerSecond / raw.requestsPerSecond,
      cpuCostBaselineOverDataPlane: cpuCost(base) / cpuCost(plane),
    };
  });
  type Round = (typeof perRound)[number];
  const spread = (pick: (round: Round) => number) => {
    const values = perRound.map(pick);
    return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  };
  return {
    selection: 'per server the median of its windows; ratios taken within each round',
    typical: {
      baseline: typicalRun(runs, 'baseline'),
      dataPlane: typicalRun(runs, 'dataPlane'),
      ceiling: typicalRun(runs, 'ceiling'),
    },
    perRound,
    ratios: {
      dataPlaneOverBaseline: spread((r) => r.dataPlaneOverBaseline),
      p99OverBaseline: spread((r) => r.p99OverBaseline),
      dataPlaneOverCeiling: spread((r) => r.dataPlaneOverCeiling),
      baselineOverCeiling: spread((r) => r.baselineOverCeiling),
      cpuCostBaselineOverDataPlane: spread((r) => r.cpuCostBaselineOverDataPlane),
    },
  };
}

/**
 * CPU per request on the shared cores: the server, its own PostgreSQL backends and the load
 * generator. Its ratio between two servers estimates their throughput ratio on two saturated
 * cores, whatever else ran on the machine meanwhile (other work shows in req/s, not here).
 */
function cpuCost(run: ThroughputRun): number {
  return (
    run.serverCpuMsPerRequest + run.ownBackendsCpuMsPerRequest + run.loadGeneratorCpuMsPerRequest
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function environmentFacts(settings: BenchSettings) {
  const client = new Client({ connectionString: settings.databaseUrl });
  await client.connect();
  try {
    const version = await client.query<{ server_version: string }>('SHOW server_version');
    const schemas = await client.query<{ count: string }>(
      `SELECT count(*) FROM pg_namespace WHERE nspname ~ '^t_[0-9a-f]{32}$'`,
    );
    return {
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
      memoryGb: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      postgres: version.rows[0]?.server_version ?? 'unknown',
      tenantSchemas: Number(schemas.rows[0]?.count ?? 0),
      loadAverageAtStart: loadavg(),
    };
  } finally {
    await client.end();
  }
}

/**
 * The headline growth is "after touching 10" -> "after touching all". The control pass (as many
 * requests again to the same 10) shows how RSS drifts from requests alone, without new tenants.
 */
function summariseMemory(memory: readonly MemoryPoint[]) {
  const [, few, control, many] = memory;
  if (!few || !control || !many) return null;
  return {
    few,
    control,
    many,
    rssGrowthMb: many.rssMb - few.rssMb,
    controlDriftMb: control.rssMb - few.rssMb,
    rssGrowthOverControlMb: many.rssMb - control.rssMb,
    heapGrowthAfterGcMb: many.heapUsedAfterGcMb - few.heapUsedAfterGcMb,
  };
}

function printSummary(
  specs: readonly ServerSpec[],
  throughput: ReturnType<typeof summariseThroughput> | null,
  memory: readonly MemoryPoint[],
  roundTrips: readonly RoundTripResult[],
) {
  const line = '-'.repeat(100);
  log('');
  log(line);
  if (throughput) {
    log('Throughput, GET /api/projects (20 rows); per server the median of its windows');
    log(line);
    log(`${''.padEnd(38)}${''.padStart(27)}${'------ CPU ms per request ------'.padStart(40)}`);
    log(
      `${'server'.padEnd(38)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
        `${'server'.padStart(10)}${'postgres'.padStart(10)}${'own PG'.padStart(10)}` +
        `${'loadgen'.padStart(10)}${'RSS MB'.padStart(9)}`,
    );
    for (const spec of specs) {
      const run = throughput.typical[spec.key];
      log(
        `${spec.label.padEnd(38)}${run.requestsPerSecond.toFixed(0).padStart(9)}` +
          `${run.p50Ms.toFixed(1).padStart(9)}${run.p99Ms.toFixed(1).padStart(9)}` +
          `${run.serverCpuMsPerRequest.toFixed(3).padStart(10)}` +
          `${run.postgresCpuMsPerRequest.toFixed(3).padStart(10)}` +
          `${run.ownBackendsCpuMsPerRequest.toFixed(3).padStart(10)}` +
          `${run.loadGeneratorCpuMsPerRequest.toFixed(3).padStart(10)}` +
          `${run.serverRssMb.toFixed(1).padStart(9)}`,
      );
    }
    log('');
    log('pauses of the server itself (medians of its windows)');
    for (const spec of specs) {
      const run = throughput.typical[spec.key];
      log(
        `  ${spec.label.padEnd(38)} event loop late: p99 ${run.loopDelayP99Ms.toFixed(1)} ms, ` +
          `max ${run.loopDelayMaxMs.toFixed(0)} ms; GC ${run.gcMsPerSecond.toFixed(0)} ms/s, ` +
          `longest ${run.longestGcMs.toFixed(1)} ms`,
      );
    }
    log('');
    const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
    const times = (value: number) => `${value.toFixed(2)}x`;
    log('ratios within each round (the same minute of machine load): median [min - max]');
    const ratioLines: [string, { median: number; min: number; max: number }, typeof pct][] = [
      ['(2)/(1) req/s, data plane / NestJS baseline', throughput.ratios.dataPlaneOverBaseline, pct],
      ['(2)/(1) p99 latency', throughput.ratios.p99OverBaseline, times],
      ['(2)/(3) req/s, data plane / raw ceiling', throughput.ratios.dataPlaneOverCeiling, pct],
      ['(1)/(3) req/s, NestJS baseline / raw ceiling', throughput.ratios.baselineOverCeiling, pct],
      [
        '(1)/(2) CPU per request (server + own PG + loadgen)',
        throughput.ratios.cpuCostBaselineOverDataPlane,
        pct,
      ],
    ];
    for (const [name, value, format] of ratioLines) {
      log(
        `  ${name.padEnd(52)} ${format(value.median).padStart(8)}  [${format(value.min)} - ${format(value.max)}]`,
      );
    }
    log(
      `  (2)/(1) req/s by round: ${throughput.perRound.map((r) => pct(r.dataPlaneOverBaseline)).join(', ')}`,
    );
    log('');
  }
  const memorySummary = summariseMemory(memory);
  if (memorySummary) {
    const { few, control, many } = memorySummary;
    log(
      `Data plane RSS: ${few.rssMb.toFixed(1)} MB after ${few.tenantsTouched} tenants, ` +
        `${control.rssMb.toFixed(1)} MB after as many requests again to those ${control.tenantsTouched} (control), ` +
        `${many.rssMb.toFixed(1)} MB after touching all ${many.tenantsTouched.toLocaleString('en')}`,
    );
    log(
      `  growth 10 -> ${many.tenantsTouched.toLocaleString('en')} tenants: RSS ` +
        `${memorySummary.rssGrowthMb.toFixed(1)} MB, of which the control pass (no new tenant) ` +
        `${memorySummary.controlDriftMb.toFixed(1)} MB and the new tenants ` +
        `${memorySummary.rssGrowthOverControlMb.toFixed(1)} MB; heap used after GC ` +
        `${few.heapUsedAfterGcMb.toFixed(1)} -> ${many.heapUsedAfterGcMb.toFixed(1)} MB ` +
        `(${memorySummary.heapGrowthAfterGcMb >= 0 ? '+' : ''}${memorySummary.heapGrowthAfterGcMb.toFixed(1)} MB)`,
    );
  }
  for (const trip of roundTrips) {
    log(
      `DB round trips per request, ${trip.server.padEnd(10)} ${trip.flightsPerRequest.toFixed(2)} on the wire, ` +
        `${trip.roundTripsFromLatency.toFixed(2)} from +${REPLY_DELAY_MS} ms reply delay; ` +
        `statements run: ${trip.perRequest.commandCompletes.toFixed(2)}`,
    );
  }
  log(line);
}

async function main(): Promise<void> {
  const wallStarted = Date.now();
  const settings = loadBenchSettings();
  log(
    `bench: ${settings.tenants} tenants, load over ${settings.loadTenants}, ${settings.connections} connections, ` +
      `warm-up ${settings.warmupSeconds} s steps until ${settings.warmupRequests} requests + ${settings.durationSeconds} s per run after ${settings.leadInSeconds} s of lead-in, ${settings.rounds} round(s)`,
  );
  log('== setup');
  const fleet = await prepareFleet(settings, log);
  const provisioning: ProvisioningReport = fleet.report;
  const tenants = fleet.tenants;
  const loadTenants = tenants.slice(0, settings.loadTenants);
  const specs = serverSpecs(settings, tenants[0].schemaName);
  const facts = await environmentFacts(settings);
  log(
    `machine: ${facts.cpus}, ${facts.memoryGb} GB, node ${facts.node}, PostgreSQL ${facts.postgres}; ` +
      `load average ${facts.loadAverageAtStart.map((value) => value.toFixed(2)).join(' ')}`,
  );
  if ((facts.loadAverageAtStart[0] ?? 0) > 1.5) {
    log('  note: 1-minute load average > 1.5 (other work, or a run that just ended): expect noise');
  }
  if (settings.setupOnly) {
    log(
      `setup only (BENCH_SETUP_ONLY=1): ${facts.tenantSchemas} tenant schemas in the bench database`,
    );
    return;
  }

  const runs: ThroughputRun[] = [];
  let throughput: ReturnType<typeof summariseThroughput> | null = null;
  if (settings.phases.includes('throughput')) {
    log(
      `== throughput: (1), (2), (3) side by side, each warmed until it answered ` +
        `${settings.warmupRequests} requests (${settings.warmupSeconds} s steps), then ` +
        `${settings.rounds} rounds of ${settings.durationSeconds} s windows in turn, each after ` +
        `${settings.leadInSeconds} s of unmeasured load on the same server`,
    );
    runs.push(...(await throughputPhase(specs, settings, loadTenants)));
    throughput = summariseThroughput(runs, settings.rounds);
  }

  let memory: MemoryPoint[] = [];
  if (settings.phases.includes('memory')) {
    log(
      `== memory: a fresh data plane, 10 tenants then all ${tenants.length.toLocaleString('en')}`,
    );
    memory = await memoryPhase(settings, specs[1], tenants);
  }

  let roundTrips: RoundTripResult[] = [];
  if (settings.phases.includes('roundtrips')) {
    log('== database round trips per request (one request at a time, through a counting proxy)');
    roundTrips = await roundTripPhase(settings, specs, tenants);
  }

  printSummary(specs, throughput, memory, roundTrips);
  const wallSeconds = (Date.now() - wallStarted) / 1000;
  log(`wall time ${wallSeconds.toFixed(0)} s; results in ${RESULTS_FILE}`);

  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        wallSeconds,
        settings: { ...settings, databaseUrl: undefined },
        environment: facts,
        provisioning,
        throughput: throughput && { ...throughput, runs },
        memory: { points: memory, summary: summariseMemory(memory) },
        roundTrips,
      },
      null,
      2,
    )}\n`,
  );
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
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
