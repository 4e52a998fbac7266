/**
 * The warm pool (issue 3, "Warm pool"): schemas prepared ahead of time as `platform.tenants`
 * rows (`warming` → `pooled`, no domains), claimed by the next `POST /v1/tenants`, refilled in
 * the background, migrated with the fleet, and never reachable as a tenant while pooled. Every
 * claim is checked in the registry and in the schema itself, not only through the API.
 */
import { TENANT_TEMPLATE_MIGRATIONS } from '@platform/tenant-template';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import request from 'supertest';
import {
  PLATFORM_DOMAIN,
  startPlatform,
  type RunningPlatform,
} from '../../../test/platform-harness';
import { waitFor } from '../../../test/wait-for';
import { killHard, migrateFleet, runRows, spawnWorker, versionsBySchema } from './fleet-helpers';

const POOL_SIZE = 3;
const LATEST = TENANT_TEMPLATE_MIGRATIONS.length;
const ALL_VERSIONS = TENANT_TEMPLATE_MIGRATIONS.map((migration) => migration.version);
const SCHEMA_STEPS = ['create-schema', 'apply-template', 'seed-lookups'];
/** With the harness's defaults these systems are off and their steps are skipped. */
const SKIPPED_STEPS = ['storage-prefix', 'dns-record', 'certificate', 'welcome-mail'];
const POOL_ENV = {
  WARM_POOL_SIZE: String(POOL_SIZE),
  WARM_POOL_REFILL_INTERVAL_MS: '200',
};

const suffix = () => randomBytes(3).toString('hex');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface PoolRow {
  id: string;
  slug: string;
  status: string;
  schema: string;
  template_version: number;
  created_at: Date;
}

interface StepRow {
  step: string;
  status: string;
  attempts: number;
  finished_at: Date | null;
}

