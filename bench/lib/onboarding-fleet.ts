/**
 * The databases of the onboarding bench. The big one holds `fleetTenants` active tenants
 * t00001... onboarded through the platform (`prepareFleet`, the data-plane bench's builder) and
 * is reused; everything else in it is the bench's own and is removed before and after each run,
 * so one run never measures a catalog or registry the last one grew. The empty one is created
 * for each run and dropped at its end.
 */
import { Redis } from 'ioredis';
import { Client, Pool } from 'pg';
import { ensureDatabaseExists, migratePlatformSchema } from '@platform/database';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import { quoteTenantSchema } from '@platform/tenancy';
import { dropTenantRolesOfGoneDatabases } from '@platform/testing';
import { BENCH_REDIS_PREFIX, BENCH_SLUG_PATTERN, loadBenchSettings } from './bench-settings';
import type { OnboardingBenchSettings } from './onboarding-settings';
import { prepareFleet } from './tenant-fleet';

type Log = (line: string) => void;

/** Slugs of the tenants the bench claims from the warm pool: `ob-<run tag>-<n>`. */
export const ONBOARDING_SLUG_PREFIX = 'ob-';
/** Warm-pool rows (WarmPoolRepository gives them the slug `~pool-<id>`). */
const POOL_SLUG_PREFIX = '~pool-';

/**
 * Registry tables that point at a tenant, children first. Not platform.audit_log: it is
 * append-only and hash-chained (its triggers refuse DELETE), so each run leaves its audit
 * entries there (one per claimed tenant, no foreign key).
 */
const TENANT_CHILD_TABLES = [
  'platform.outbox',
  'platform.migration_run_tenants',
  'platform.idempotency_keys',
  'platform.provisioning_steps',
  'platform.tenant_domains',
];
/** Catalogs the bench's own schemas add rows to (and its cleanup leaves dead rows in). */
const CATALOGS = [
  'pg_namespace',
  'pg_class',
  'pg_attribute',
  'pg_attrdef',
  'pg_constraint',
  'pg_trigger',
  'pg_index',
  'pg_depend',
  'pg_type',
];
const REGISTRY_TABLES = ['platform.tenants', 'platform.audit_log', ...TENANT_CHILD_TABLES];

export interface FleetReport {
  readonly tenants: number;
  /** Null when the fleet was already there. */
  readonly buildSeconds: number | null;
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

function maintenanceUrl(url: string): string {
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  return maintenance.toString();
}

/** Same Redis, database index 1: the build's Bull queues (prefix `bench`) meet no one else's. */
function buildRedisUrl(redisUrl: string): string {
  const url = new URL(redisUrl);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/1';
  return url.toString();
}

async function activeFleetTenants(databaseUrl: string): Promise<number> {
  const client = new Client({ connectionString: maintenanceUrl(databaseUrl) });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      databaseName(databaseUrl),
    ]);
    if (found.rowCount === 0) return 0;
  } finally {
    await client.end();
  }
  const pool = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const exists = await pool.query<{ found: string | null }>(
      `SELECT to_regclass('platform.tenants')::text AS found`,
    );
    if (!exists.rows[0]?.found) return 0;
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM platform.tenants WHERE status = 'active' AND slug ~ $1`,
      [BENCH_SLUG_PATTERN.source],
    );
    return rows[0]?.n ?? 0;
  } finally {
    await pool.end();
  }
}

/** Makes sure the fleet database holds its tenants, building them (once) when missing. */
export async function ensureOnboardingFleet(
  settings: OnboardingBenchSettings,
  log: Log,
): Promise<FleetReport> {
  const found = await activeFleetTenants(settings.fleetDatabaseUrl);
  if (found === settings.fleetTenants) {
    log(
      `fleet: ${found.toLocaleString('en')} active tenants in ${databaseName(settings.fleetDatabaseUrl)}, reused`,
    );
    return { tenants: found, buildSeconds: null };
  }
  log(
    `fleet: ${found} of ${settings.fleetTenants} tenants in ${databaseName(settings.fleetDatabaseUrl)}; ` +
      'building the rest through the platform (once; later runs reuse them)',
  );
  const started = Date.now();
  const bench = loadBenchSettings();
  await prepareFleet(
    {
      ...bench,
      databaseUrl: settings.fleetDatabaseUrl,
      redisUrl: buildRedisUrl(settings.redisUrl),
      tenants: settings.fleetTenants,
      provisioningWorkers: settings.buildWorkers,
    },
    log,
  );
  // Bull's counters and the like, left by the build's queues in their own Redis database.
  await removeRedisKeys(buildRedisUrl(settings.redisUrl), `${BENCH_REDIS_PREFIX}:bull:*`);
  const after = await activeFleetTenants(settings.fleetDatabaseUrl);
  if (after !== settings.fleetTenants) {
    throw new Error(
      `fleet: ${after} active tenants after the build, expected ${settings.fleetTenants}`,
    );
  }
  return { tenants: after, buildSeconds: (Date.now() - started) / 1000 };
}

/**
 * Removes the bench's own tenants from the fleet database (claimed `ob-...` tenants and warm-pool
 * rows): schemas first, then registry rows, so an interrupted cleanup leaves rows that the next
 * one finds again. Returns how many tenants it removed.
 */
export async function removeBenchTenants(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string; schema_name: string }>(
    `SELECT id, schema_name FROM platform.tenants
      WHERE starts_with(slug, $1) OR starts_with(slug, $2)`,
    [ONBOARDING_SLUG_PREFIX, POOL_SLUG_PREFIX],
  );
  for (const row of rows) {
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteTenantSchema(row.schema_name)} CASCADE`);
  }
  if (rows.length > 0) {
    const ids = rows.map((row) => row.id);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const table of TENANT_CHILD_TABLES) {
        await client.query(`DELETE FROM ${table} WHERE tenant_id = ANY($1::uuid[])`, [ids]);
      }
      await client.query(
        `UPDATE platform.certificates SET tenant_id = NULL
                           WHERE tenant_id = ANY($1::uuid[])`,
        [ids],
      );
      await client.query(`DELETE FROM platform.tenants WHERE id = ANY($1::uuid[])`, [ids]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }
  return rows.length;
}

