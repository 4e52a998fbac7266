/**
 * Schema-ready time of one tenant, measured on the platform's own code in this process, per
 * database (`OnboardingTarget`):
 *
 * - **cold**: `TenantProvisioner.warm(id)` for a `warming` row, in a Nest application context
 *   of `WorkerModule`: the three schema steps (create-schema, apply-template, seed-lookups)
 *   exactly as a worker runs them, with the registry records around each step (the done steps
 *   read once, started and succeeded). A cold POST /v1/tenants runs the same three steps the
 *   same way, first in its job; this is also how the worker fills the warm pool.
 * - **warm**: `TenantRegistry.create()` in a Nest application context of the control plane's
 *   module, as POST /v1/tenants calls it (minus HTTP), with pooled schemas waiting. The schema
 *   is usable when the claim transaction commits; `create()` then also enqueues the job and
 *   reads the tenant back.
 *
 * To say where the time goes, the bench wraps (does not change) a few calls: each schema step's
 * `run`, the step records' reads and `succeeded` writes, the migrator's `migrate`, each template
 * migration's `up`, each seed's `run`, and the registry DataSource's `transaction` in the API
 * context.
 */
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import {
  CONTROL_PLANE_CONFIG,
  loadControlPlaneConfig,
  type ControlPlaneConfig,
} from '@platform/config';
import {
  ClusterConnections,
  migratePlatformSchema,
  TenantSchemaMigrator,
} from '@platform/database';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import { quoteTenantSchema } from '@platform/tenancy';
import {
  COUNTRIES,
  CURRENCIES,
  TENANT_TEMPLATE_MIGRATIONS,
  TENANT_TEMPLATE_SEEDS,
} from '@platform/tenant-template';
import { ControlPlaneModule } from '../../apps/control-plane/src/app.module';
import { ProvisioningPipeline } from '../../apps/control-plane/src/provisioning/provisioning.pipeline';
import { ProvisioningStepRepository } from '../../apps/control-plane/src/provisioning/provisioning-step.repository';
import { TenantProvisioner } from '../../apps/control-plane/src/provisioning/tenant-provisioner.service';
import { WarmPoolRepository } from '../../apps/control-plane/src/provisioning/warm-pool.repository';
import { CreateTenantDto } from '../../apps/control-plane/src/tenants/dto/create-tenant.dto';
import { TenantRoleReserveRepository } from '../../apps/control-plane/src/tenant-access/tenant-role-reserve.repository';
import { TenantRoleUpkeep } from '../../apps/control-plane/src/tenant-access/tenant-role-upkeep.service';
import { TenantRegistry } from '../../apps/control-plane/src/tenants/tenant-registry.service';
import { WorkerModule } from '../../apps/control-plane/src/worker.module';
import {
  BENCH_ADMIN_TOKEN,
  BENCH_SIGNING_KEY_ENCRYPTION_KEY,
  BENCH_PLATFORM_DOMAIN,
} from './bench-settings';
import { ONBOARDING_REDIS_PREFIX } from './onboarding-settings';

/** Parts of one cold sample, in ms: `step:<name>`, `migrate`, `migration:<name>`, `seeds`. */
export type ColdParts = Record<string, number>;

export interface ColdSample {
  /** TenantProvisioner.warm(id): the schema steps and their registry records. */
  readonly ms: number;
  readonly parts: ColdParts;
}

export interface WarmSample {
  /** The claim transaction of TenantRegistry.create(): the schema is usable at its commit. */
  readonly claimMs: number;
  /** All of TenantRegistry.create(): the claim, the enqueue, the tenant read back. */
  readonly createMs: number;
}

/** The cold sample being recorded; the wrappers add their time to it. */
let recording: ColdParts | null = null;

function addPart(key: string, ms: number): void {
  if (recording) recording[key] = (recording[key] ?? 0) + ms;
}

async function timed<T>(key: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    addPart(key, performance.now() - started);
  }
}

let templateWrapped = false;