interface StepView {
  step: string;
  status: string;
  attempts: number;
  lastError: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

interface TenantView {
  id: string;
  slug: string;
  status: string;
  schema: string;
  templateVersion: number;
  createdAt: string;
  provisioningSteps: StepView[];
}

/** Registry reads that do not go through the API under test. */
function registry(db: Client) {
  const poolRows = async () =>
    (
      await db.query<PoolRow>(
        `SELECT id, slug, status, schema_name AS schema, template_version, created_at
           FROM platform.tenants WHERE status IN ('warming', 'pooled')
          ORDER BY created_at, id`,
      )
    ).rows;
  return {
    poolRows,
    /** Waits until the pool holds `size` ready rows and nothing is warming; oldest first. */
    fullPool: (size = POOL_SIZE, timeoutMs = 30_000) =>
      waitFor(
        async () => {
          const rows = await poolRows();
          return rows.length === size && rows.every((row) => row.status === 'pooled') && rows;
        },
        `pool of ${size} ready schemas`,
        timeoutMs,
      ),
    steps: async (tenantId: string) =>
      (
        await db.query<StepRow>(
          `SELECT step, status, attempts, finished_at FROM platform.provisioning_steps
            WHERE tenant_id = $1 ORDER BY position`,
          [tenantId],
        )
      ).rows,
    count: async (sql: string, params: unknown[] = []) =>
      (await db.query<{ n: number }>(sql, params)).rows[0].n,
    countIn: async (schema: string, table: string) =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".${table}`)).rows[0]
        .n,
  };
}

/** Every step of a tenant onboarded with the harness's defaults, done once. */
function expectOnboarded(steps: StepView[]): void {
  for (const step of steps) {
    expect(step).toMatchObject({
      status: SKIPPED_STEPS.includes(step.step) ? 'skipped' : 'succeeded',
      attempts: 1,
    });
  }
}

describe(`warm pool (WARM_POOL_SIZE=${POOL_SIZE})`, () => {
  let platform: RunningPlatform;
  let db: Client;
  let reg: ReturnType<typeof registry>;
  const bearer = () => `Bearer ${platform.adminToken}`;
  const get = (path: string) => platform.api().get(path).set('Authorization', bearer());
  const post = (path: string, body: object = {}) =>
    platform.api().post(path).set('Authorization', bearer()).send(body);
  const create = async (slug: string) => {
    const response = await post('/v1/tenants', {
      slug,
      name: `Tenant ${slug}`,
      adminEmail: `admin@${slug}.test`,
    });
    expect(response.status).toBe(202);
    return response.body as TenantView;
  };
  const view = async (id: string) =>
    (await get(`/v1/tenants/${id}`).expect(200)).body as TenantView;
  const dataPlane = (host: string, path = '/api/tenant') =>
    request(platform.dataPlaneUrl).get(path).set('Host', host);

  beforeAll(async () => {
    platform = await startPlatform({ controlPlaneEnv: POOL_ENV });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    reg = registry(db);
  });

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  it('fills the pool with ready schemas at the latest template version, and no more', async () => {
    const pool = await reg.fullPool();

    for (const row of pool) {
      expect(row.slug).toBe(`~pool-${row.id}`);
      expect(row.schema).toBe(`t_${row.id.replace(/-/g, '')}`);
      expect(row.template_version).toBe(LATEST);
      const versions = await versionsBySchema(db, [row.schema]);
      expect(versions.get(row.schema)).toEqual(ALL_VERSIONS);
      expect(await reg.countIn(row.schema, 'countries')).toBe(249);
      expect(await reg.countIn(row.schema, 'currencies')).toBe(179);
      // Nobody's data yet: no admin, no invite, no project.
      expect(await reg.countIn(row.schema, 'users')).toBe(0);
      expect(await reg.countIn(row.schema, 'user_invites')).toBe(0);
      expect(await reg.countIn(row.schema, 'projects')).toBe(0);
      expect(
        await reg.count(
          'SELECT count(*)::int AS n FROM platform.tenant_domains WHERE tenant_id = $1',
          [row.id],
        ),
      ).toBe(0);
      // Only the schema steps ran; the tenant-specific ones wait for a claim.
      for (const step of await reg.steps(row.id)) {
        expect(step).toMatchObject(
          SCHEMA_STEPS.includes(step.step)
            ? { status: 'succeeded', attempts: 1 }
            : { status: 'pending', attempts: 0 },
        );
      }
    }

    // Several refill intervals later the pool has not grown past its size.
    await sleep(1_000);
    expect((await reg.poolRows()).map((row) => row.id)).toEqual(pool.map((row) => row.id));
  });

  it('keeps pool rows out of the tenant API and off the data plane', async () => {
    const pool = await reg.fullPool();
    const ids = pool.map((row) => row.id);

    const list = await get('/v1/tenants?limit=200').expect(200);
    const listed = (list.body as { items: { id: string }[] }).items.map((item) => item.id);
    expect(listed.filter((id) => ids.includes(id))).toEqual([]);
    const search = await get(`/v1/tenants?search=${encodeURIComponent('~pool')}`).expect(200);
    expect(search.body.total).toBe(0);
    // Observed design choice: asking for the status explicitly lets ops see the pool.
    const pooled = await get('/v1/tenants?status=pooled&limit=200').expect(200);
    expect((pooled.body as { items: { id: string }[] }).items.map((i) => i.id).sort()).toEqual(
      [...ids].sort(),
    );

    const row = pool[0];
    for (const idOrSlug of [row.id, encodeURIComponent(row.slug)]) {
      const response = await get(`/v1/tenants/${idOrSlug}`);
      expect(response.status).toBe(404);
      expect(response.body.error).toBe('tenant_not_found');
    }
    for (const action of ['suspend', 'resume', 'retry']) {
      expect((await post(`/v1/tenants/${row.id}/${action}`)).status).toBe(404);
    }
    for (const path of ['mail', 'progress']) {
      expect((await get(`/v1/tenants/${row.id}/${path}`)).status).toBe(404);
    }
    expect(
      (await platform.api().delete(`/v1/tenants/${row.id}`).set('Authorization', bearer())).status,
    ).toBe(404);
    const user = await post(`/v1/tenants/${row.id}/users`, {
      email: 'squatter@example.test',
      role: 'admin',
      password: 'a-long-password-1',
    });
    expect(user.status).toBe(404);
    expect(await reg.countIn(row.schema, 'users')).toBe(0);

    // No host reaches a pool schema: not its id, schema name or placeholder slug.
    for (const label of [row.id, row.schema, `pool-${row.id}`, row.slug]) {
      const response = await dataPlane(`${label}.${PLATFORM_DOMAIN}`);
      expect(response.status).toBe(404);
    }
    // Even a hostname wrongly pointing at a pool row fails closed (the resolver admits only
    // tenants that are serving).
    const stray = `stray-${suffix()}.${PLATFORM_DOMAIN}`;
    await db.query(
      `INSERT INTO platform.tenant_domains (tenant_id, hostname, kind, status)
       VALUES ($1, $2, 'subdomain', 'active')`,
      [row.id, stray],
    );
    try {
      const response = await dataPlane(stray);
      expect(response.status).toBe(404);
      expect(response.body.error).toBe('unknown_tenant');
    } finally {
      await db.query('DELETE FROM platform.tenant_domains WHERE hostname = $1', [stray]);
    }
    expect((await reg.poolRows()).map((r) => r.id)).toEqual(ids);
  });

  it('gives a new tenant the oldest pooled schema, then refills the pool', async () => {
    const pool = await reg.fullPool();

    const slug = `claim-${suffix()}`;
    const created = await create(slug);
    // One refill inserts its rows in one transaction, so several can share the oldest time.
    const oldest = pool.find((row) => row.id === created.id)!;
    expect(oldest).toBeDefined();
    expect(oldest.created_at.getTime()).toBe(pool[0].created_at.getTime());
    expect(created.schema).toBe(oldest.schema);
    const warmedAt = (await reg.steps(oldest.id)).find(
      (s) => s.step === 'create-schema',
    )!.finished_at!;
    expect(created.templateVersion).toBe(LATEST);

    await platform.waitForStatus(created.id, 'active');
    const tenant = await view(created.id);
    expect(tenant).toMatchObject({ slug, status: 'active', templateVersion: LATEST });
    // The schema was made before the tenant existed: the claim did not create it.
    const createSchema = tenant.provisioningSteps.find((s) => s.step === 'create-schema')!;
    expect(Date.parse(createSchema.finishedAt!)).toBe(warmedAt.getTime());
    expect(Date.parse(createSchema.finishedAt!)).toBeLessThan(Date.parse(tenant.createdAt));
    expectOnboarded(tenant.provisioningSteps);
    for (const step of tenant.provisioningSteps.filter((s) => !SCHEMA_STEPS.includes(s.step))) {
      expect(Date.parse(step.startedAt!)).toBeGreaterThanOrEqual(Date.parse(tenant.createdAt));
    }

    // It is a whole tenant now: its admin, its hostname, its seeded lookups.
    const users = await db.query(`SELECT email, role, password_hash FROM "${oldest.schema}".users`);
    expect(users.rows).toEqual([
      { email: `admin@${slug}.test`, role: 'admin', password_hash: null },
    ]);
    expect(await reg.countIn(oldest.schema, 'countries')).toBe(249);
    const profile = await dataPlane(platform.hostOf(slug));
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: oldest.id, slug, status: 'active' });

    const refilled = await reg.fullPool();
    expect(refilled.map((row) => row.id)).not.toContain(oldest.id);
    expect(refilled.map((row) => row.id)).toEqual(
      expect.arrayContaining(pool.filter((row) => row !== oldest).map((row) => row.id)),
    );
  });

