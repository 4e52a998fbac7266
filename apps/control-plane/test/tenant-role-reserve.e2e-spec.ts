/**
 * Tenant roles in batches (TenantRoleUpkeep), on the real control plane, worker and data plane:
 * the worker makes roles for tenants to come in one commit, onboarding takes the oldest one and
 * writes no role catalog row (so data-plane backends keep their cached role lists), the data
 * plane serves such tenants each in its own role, and deleted tenants' roles are stripped at
 * once and dropped by the worker. Catalog rows are read directly, not through the API.
 */
import { randomUUID } from 'node:crypto';
import { loadControlPlaneConfig } from '@platform/config';
import {
  TENANT_ROLE_COMMENT_PREFIX,
  TenantTransactionRunner,
  migratePlatformSchema,
} from '@platform/database';
import { PLATFORM_MIGRATIONS } from '@platform/migrations';
import { MetricsRegistry } from '@platform/observability';
import { runInTenant } from '@platform/tenancy';
import { Client } from 'pg';
import request from 'supertest';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';
import { waitFor } from '../../../test/wait-for';
import { prepareTenantAccess } from '../src/tenant-access/prepare-tenant-access';

const RESERVE = 4;
const LOGIN = 'platform_data_plane';
const PERMISSION_DENIED = '42501';
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const schemaOf = (id: string) => `t_${id.replace(/-/g, '')}`;

interface ReserveRow {
  tenant_id: string;
  ready: boolean;
}

/** Reads of the registry and of the cluster's role catalogs. */
function catalog(db: Client) {
  const reserve = async () =>
    (
      await db.query<ReserveRow>(
        `SELECT tenant_id, ready FROM platform.tenant_role_reserve ORDER BY created_at, tenant_id`,
      )
    ).rows;
  return {
    reserve,
    /** Waits until the reserve holds `size` ready ids; oldest first. */
    readyReserve: (size: number) =>
      waitFor(async () => {
        const rows = await reserve();
        return rows.length === size && rows.every((row) => row.ready) && rows;
      }, `reserve of ${size} ready roles`),
    /** The transaction that wrote each role's pg_authid row and its memberships' rows. */
    roleRows: async (names: string[]) =>
      (
        await db.query<{ name: string; role: string; memberships: string; comment: string }>(
          `SELECT r.rolname AS name, a.xmin::text AS role,
                  (SELECT string_agg(m.xmin::text || ':' || m.member::regrole::text, ',' ORDER BY m.member)
                     FROM pg_auth_members m WHERE m.roleid = r.oid) AS memberships,
                  shobj_description(r.oid, 'pg_authid') AS comment
             FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid
            WHERE r.rolname = ANY($1::text[]) ORDER BY r.rolname`,
          [names],
        )
      ).rows,
    schemaOwner: async (schema: string) =>
      (
        await db.query<{ owner: string }>(
          'SELECT nspowner::regrole::text AS owner FROM pg_namespace WHERE nspname = $1',
          [schema],
        )
      ).rows[0]?.owner ?? null,
    retiredCount: async () =>
      (
        await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM platform.retired_tenant_roles',
        )
      ).rows[0].n,
  };
}

/** A platform with the given control-plane settings, a registry client and catalog reads. */
async function startWith(controlPlaneEnv: Record<string, string>) {
  const platform = await startPlatform({ controlPlaneEnv });
  const db = new Client({ connectionString: platform.database.url });
  await db.connect();
  return { platform, db, cat: catalog(db) };
}

async function stop(platform: RunningPlatform | undefined, db: Client | undefined) {
  await db?.end();
  await platform?.stop();
}