/** The template's migrations and seeds are module singletons: wrapped once per process. */
function wrapTemplate(): void {
  if (templateWrapped) return;
  templateWrapped = true;
  for (const migration of TENANT_TEMPLATE_MIGRATIONS) {
    const up = migration.up.bind(migration);
    migration.up = (runner) => timed(`migration:${migration.name}`, () => up(runner));
  }
  for (const seed of TENANT_TEMPLATE_SEEDS) {
    const run = seed.run.bind(seed);
    seed.run = (query) => timed('seeds', () => run(query));
  }
}

export interface TargetOptions {
  /** Short name for logs and Redis prefixes, e.g. `0` or `10k`. */
  readonly label: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Tenant roles the worker makes ahead, all before the run (0: each tenant makes its own). */
  readonly roleReserve: number;
}

interface ClaimedTenant {
  readonly id: string;
  readonly schemaName: string;
}

/** One database with a worker context and an API context on it. */
export class OnboardingTarget {
  private readonly prepared = new Set<string>();
  private readonly claimed: ClaimedTenant[] = [];
  private lastClaimMs: number | null = null;
  /** Catalog and registry relations whose block reads the bench follows. */
  private watched: { oid: number; name: string }[] | null = null;

  private constructor(
    readonly label: string,
    private readonly worker: INestApplicationContext,
    private readonly api: INestApplicationContext,
    readonly pool: Pool,
    private readonly cluster: string,
  ) {}

  static async open(options: TargetOptions): Promise<OnboardingTarget> {
    wrapTemplate();
    const env = (role: string): Record<string, string> => ({
      NODE_ENV: 'production',
      // Not 'warn': nestjs-pino keeps one root logger per process, so the e2e platform started
      // later in this process would print its retried steps at this level too.
      LOG_LEVEL: 'error',
      DATABASE_URL: options.databaseUrl,
      // Everything here runs one tenant at a time; small pools keep the shared server's
      // connection slots for the other work on the machine.
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: options.redisUrl,
      // Its own prefix per context: jobs the API context enqueues reach no worker.
      REDIS_PREFIX: `${ONBOARDING_REDIS_PREFIX}-${options.label}-${role}`,
      PLATFORM_DOMAIN: BENCH_PLATFORM_DOMAIN,
      PLATFORM_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      SIGNING_KEY_ENCRYPTION_KEY: BENCH_SIGNING_KEY_ENCRYPTION_KEY,
      WORKER_PORT: '0',
      // The bench fills the pool itself, one timed schema at a time (no background refill).
      WARM_POOL_SIZE: '0',
      // One upkeep round at start, none during the run (fillRoleReserve waits for it).
      TENANT_ROLE_RESERVE_SIZE: String(options.roleReserve),
      TENANT_ROLE_UPKEEP_INTERVAL_MS: '3600000',
    });
    // As createWorker() does: a registry built by an older checkout gets the newer migrations.
    await migratePlatformSchema(options.databaseUrl, PLATFORM_MIGRATIONS);
    const workerConfig = loadControlPlaneConfig(env('worker'));
    const worker = await NestFactory.createApplicationContext(WorkerModule.forRoot(workerConfig), {
      logger: ['error', 'warn'],
    });
    await worker.init();
    if (options.roleReserve > 0) await fillRoleReserve(worker, options.roleReserve);
    const api = await NestFactory.createApplicationContext(
      ControlPlaneModule.forRoot(loadControlPlaneConfig(env('api'))),
      { logger: ['error', 'warn'] },
    );
    await api.init();
    const pool = new Pool({
      connectionString: options.databaseUrl,
      max: 2,
      application_name: 'bench-onboarding-check',
    });
    const target = new OnboardingTarget(
      options.label,
      worker,
      api,
      pool,
      workerConfig.defaultTenantCluster,
    );
    target.instrument();
    // Looked up now, long before any measurement: this lookup scans pg_class.
    await target.relationReads();
    return target;
  }