  it('hands two concurrent creations two different pooled schemas that stay isolated', async () => {
    const pool = await reg.fullPool();
    const poolIds = pool.map((row) => row.id);
    const [a, b] = await Promise.all([create(`twin-a-${suffix()}`), create(`twin-b-${suffix()}`)]);

    expect(poolIds).toContain(a.id);
    expect(poolIds).toContain(b.id);
    expect(a.id).not.toBe(b.id);
    expect(a.schema).not.toBe(b.schema);
    await platform.waitForStatus(a.id, 'active');
    await platform.waitForStatus(b.id, 'active');
    const owners = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM platform.tenants WHERE schema_name = ANY($1)',
      [[a.schema, b.schema]],
    );
    expect(owners.rows[0].n).toBe(2);

    const tokenA = await platform.signIn(a.slug);
    const tokenB = await platform.signIn(b.slug);
    const secret = `only-in-a-${suffix()}`;
    const written = await request(platform.dataPlaneUrl)
      .post('/api/projects')
      .set('Host', platform.hostOf(a.slug))
      .set('Authorization', `Bearer ${tokenA}`)
      .send({ name: secret });
    expect(written.status).toBe(201);

    const projectsOn = (slug: string, token: string) =>
      request(platform.dataPlaneUrl)
        .get('/api/projects')
        .set('Host', platform.hostOf(slug))
        .set('Authorization', `Bearer ${token}`);
    const inA = await projectsOn(a.slug, tokenA);
    expect(inA.status).toBe(200);
    const namesInA = (inA.body as { items: { name: string }[] }).items.map((p) => p.name);
    expect(namesInA).toEqual([secret]);
    const inB = await projectsOn(b.slug, tokenB);
    expect(inB.status).toBe(200);
    expect(inB.body.items).toEqual([]);
    // A's token is no key to B's data either.
    expect((await projectsOn(b.slug, tokenA)).status).toBe(401);
    expect(await reg.countIn(a.schema, 'projects')).toBe(1);
    expect(await reg.countIn(b.schema, 'projects')).toBe(0);
  });

  it('does not use up a pooled schema when the creation is refused', async () => {
    const taken = `taken-${suffix()}`;
    await platform.createTenant(taken);
    const pool = await reg.fullPool();

    const clash = await post('/v1/tenants', {
      slug: taken,
      name: 'Someone else',
      adminEmail: 'other@else.test',
    });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toBe('slug_taken');
    const after = await reg.poolRows();
    expect(after.map((row) => [row.id, row.status, row.slug])).toEqual(
      pool.map((row) => [row.id, 'pooled', row.slug]),
    );
  });

  it('migrates pooled schemas with the fleet and claims only those at the latest version', async () => {
    const pool = await reg.fullPool();
    const poolIds = pool.map((row) => row.id);
    const schemas = pool.map((row) => row.schema);
    const tenants = await reg.count(
      `SELECT count(*)::int AS n FROM platform.tenants WHERE status IN ('active', 'suspended')`,
    );

    const back = await migrateFleet(platform, LATEST - 1);
    expect(back.total).toBe(tenants + POOL_SIZE);
    const rows = await runRows(db, back.id);
    for (const id of poolIds) expect(rows.get(id)).toMatchObject({ status: 'succeeded' });
    const older = ALL_VERSIONS.slice(0, -1);
    for (const [, versions] of await versionsBySchema(db, schemas)) expect(versions).toEqual(older);
    expect((await reg.poolRows()).map((row) => [row.id, row.status, row.template_version])).toEqual(
      poolIds.map((id) => [id, 'pooled', LATEST - 1]),
    );

    // A schema behind the latest template is not handed out: this tenant starts cold.
    const cold = await create(`cold-${suffix()}`);
    expect(poolIds).not.toContain(cold.id);
    await platform.waitForStatus(cold.id, 'active');
    const coldView = await view(cold.id);
    expect(coldView.templateVersion).toBe(LATEST);
    const coldSchema = coldView.provisioningSteps.find((s) => s.step === 'create-schema')!;
    expect(Date.parse(coldSchema.startedAt!)).toBeGreaterThanOrEqual(
      Date.parse(coldView.createdAt),
    );
    expect((await reg.poolRows()).map((row) => row.id)).toEqual(poolIds);

    const forward = await migrateFleet(platform, LATEST);
    expect(forward.total).toBe(tenants + 1 + POOL_SIZE);
    for (const [, versions] of await versionsBySchema(db, schemas)) {
      expect(versions).toEqual(ALL_VERSIONS);
    }
    expect((await reg.poolRows()).every((row) => row.template_version === LATEST)).toBe(true);

    const warm = await create(`warm-again-${suffix()}`);
    expect(poolIds).toContain(warm.id);
    await platform.waitForStatus(warm.id, 'active');
  });
});