describe(`tenant role reserve (TENANT_ROLE_RESERVE_SIZE=${RESERVE})`, () => {
  let platform: RunningPlatform;
  let db: Client;
  let cat: ReturnType<typeof catalog>;
  let firstBatch: ReserveRow[];
  let a: TenantSummary;
  let b: TenantSummary;

  beforeAll(async () => {
    ({ platform, db, cat } = await startWith({
      TENANT_ROLE_RESERVE_SIZE: String(RESERVE),
      TENANT_ROLE_UPKEEP_INTERVAL_MS: '200',
    }));
  });
  afterAll(() => stop(platform, db));

  it('makes the reserved roles in one commit, each granted to the data plane', async () => {
    firstBatch = await cat.readyReserve(RESERVE);
    const roles = await cat.roleRows(firstBatch.map((row) => schemaOf(row.tenant_id)));
    expect(roles).toHaveLength(RESERVE);
    // One transaction wrote every role: data-plane backends rebuilt their role lists once.
    expect(new Set(roles.map((role) => role.role)).size).toBe(1);
    for (const role of roles) {
      expect(role.memberships).toMatch(new RegExp(`^${role.role}:${LOGIN}$`));
      expect(role.comment).toMatch(new RegExp(`database=${platform.database.name}; tenant=`));
    }
  });

  it('onboards onto the oldest reserved role without writing a role catalog row', async () => {
    const [oldest] = firstBatch;
    const schema = schemaOf(oldest.tenant_id);
    const [before] = await cat.roleRows([schema]);

    a = await platform.createTenant('reserve-a');

    expect(a.id).toBe(oldest.tenant_id);
    expect(a.schema).toBe(schema);
    expect(await cat.roleRows([schema])).toEqual([before]);
    expect(await cat.schemaOwner(schema)).toBe(schema);
    // One of four gone is not enough for a new batch: the reserve waits for half.
    await sleep(1_000);
    expect((await cat.reserve()).map((row) => row.tenant_id)).toEqual(
      firstBatch.slice(1).map((row) => row.tenant_id),
    );
  });

  it('makes the next batch once half the reserve is taken', async () => {
    b = await platform.createTenant('reserve-b');
    expect(b.id).toBe(firstBatch[1].tenant_id);

    const reserve = await cat.readyReserve(RESERVE);
    const added = reserve.filter(
      (row) => !firstBatch.some((earlier) => earlier.tenant_id === row.tenant_id),
    );
    expect(added).toHaveLength(RESERVE / 2);
    const roles = await cat.roleRows(added.map((row) => schemaOf(row.tenant_id)));
    expect(new Set(roles.map((role) => role.role)).size).toBe(1);
    const [earlier] = await cat.roleRows([schemaOf(firstBatch[2].tenant_id)]);
    expect(roles[0].role).not.toBe(earlier.role);
  });

  it('serves tenants on reserved roles, each seeing only its own data', async () => {
    const [tokenA, tokenB] = await Promise.all([platform.signIn(a.slug), platform.signIn(b.slug)]);
    await request(platform.dataPlaneUrl)
      .post('/api/projects')
      .set('Host', platform.hostOf(a.slug))
      .set('Authorization', `Bearer ${tokenA}`)
      .send({ name: 'a reserved secret' })
      .expect(201);
    const list = async (slug: string, token: string) =>
      (
        await request(platform.dataPlaneUrl)
          .get('/api/projects')
          .set('Host', platform.hostOf(slug))
          .set('Authorization', `Bearer ${token}`)
          .expect(200)
      ).body as { items: { name: string }[] };
    expect((await list(a.slug, tokenA)).items.map((project) => project.name)).toEqual([
      'a reserved secret',
    ]);
    expect((await list(b.slug, tokenB)).items).toEqual([]);

    // Inside the data plane's own runner, as tenant B: A's schema is refused by PostgreSQL.
    const runner = platform.dataPlane.get(TenantTransactionRunner);
    const asB = runInTenant({ id: b.id, slug: b.slug, schemaName: b.schema, cluster: 'main' }, () =>
      runner.query(`SELECT name FROM "${a.schema}".projects`),
    );
    await expect(asB).rejects.toMatchObject({ code: PERMISSION_DENIED });
  });

  it("strips a deleted tenant's role at once and drops it in the worker's next round", async () => {
    for (const tenant of [a, b]) {
      await platform
        .api()
        .delete(`/v1/tenants/${tenant.id}`)
        .set('Authorization', `Bearer ${platform.adminToken}`)
        .expect(200);
      // Returned from the delete: the kept schema is already the platform's, not the role's.
      expect(await cat.schemaOwner(tenant.schema)).toBe('postgres');
    }
    await waitFor(
      async () => (await cat.roleRows([a.schema, b.schema])).length === 0,
      "deleted tenants' roles dropped",
    );
    expect(await cat.retiredCount()).toBe(0);
    expect(await cat.schemaOwner(a.schema)).toBe('postgres');
    // The data plane refuses the deleted tenant by host before any transaction.
    await request(platform.dataPlaneUrl)
      .get('/api/tenant')
      .set('Host', platform.hostOf(a.slug))
      .expect(404);
  });

  it("reports the reserve and its batches in the worker's metrics", async () => {
    const registry = platform.worker!.get(MetricsRegistry).registry;
    const text = await registry.metrics();
    expect(text).toContain('tenant_role_reserve{state="ready"} 4');
    expect(text).toContain('tenant_role_reserve{state="unready"} 0');
    expect(text).toContain('tenant_roles_retired_pending 0');
    // Two batches made (4, then 2), one deleted pair dropped.
    expect(text).toContain('tenant_roles_batched_total{action="created"} 6');
    expect(text).toContain('tenant_roles_batched_total{action="dropped"} 2');
  });

  it('completes a batch a worker left half made (reserved ids whose roles are missing)', async () => {
    const ids = [randomUUID(), randomUUID()];
    await db.query(
      `INSERT INTO platform.tenant_role_reserve (tenant_id, cluster, created_at)
       SELECT id, 'main', now() FROM unnest($1::uuid[]) AS s(id)`,
      [ids],
    );
    // The worker died after making the first role and before marking anything ready. (The
    // comment lets the test database's clean-up find the role.)
    await db.query(
      `CREATE ROLE ${schemaOf(ids[0])} NOLOGIN NOINHERIT;
       COMMENT ON ROLE ${schemaOf(ids[0])} IS '${TENANT_ROLE_COMMENT_PREFIX}${platform.database.name}; tenant=${ids[0]}'`,
    );

    await waitFor(async () => {
      const rows = await cat.reserve();
      return ids.every((id) => rows.some((row) => row.tenant_id === id && row.ready));
    }, 'the half-made batch marked ready');
    const roles = await cat.roleRows(ids.map(schemaOf));
    expect(roles.map((role) => role.name)).toEqual(ids.map(schemaOf).sort());
    const made = roles.find((role) => role.name === schemaOf(ids[1]));
    expect(made?.memberships).toMatch(new RegExp(`:${LOGIN}$`));
  });

  it('gives tenants whose roles went missing their roles back at start, in one commit', async () => {
    const lost = await Promise.all([
      platform.createTenant('reserve-c'),
      platform.createTenant('reserve-d'),
    ]);
    for (const tenant of lost) {
      await db.query(
        `REASSIGN OWNED BY ${tenant.schema} TO CURRENT_USER; DROP OWNED BY ${tenant.schema};
         DROP ROLE ${tenant.schema}`,
      );
    }
    const schemas = lost.map((tenant) => tenant.schema);
    expect(await cat.roleRows(schemas)).toEqual([]);

    // What every control plane and worker start runs, under the registry's migration lock.
    const config = loadControlPlaneConfig(platform.controlPlaneEnv);
    await migratePlatformSchema(config.databaseUrl.reveal(), PLATFORM_MIGRATIONS, (registry) =>
      prepareTenantAccess(registry, config),
    );

    const roles = await cat.roleRows(schemas);
    expect(roles.map((role) => role.name)).toEqual([...schemas].sort());
    expect(new Set(roles.map((role) => role.role)).size).toBe(1);
    for (const tenant of lost) expect(await cat.schemaOwner(tenant.schema)).toBe(tenant.schema);
    const token = await platform.signIn(lost[0].slug);
    await request(platform.dataPlaneUrl)
      .get('/api/projects')
      .set('Host', platform.hostOf(lost[0].slug))
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
  });

  it("keeps a cluster's queue when dropping there fails, and still drops the others'", async () => {
    const stranded = schemaOf(randomUUID());
    await db.query(
      `INSERT INTO platform.retired_tenant_roles (role_name, cluster) VALUES ($1, 'gone-cluster')`,
      [stranded],
    );
    const doomed = await platform.createTenant('reserve-e');
    await platform
      .api()
      .delete(`/v1/tenants/${doomed.id}`)
      .set('Authorization', `Bearer ${platform.adminToken}`)
      .expect(200);
    await waitFor(
      async () => (await cat.roleRows([doomed.schema])).length === 0,
      "the deleted tenant's role dropped",
    );
    const { rows } = await db.query<{ role_name: string }>(
      'SELECT role_name FROM platform.retired_tenant_roles',
    );
    expect(rows).toEqual([{ role_name: stranded }]);
  });
});

