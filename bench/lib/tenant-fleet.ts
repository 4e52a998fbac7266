/**
 * Makes sure the bench database holds tenants t00001...tNNNNN, all `active`, each with one
 * user and 20 projects, and mints one access token per tenant.
 *
 * Tenants are onboarded through the real platform (control plane API + provisioning workers,
 * in this process): POST /v1/tenants for each missing slug, then wait until none is left
 * `provisioning`. Existing tenants are reused, so a second run skips this entirely. The user
 * and the projects are not what is under test, so they go in by plain SQL, one round trip per
 * schema, idempotently (a second run changes nothing).
 */
import { createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { sign } from 'jsonwebtoken';
import { Pool } from 'pg';
import { PrivateKeyCipher } from '@platform/acme';
import { loadControlPlaneConfig, type ControlPlaneConfig } from '@platform/config';
import { ensureDatabaseExists } from '@platform/database';
import { listenOn } from '@platform/http';
import { quoteTenantSchema } from '@platform/tenancy';
import {
  BENCH_ADMIN_TOKEN,
  BENCH_SIGNING_KEY_ENCRYPTION_KEY,
  BENCH_PLATFORM_DOMAIN,
  BENCH_REDIS_PREFIX,
  BENCH_SLUG_PATTERN,
  benchSlug,
  type BenchSettings,
} from './bench-settings';
import { mapLimit, sleep } from './concurrency';

/** The data plane's token issuer (apps/data-plane/src/auth/access-token.service.ts). */
const TOKEN_ISSUER = 'tenancy-data-plane';
const PROJECTS_PER_TENANT = 20;
const POST_CONCURRENCY = 16;
const SEED_CONCURRENCY = 8;
const POLL_INTERVAL_MS = 2_000;
const MAX_RETRY_ROUNDS = 3;

export interface BenchTenant {
  readonly id: string;
  readonly slug: string;
  readonly schemaName: string;
  readonly host: string;
  readonly userId: string;
  readonly token: string;
}

export interface ProvisioningReport {
  readonly alreadyActive: number;
  readonly created: number;
  readonly workers: number;
  /** From the first POST until none is left provisioning; null when nothing was provisioned. */
  readonly seconds: number | null;
  readonly tenantsPerSecond: number | null;
  readonly seedSeconds: number;
}

interface RegistryRow {
  id: string;
  slug: string;
  status: string;
  schema_name: string;
}

type Log = (line: string) => void;

export async function prepareFleet(
  settings: BenchSettings,
  log: Log,
): Promise<{ tenants: BenchTenant[]; report: ProvisioningReport }> {
  await ensureDatabaseExists(settings.databaseUrl);
  const pool = new Pool({ connectionString: settings.databaseUrl, max: SEED_CONCURRENCY });
  try {
    const wanted = Array.from({ length: settings.tenants }, (_, index) => benchSlug(index));
    let registry = await readRegistry(pool);
    const alreadyActive = wanted.filter((slug) => registry.get(slug)?.status === 'active').length;
    let provisioned: { created: number; seconds: number } | null = null;
    if (alreadyActive < wanted.length) {
      log(`provisioning: ${alreadyActive} of ${wanted.length} tenants already active`);
      provisioned = await provisionThroughPlatform(settings, wanted, registry, log);
      registry = await readRegistry(pool);
    } else {
      log(`provisioning: all ${wanted.length} tenants already active, skipped`);
      await upgradeRegistry(settings);
    }
    const rows = wanted.map((slug) => {
      const row = registry.get(slug);
      if (row?.status !== 'active') {
        throw new Error(`tenant ${slug} is ${row?.status ?? 'missing'}, not active`);
      }
      return row;
    });

    const seedStarted = Date.now();
    await mapLimit(rows, SEED_CONCURRENCY, (row) => seedTenant(pool, row));
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    log(`seeded users and projects in ${seedSeconds.toFixed(1)} s (idempotent)`);

    const signingKeys = await currentSigningKeys(
      pool,
      rows.map((row) => row.id),
    );
    const tenants = rows.map((row): BenchTenant => {
      const userId = benchUserId(row.id);
      return {
        id: row.id,
        slug: row.slug,
        schemaName: row.schema_name,
        host: `${row.slug}.${BENCH_PLATFORM_DOMAIN}`,
        userId,
        // The claims AccessTokenService.issue() puts in: sub, role, aud = tenant id, iss.
        token: sign({ sub: userId, role: 'member' }, signingKeys.get(row.id)!.secret, {
          algorithm: 'HS256',
          keyid: signingKeys.get(row.id)!.kid,
          audience: row.id,
          issuer: TOKEN_ISSUER,
          expiresIn: 12 * 3600,
        }),
      };
    });
    return {
      tenants,
      report: {
        alreadyActive,
        created: provisioned?.created ?? 0,
        workers: provisioned ? settings.provisioningWorkers : 0,
        seconds: provisioned?.seconds ?? null,
        tenantsPerSecond: provisioned
          ? (wanted.length - alreadyActive) / Math.max(provisioned.seconds, 0.001)
          : null,
        seedSeconds,
      },
    };
  } finally {
    await pool.end();
  }
}

/**
 * Each tenant's current signing key, opened with the bench's SIGNING_KEY_ENCRYPTION_KEY. A fleet
 * provisioned before per-tenant keys gets them here, as the control plane's start-up backfill
 * would (same row shape; the partial unique index keeps it to one current key per tenant).
 */
async function currentSigningKeys(
  pool: Pool,
  tenantIds: readonly string[],
): Promise<Map<string, { kid: string; secret: KeyObject }>> {
  const cipher = PrivateKeyCipher.fromSecret(BENCH_SIGNING_KEY_ENCRYPTION_KEY);
  await pool.query(
    `INSERT INTO platform.tenant_signing_keys (tenant_id, kid, secret_sealed)
     SELECT id, kid, sealed FROM unnest($1::uuid[], $2::text[], $3::text[]) AS k(id, kid, sealed)
     ON CONFLICT (tenant_id) WHERE retire_at IS NULL DO NOTHING`,
    [
      tenantIds,
      tenantIds.map(() => randomBytes(16).toString('base64url')),
      tenantIds.map(() => cipher.encrypt(randomBytes(32).toString('base64'))),
    ],
  );
  const { rows } = await pool.query<{ tenant_id: string; kid: string; secret_sealed: string }>(
    `SELECT tenant_id, kid, secret_sealed FROM platform.tenant_signing_keys
      WHERE retire_at IS NULL AND tenant_id = ANY($1::uuid[])`,
    [tenantIds],
  );
  return new Map(
    rows.map((row) => [
      row.tenant_id,
      {
        kid: row.kid,
        secret: createSecretKey(Buffer.from(cipher.decrypt(row.secret_sealed), 'base64')),
      },
    ]),
  );
}

async function readRegistry(pool: Pool): Promise<Map<string, RegistryRow>> {
  const exists = await pool.query<{ found: string | null }>(
    `SELECT to_regclass('platform.tenants')::text AS found`,
  );
  if (!exists.rows[0]?.found) return new Map();
  const { rows } = await pool.query<RegistryRow>(
    `SELECT id, slug, status, schema_name FROM platform.tenants WHERE slug ~ '^t[0-9]{5}$'`,
  );
  return new Map(rows.map((row) => [row.slug, row]));
}

function benchControlPlaneConfig(settings: BenchSettings): ControlPlaneConfig {
  return loadControlPlaneConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: settings.databaseUrl,
    REDIS_URL: settings.redisUrl,
    REDIS_PREFIX: BENCH_REDIS_PREFIX,
    PLATFORM_DOMAIN: BENCH_PLATFORM_DOMAIN,
    SIGNING_KEY_ENCRYPTION_KEY: BENCH_SIGNING_KEY_ENCRYPTION_KEY,
    PLATFORM_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    CONTROL_PLANE_HOST: '127.0.0.1',
    CONTROL_PLANE_PORT: '0',
  });
}