describe('warm pool off (WARM_POOL_SIZE=0)', () => {
  let platform: RunningPlatform;
  let db: Client;
  let reg: ReturnType<typeof registry>;

  beforeAll(async () => {
    platform = await startPlatform({
      controlPlaneEnv: { WARM_POOL_SIZE: '0', WARM_POOL_REFILL_INTERVAL_MS: '200' },
    });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    reg = registry(db);
  });

  afterAll(async () => {
    await db?.end();
    await platform?.stop();
  });

  it('pools nothing and provisions each tenant cold', async () => {
    await sleep(1_000);
    expect(await reg.poolRows()).toEqual([]);

    const tenant = await platform.createTenant(`cold-only-${suffix()}`);
    const body = (
      await platform
        .api()
        .get(`/v1/tenants/${tenant.id}`)
        .set('Authorization', `Bearer ${platform.adminToken}`)
        .expect(200)
    ).body as TenantView;
    const steps = body.provisioningSteps;
    expectOnboarded(steps);
    // Every step, the schema steps included, ran for this tenant after it was created.
    for (const step of steps) {
      expect(Date.parse(step.startedAt!)).toBeGreaterThanOrEqual(Date.parse(body.createdAt));
    }
    expect(await reg.countIn(tenant.schema, 'countries')).toBe(249);
    expect(await reg.poolRows()).toEqual([]);
  });
});