describe('tenant role reserve with a warm pool', () => {
  let platform: RunningPlatform;
  let db: Client;
  let cat: ReturnType<typeof catalog>;

  beforeAll(async () => {
    ({ platform, db, cat } = await startWith({
      TENANT_ROLE_RESERVE_SIZE: '3',
      TENANT_ROLE_UPKEEP_INTERVAL_MS: '200',
      WARM_POOL_SIZE: '1',
      WARM_POOL_REFILL_INTERVAL_MS: '200',
    }));
  });
  afterAll(() => stop(platform, db));

  const pooled = async () =>
    (
      await db.query<{ id: string }>(
        "SELECT id FROM platform.tenants WHERE status = 'pooled' ORDER BY created_at",
      )
    ).rows;

  it('prepares the next pooled schema on the oldest reserved role', async () => {
    const [first] = await waitFor(async () => {
      const rows = await pooled();
      return rows.length === 1 && rows;
    }, 'a pooled schema');
    const reserve = await waitFor(async () => {
      const rows = await cat.reserve();
      return rows.length > 0 && rows.every((row) => row.ready) && rows;
    }, 'a ready reserve');
    const [oldest] = reserve;
    const [before] = await cat.roleRows([schemaOf(oldest.tenant_id)]);

    const tenant = await platform.createTenant('reserve-pool');
    expect(tenant.id).toBe(first.id);

    const [next] = await waitFor(async () => {
      const rows = await pooled();
      return rows.length === 1 && rows[0].id !== first.id && rows;
    }, 'the pool refilled');
    expect(next.id).toBe(oldest.tenant_id);
    expect(await cat.roleRows([schemaOf(next.id)])).toEqual([before]);
    expect(await cat.schemaOwner(schemaOf(next.id))).toBe(schemaOf(next.id));
  });
});