/**
 * What the control plane's start does to a registry made by an older checkout: pending platform
 * migrations, the data plane's login, and a role for every tenant without one. A no-op when
 * nothing is missing.
 */
async function upgradeRegistry(settings: BenchSettings): Promise<void> {
  const config = benchControlPlaneConfig(settings);
  const { migratePlatformSchema } = await import('@platform/database');
  const { PLATFORM_MIGRATIONS } = await import('@platform/migrations');
  const { prepareTenantAccess } =
    await import('../../apps/control-plane/src/tenant-access/prepare-tenant-access');
  await migratePlatformSchema(settings.databaseUrl, PLATFORM_MIGRATIONS, (registry) =>
    prepareTenantAccess(registry, config),
  );
}

async function provisionThroughPlatform(
  settings: BenchSettings,
  wanted: readonly string[],
  registry: ReadonlyMap<string, RegistryRow>,
  log: Log,
): Promise<{ created: number; seconds: number }> {
  const config = benchControlPlaneConfig(settings);
  // Loaded only when tenants are missing: measuring an already provisioned fleet must not
  // depend on the control plane's code (or its state while someone is changing it).
  const { createControlPlaneApp, createWorker } =
    await import('../../apps/control-plane/src/control-plane.app');
  let controlPlane: INestApplication | null = null;
  const workers: INestApplicationContext[] = [];
  try {
    controlPlane = await createControlPlaneApp(config);
    const port = await listenOn(controlPlane, 0, '127.0.0.1');
    for (let i = 0; i < settings.provisioningWorkers; i += 1)
      workers.push(await createWorker(config));
    const api = controlPlaneClient(`http://127.0.0.1:${port}`);
    log(`control plane on 127.0.0.1:${port}, ${workers.length} worker context(s) x 4 jobs`);

    const started = Date.now();
    const missing = wanted.filter((slug) => !registry.has(slug));
    let created = 0;
    await mapLimit(missing, POST_CONCURRENCY, async (slug) => {
      const response = await api(
        'POST',
        '/v1/tenants',
        {
          slug,
          name: `Bench tenant ${slug}`,
          adminEmail: `admin@${slug}.test`,
        },
        { 'idempotency-key': `bench-${slug}` },
      );
      // 409: created by an earlier, interrupted run; it is provisioned or re-enqueued already.
      if (response.status !== 202 && response.status !== 409) {
        throw new Error(
          `POST /v1/tenants ${slug}: ${response.status} ${JSON.stringify(response.body)}`,
        );
      }
      created += 1;
      if (created % 1000 === 0) log(`  posted ${created}/${missing.length}`);
    });
    log(`  posted ${created} tenants in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const deadline = started + settings.provisioningTimeoutSeconds * 1000;
    for (let round = 0; ; round += 1) {
      const failed = await retryFailed(api, wanted, registry, round === 0);
      if (failed > 0) log(`  retried ${failed} failed tenant(s)`);
      await waitUntilSettled(api, started, deadline, wanted.length, log);
      const stillFailed = await count(api, 'failed');
      if (stillFailed === 0) break;
      if (round + 1 >= MAX_RETRY_ROUNDS)
        throw new Error(`${stillFailed} tenant(s) failed to provision`);
    }
    const seconds = (Date.now() - started) / 1000;
    log(`provisioning done in ${seconds.toFixed(1)} s`);
    return { created, seconds };
  } finally {
    for (const worker of workers) await worker.close();
    await controlPlane?.close();
  }
}

type Api = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: unknown }>;

function controlPlaneClient(baseUrl: string): Api {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${BENCH_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
}

async function count(api: Api, status: string): Promise<number> {
  const response = await api('GET', `/v1/tenants?status=${status}&limit=1`);
  if (response.status !== 200) throw new Error(`GET /v1/tenants: ${response.status}`);
  return (response.body as { total: number }).total;
}

/** Failed bench tenants go back to provisioning (POST /retry); returns how many. */
async function retryFailed(
  api: Api,
  wanted: readonly string[],
  registry: ReadonlyMap<string, RegistryRow>,
  useRegistrySnapshot: boolean,
): Promise<number> {
  const wantedSet = new Set(wanted);
  let ids: string[];
  if (useRegistrySnapshot) {
    ids = [...registry.values()]
      .filter((row) => row.status === 'failed' && wantedSet.has(row.slug))
      .map((row) => row.id);
  } else {
    const response = await api('GET', '/v1/tenants?status=failed&limit=200');
    const items = (response.body as { items: { id: string; slug: string }[] }).items;
    ids = items.filter((item) => BENCH_SLUG_PATTERN.test(item.slug)).map((item) => item.id);
  }
  await mapLimit(ids, POST_CONCURRENCY, async (id) => {
    const response = await api('POST', `/v1/tenants/${id}/retry`);
    if (response.status !== 202) throw new Error(`retry ${id}: ${response.status}`);
  });
  return ids.length;
}

async function waitUntilSettled(
  api: Api,
  started: number,
  deadline: number,
  total: number,
  log: Log,
): Promise<void> {
  let lastLogged = 0;
  for (;;) {
    const provisioning = await count(api, 'provisioning');
    const now = Date.now();
    if (provisioning === 0) return;
    if (now - lastLogged >= 10_000) {
      const active = await count(api, 'active');
      const elapsed = (now - started) / 1000;
      log(`  ${elapsed.toFixed(0)} s: ${active}/${total} active, ${provisioning} provisioning`);
      lastLogged = now;
    }
    if (now > deadline)
      throw new Error(`${provisioning} tenant(s) still provisioning at the deadline`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/** One user and PROJECTS_PER_TENANT projects, in one round trip, doing nothing when present. */
async function seedTenant(pool: Pool, row: RegistryRow): Promise<void> {
  if (!BENCH_SLUG_PATTERN.test(row.slug)) throw new Error(`unexpected slug ${row.slug}`);
  const schema = quoteTenantSchema(row.schema_name);
  const userId = benchUserId(row.id);
  // Simple protocol, two statements, one implicit transaction. Every literal is generated
  // here (slug pattern checked above, uuid from a hash) and the schema name is validated.
  await pool.query(`
    INSERT INTO ${schema}.users (id, email, role)
      VALUES ('${userId}', 'bench@${row.slug}.test', 'member') ON CONFLICT DO NOTHING;
    INSERT INTO ${schema}.projects (name, description, created_by, created_at)
      SELECT 'Project ' || n || ' of ${row.slug}', 'Benchmark project number ' || n,
             '${userId}', now() - n * interval '1 minute'
        FROM generate_series(1, ${PROJECTS_PER_TENANT}) AS n
       WHERE NOT EXISTS (SELECT 1 FROM ${schema}.projects)`);
}

/** A stable user id per tenant, so tokens can be minted without reading the schema back. */
function benchUserId(tenantId: string): string {
  const hex = createHash('sha256').update(`bench-user:${tenantId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