describe('warm pool: a worker killed while warming a schema', () => {
  let platform: RunningPlatform;
  let db: Client;
  let reg: ReturnType<typeof registry>;
  const workers: { child: ChildProcess; output: () => string }[] = [];

  const startWorker = (env: Record<string, string> = {}) => {
    const worker = spawnWorker({
      ...process.env,
      DATABASE_URL: platform.database.url,
      REDIS_PREFIX: platform.redisPrefix,
      PLATFORM_DOMAIN,
      PLATFORM_ADMIN_TOKEN: platform.adminToken,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      WORKER_PORT: '0',
      WARM_POOL_SIZE: '1',
      WARM_POOL_REFILL_INTERVAL_MS: '200',
      ...env,
    });
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    platform = await startPlatform({ withoutWorker: true });
    db = new Client({ connectionString: platform.database.url });
    await db.connect();
    reg = registry(db);
  });

  afterAll(async () => {
    for (const worker of workers) await killHard(worker.child);
    await db?.end();
    await platform?.stop();
  });

  it('finishes, on the next refill, the schema a dead worker left warming', async () => {
    // Holds after apply-template's work and before its record: the schema is migrated, the
    // registry still says the step is running.
    const doomed = startWorker({ PROVISIONING_FAULT_HOLD: 'apply-template:120000' });
    const row = await waitFor(
      async () => {
        const [warming] = await reg.poolRows();
        if (!warming) return null;
        const applying = (await reg.steps(warming.id)).find((s) => s.step === 'apply-template');
        if (applying?.status !== 'running') return null;
        const history = await db.query('SELECT to_regclass($1) AS t', [
          `"${warming.schema}".template_migrations`,
        ]);
        if (!history.rows[0].t) return null;
        return (await reg.countIn(warming.schema, 'template_migrations')) === LATEST && warming;
      },
      'a worker holding in apply-template',
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${doomed.output()}`);
    });
    await killHard(doomed.child);

    const left = await reg.poolRows();
    expect(left.map((r) => [r.id, r.status])).toEqual([[row.id, 'warming']]);
    expect((await reg.steps(row.id)).find((s) => s.step === 'apply-template')).toMatchObject({
      status: 'running',
      attempts: 1,
    });

    const next = startWorker();
    const pool = await reg.fullPool(1, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${next.output()}`);
    });
    // The same row was finished, not replaced by a new one.
    expect(pool.map((r) => r.id)).toEqual([row.id]);
    expect(pool[0].template_version).toBe(LATEST);
    const versions = await versionsBySchema(db, [row.schema]);
    expect(versions.get(row.schema)).toEqual(ALL_VERSIONS);
    expect(await reg.countIn(row.schema, 'countries')).toBe(249);
    const steps = await reg.steps(row.id);
    expect(steps.filter((s) => SCHEMA_STEPS.includes(s.step))).toEqual([
      expect.objectContaining({ step: 'create-schema', status: 'succeeded', attempts: 1 }),
      expect.objectContaining({ step: 'apply-template', status: 'succeeded', attempts: 2 }),
      expect.objectContaining({ step: 'seed-lookups', status: 'succeeded', attempts: 1 }),
    ]);
    expect(
      await reg.count(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 't\\_%'`),
    ).toBe(1);
  });
});