  private instrument(): void {
    for (const step of this.worker.get(ProvisioningPipeline).schemaSteps) {
      const run = step.run.bind(step);
      step.run = (tenant) => timed(`step:${step.name}`, () => run(tenant));
    }
    const records = this.worker.get(ProvisioningStepRepository);
    // Not `started`: it runs beside its step, so its time is not the runner's.
    for (const method of ['doneSteps', 'succeeded'] as const) {
      const call = records[method].bind(records) as (...args: unknown[]) => Promise<unknown>;
      (records as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
        timed('records', () => call(...args));
    }
    const migrator = this.worker.get(TenantSchemaMigrator);
    const migrate = migrator.migrate.bind(migrator);
    migrator.migrate = (tenant, version) => timed('migrate', () => migrate(tenant, version));

    // TenantRegistry.create() runs one registry transaction: the claim (and inserts).
    const registry = this.api.get(DataSource);
    type Work = (manager: EntityManager) => Promise<unknown>;
    const transaction = registry.transaction.bind(registry) as (work: Work) => Promise<unknown>;
    const timedTransaction = async (work: Work): Promise<unknown> => {
      if (typeof work !== 'function') throw new Error('bench: unexpected transaction() overload');
      const started = performance.now();
      try {
        return await transaction(work);
      } finally {
        this.lastClaimMs = performance.now() - started;
      }
    };
    (registry as unknown as { transaction: typeof timedTransaction }).transaction =
      timedTransaction;
  }

  /** Untimed: a round trip on each pool the next samples use, so none pays for a reconnect. */
  async touch(): Promise<void> {
    await this.worker.get(DataSource).query('SELECT 1');
    await this.worker.get(ClusterConnections).dataSource(this.cluster).query('SELECT 1');
    await this.api.get(DataSource).query('SELECT 1');
  }

  /** Untimed: adds `count` warming rows to the pool (what a refill does first); their ids. */
  async addWarming(count: number): Promise<string[]> {
    const pools = this.worker.get(WarmPoolRepository);
    const before = await pools.counts();
    const added = await pools.topUp(this.cluster, before.warming + before.pooled + count);
    const ids = await pools.warming(this.cluster);
    if (added !== count || ids.length !== count) {
      throw new Error(`${this.label}: expected ${count} warming rows, found ${ids.length}`);
    }
    return ids;
  }

  /** Cold: prepares one warming schema as the worker does, timed. */
  async coldOne(id: string): Promise<ColdSample> {
    const provisioner = this.worker.get(TenantProvisioner);
    recording = {};
    try {
      const started = performance.now();
      await provisioner.warm(id);
      const sample = { ms: performance.now() - started, parts: recording };
      this.prepared.add(id);
      return sample;
    } finally {
      recording = null;
    }
  }

  /** Every schema prepared so far is `pooled` now (and so claimable). */
  async checkPooled(): Promise<void> {
    const ids = [...this.prepared];
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM platform.tenants
        WHERE id = ANY($1::uuid[]) AND status IN ('pooled', 'provisioning')`,
      [ids],
    );
    if (rows[0]?.n !== ids.length) {
      throw new Error(`${this.label}: ${rows[0]?.n ?? 0} of ${ids.length} schemas became pooled`);
    }
  }

  /** Warm: creates one tenant as POST /v1/tenants does; it must claim a pooled schema. */
  async claimOne(slug: string): Promise<WarmSample> {
    const registry = this.api.get(TenantRegistry);
    const input = Object.assign(new CreateTenantDto(), {
      slug,
      name: `Onboarding bench ${slug}`,
      adminEmail: `admin@${slug}.test`,
    });
    this.lastClaimMs = null;
    const started = performance.now();
    const view = await registry.create(input, 'bench-onboarding');
    const createMs = performance.now() - started;
    if (this.lastClaimMs === null) throw new Error('bench: the claim transaction was not seen');
    if (!this.prepared.has(view.id)) {
      throw new Error(`${this.label}: ${slug} did not get a pooled schema (id ${view.id})`);
    }
    this.claimed.push({ id: view.id, schemaName: view.schema });
    return { claimMs: this.lastClaimMs, createMs };
  }

  /**
   * Blocks read from outside shared buffers so far, per catalog and registry relation (tables
   * and indexes). By oid, with pg_stat_get_blocks_*: the pg_statio views would scan pg_class
   * and pg_index themselves, and in the big database those scans would be most of the count.
   */
  async relationReads(): Promise<Map<string, number>> {
    this.watched ??= (
      await this.pool.query<{ oid: number; name: string }>(
        `SELECT oid::int AS oid, relname AS name FROM pg_class
          WHERE relnamespace IN ('pg_catalog'::regnamespace, 'platform'::regnamespace)
            AND relkind IN ('r', 'i')`,
      )
    ).rows;
    const { rows } = await this.pool.query<{ oid: number; read: string }>(
      `SELECT oid::int AS oid, pg_stat_get_blocks_fetched(oid) - pg_stat_get_blocks_hit(oid) AS read
         FROM unnest($1::oid[]) AS oid`,
      [this.watched.map((row) => row.oid)],
    );
    const names = new Map(this.watched.map((row) => [row.oid, row.name]));
    return new Map(rows.map((row) => [names.get(row.oid) ?? String(row.oid), Number(row.read)]));
  }

  /** This database's block reads and hits so far (pg_stat_database, flushed lazily). */
  async blockCounters(): Promise<{ read: number; hit: number; commits: number }> {
    const { rows } = await this.pool.query<{ read: string; hit: string; commits: string }>(
      `SELECT blks_read AS read, blks_hit AS hit, xact_commit AS commits
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    const row = rows[0];
    return { read: Number(row?.read), hit: Number(row?.hit), commits: Number(row?.commits) };
  }

  /**
   * Every claimed tenant is `provisioning` at the latest template version, its schema steps
   * recorded as done, and its schema holds the template: the lookups seeded in full.
   */
  async verifyClaimed(): Promise<{ tenants: number; countries: number; currencies: number }> {
    const latest = TENANT_TEMPLATE_MIGRATIONS.length;
    const problems: string[] = [];
    for (const tenant of this.claimed) {
      const schema = quoteTenantSchema(tenant.schemaName);
      const { rows } = await this.pool.query<{
        status: string;
        template_version: number;
        steps_done: number;
        countries: number;
        currencies: number;
        history: number;
      }>(
        `SELECT t.status, t.template_version,
                (SELECT count(*)::int FROM platform.provisioning_steps s
                  WHERE s.tenant_id = t.id AND s.status = 'succeeded'
                    AND s.step IN ('create-schema', 'apply-template', 'seed-lookups')) AS steps_done,
                (SELECT count(*)::int FROM ${schema}.countries) AS countries,
                (SELECT count(*)::int FROM ${schema}.currencies) AS currencies,
                (SELECT max(version) FROM ${schema}.template_migrations) AS history
           FROM platform.tenants t WHERE t.id = $1`,
        [tenant.id],
      );
      const row = rows[0];
      if (
        row?.status !== 'provisioning' ||
        row.template_version !== latest ||
        row.history !== latest ||
        row.steps_done !== 3 ||
        row.countries !== COUNTRIES.length ||
        row.currencies !== CURRENCIES.length
      ) {
        problems.push(`${tenant.schemaName}: ${JSON.stringify(row)}`);
      }
    }
    if (problems.length > 0) {
      throw new Error(
        `${this.label}: ${problems.length} claimed schema(s) not ready: ${problems.slice(0, 3).join('; ')}`,
      );
    }
    return {
      tenants: this.claimed.length,
      countries: COUNTRIES.length,
      currencies: CURRENCIES.length,
    };
  }

  async close(): Promise<void> {
    await this.api.close();
    await this.worker.close();
    await this.pool.end();
  }
}

/** Waits until the worker's first upkeep round has made every reserved role (untimed). */
async function fillRoleReserve(worker: INestApplicationContext, size: number): Promise<void> {
  const upkeep = worker.get(TenantRoleUpkeep);
  const reserve = worker.get(TenantRoleReserveRepository);
  const cluster = worker.get<ControlPlaneConfig>(CONTROL_PLANE_CONFIG).defaultTenantCluster;
  for (let round = 0; round < 100; round++) {
    await upkeep.refill();
    const { ready, unready } = await reserve.counts(cluster);
    if (ready >= size && unready === 0) return;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`bench: the tenant role reserve did not reach ${size} ready roles`);
}