describe('tenant role reserve, emptied faster than it refills', () => {
  let platform: RunningPlatform;
  let db: Client;
  let cat: ReturnType<typeof catalog>;

  beforeAll(async () => {
    ({ platform, db, cat } = await startWith({
      TENANT_ROLE_RESERVE_SIZE: '2',
      // One round at start and no other during the test.
      TENANT_ROLE_UPKEEP_INTERVAL_MS: '3600000',
    }));
  });
  afterAll(() => stop(platform, db));

  const misses = async () => {
    const text = await platform.controlPlane.get(MetricsRegistry).registry.metrics();
    return Number(/^tenant_role_reserve_misses_total (\d+)$/m.exec(text)?.[1]);
  };

  it('makes its own role when the reserve is empty, and counts it as a miss', async () => {
    const reserved = await cat.readyReserve(2);
    const first = await platform.createTenant('reserve-g1');
    const second = await platform.createTenant('reserve-g2');
    expect([first.id, second.id]).toEqual(reserved.map((row) => row.tenant_id));
    expect(await misses()).toBe(0);

    const third = await platform.createTenant('reserve-g3');
    expect(reserved.map((row) => row.tenant_id)).not.toContain(third.id);
    expect(await misses()).toBe(1);
    const [role] = await cat.roleRows([third.schema]);
    expect(role.memberships).toMatch(new RegExp(`:${LOGIN}$`));
    expect(await cat.schemaOwner(third.schema)).toBe(third.schema);
  });
});