/**
 * Before measuring (untimed): dead catalog and registry rows vacuumed and statistics fresh, as
 * autovacuum keeps them on a production server (it is off on the development machine), and a
 * checkpoint, so no measurement pays for flushing the setup's buffers.
 */
export async function settleDatabase(databaseUrl: string): Promise<void> {
  // Its own session, ended at once: a backend reports its block reads when it exits, so the
  // vacuum's reads do not land in the bench's later counts.
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `VACUUM (ANALYZE) ${CATALOGS.map((name) => `pg_catalog.${name}`).join(', ')}`,
    );
    await client.query(`VACUUM (ANALYZE) ${REGISTRY_TABLES.join(', ')}`);
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** The "0 tenants" database: dropped if an earlier run left it, created, registry migrated. */
export async function createEmptyDatabase(databaseUrl: string): Promise<void> {
  await dropDatabase(databaseUrl);
  await ensureDatabaseExists(databaseUrl);
  await migratePlatformSchema(databaseUrl, PLATFORM_MIGRATIONS);
}

/** Drops the database and the tenant roles it leaves behind. */
export async function dropDatabase(databaseUrl: string): Promise<void> {
  const name = databaseName(databaseUrl);
  if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
  const client = new Client({ connectionString: maintenanceUrl(databaseUrl) });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    // Its tenants' roles are cluster-wide: left behind, hundreds pile up run after run.
    await dropTenantRolesOfGoneDatabases(client);
  } finally {
    await client.end();
  }
}

/** Catalog and registry sizes: what grows with the number of tenants. */
export async function databaseShape(pool: Pool) {
  const { rows } = await pool.query<{
    namespaces: number;
    classes: number;
    tenants: number;
    tenant_schemas: number;
  }>(`SELECT (SELECT count(*)::int FROM pg_namespace) AS namespaces,
             (SELECT count(*)::int FROM pg_class) AS classes,
             (SELECT count(*)::int FROM platform.tenants) AS tenants,
             (SELECT count(*)::int FROM pg_namespace
               WHERE nspname ~ '^t_[0-9a-f]{32}$') AS tenant_schemas`);
  const row = rows[0];
  return {
    pgNamespaceRows: row.namespaces,
    pgClassRows: row.classes,
    registryTenants: row.tenants,
    tenantSchemas: row.tenant_schemas,
  };
}

/** Deletes the keys matching `pattern` (SCAN, not KEYS: the server may be shared). */
export async function removeRedisKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
