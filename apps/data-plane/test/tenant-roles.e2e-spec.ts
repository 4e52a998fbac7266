/**
 * Per-tenant database roles, from inside the real data plane: a tenant transaction acts as the
 * tenant's own role, so a query that reaches past its schema is refused by PostgreSQL itself,
 * directly and behind PgBouncer in transaction mode.
 */
import { Client } from 'pg';
import request from 'supertest';
import { TenantTransactionRunner } from '@platform/database';
import { runInTenant, type TenantRef } from '@platform/tenancy';
import { startPgBouncer, type PgBouncerHandle } from '@platform/testing';
import {
  startPlatform,
  type RunningPlatform,
  type TenantSummary,
} from '../../../test/platform-harness';

const PERMISSION_DENIED = '42501';

interface Failure {
  code?: string;
  message: string;
}

async function failure(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected the statement to be refused');
}

const ref = (tenant: TenantSummary): TenantRef => ({
  id: tenant.id,
  slug: tenant.slug,
  schemaName: tenant.schema,
  cluster: 'main',
});

describe.each([
  ['directly', false],
  ['behind PgBouncer (transaction mode)', true],
])('tenant roles in the data plane, %s', (_label, viaBouncer) => {
  let platform: RunningPlatform;
  let bouncer: PgBouncerHandle | undefined;
  let admin: Client;
  let a: TenantSummary;
  let b: TenantSummary;
  let runner: TenantTransactionRunner;

  /** A raw statement inside tenant A's request context, through the data plane's own runner. */
  const asA = <T>(sql: string, params: unknown[] = []) =>
    runInTenant(ref(a), () => runner.query<T & Record<string, unknown>>(sql, params));

  beforeAll(async () => {
    platform = await startPlatform({
      ...(viaBouncer
        ? {
            dataPlaneDatabaseUrl: async (database) => {
              bouncer = await startPgBouncer({ databaseUrl: database.url, poolSize: 2 });
              return bouncer.url;
            },
          }
        : {}),
    });
    [a, b] = await Promise.all([
      platform.createTenant(`roles-a-${viaBouncer ? 'pgb' : 'pg'}`),
      platform.createTenant(`roles-b-${viaBouncer ? 'pgb' : 'pg'}`),
    ]);
    runner = platform.dataPlane.get(TenantTransactionRunner);
    admin = new Client({ connectionString: platform.database.url });
    await admin.connect();
    const token = await platform.signIn(b.slug);
    await request(platform.dataPlaneUrl)
      .post('/api/projects')
      .set('Host', platform.hostOf(b.slug))
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'b secret project' })
      .expect(201);
  });

  afterAll(async () => {
    await admin?.end();
    await platform?.stop();
    await bouncer?.stop();
  });

  it("acts as the tenant's own role, which owns its schema", async () => {
    const [who] = await asA<{ role: string; owner: string }>(
      `SELECT current_user AS role,
              (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1) AS owner`,
      [a.schema],
    );
    expect(who).toEqual({ role: a.schema, owner: a.schema });
  });

  it('reads its own schema, also schema-qualified', async () => {
    const rows = await asA<{ n: number }>(`SELECT count(*)::int AS n FROM "${a.schema}".projects`);
    expect(rows).toEqual([{ n: 0 }]);
  });

  it("is refused another tenant's schema, schema-qualified", async () => {
    const error = await failure(asA(`SELECT name FROM "${b.schema}".projects`));
    expect(error.code).toBe(PERMISSION_DENIED);
    expect(error.message).toMatch(/permission denied for schema/);
    const write = await failure(asA(`INSERT INTO "${b.schema}".projects (name) VALUES ('from a')`));
    expect(write.code).toBe(PERMISSION_DENIED);
    const { rows } = await admin.query(`SELECT name FROM "${b.schema}".projects`);
    expect(rows).toEqual([{ name: 'b secret project' }]);
  });

  it('is refused the platform registry', async () => {
    for (const table of ['tenants', 'tenant_domains', 'certificates', 'operators', 'outbox']) {
      const error = await failure(asA(`SELECT * FROM platform.${table} LIMIT 1`));
      expect(error.code).toBe(PERMISSION_DENIED);
    }
  });

  it("is refused a switch to another tenant's role, every way it can be asked", async () => {
    for (const sql of [
      `SET ROLE "${b.schema}"`,
      `SET LOCAL ROLE "${b.schema}"`,
      '/* hidden */ RESET ROLE',
      `SET SESSION AUTHORIZATION "${b.schema}"`,
      'COMMIT',
      `DO $$ BEGIN EXECUTE 'SET ROLE "${b.schema}"'; END $$`,
    ]) {
      const error = await failure(asA(sql));
      expect({ sql, code: error.code }).toEqual({ sql, code: PERMISSION_DENIED });
    }
    // From inside an expression the database refuses it: set_config() is not the tenant's.
    const error = await failure(asA(`SELECT set_config('role', $1, true)`, [b.schema]));
    expect(error.code).toBe(PERMISSION_DENIED);
    expect(error.message).toMatch(/permission denied for function set_config/);
    // And the connection goes back clean: the next transaction of A is still A.
    expect(await asA<{ role: string }>('SELECT current_user AS role')).toEqual([
      { role: a.schema },
    ]);
  });

  it('logs in as a role that owns nothing and reads no tenant data without switching', async () => {
    const login = platform.dataPlane.get(TenantTransactionRunner);
    expect(login).toBe(runner);
    const { rows } = await admin.query<{ super: boolean; inherit: boolean; owns: number }>(
      `SELECT rolsuper AS super, rolinherit AS inherit,
              (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owns
         FROM pg_roles r WHERE rolname = 'platform_data_plane'`,
    );
    expect(rows).toEqual([{ super: false, inherit: false, owns: 0 }]);
    const direct = new Client({
      connectionString: platform.database.url.replace('postgres@', 'platform_data_plane@'),
    });
    await direct.connect();
    try {
      const error = await failure(direct.query(`SELECT * FROM "${a.schema}".projects`));
      expect(error.code).toBe(PERMISSION_DENIED);
    } finally {
      await direct.end();
    }
  });

  it("drops a deleted tenant's role, keeping its schema with the platform", async () => {
    const doomed = await platform.createTenant(`roles-gone-${viaBouncer ? 'pgb' : 'pg'}`);
    await platform
      .api()
      .delete(`/v1/tenants/${doomed.id}`)
      .set('Authorization', `Bearer ${platform.adminToken}`)
      .expect(200);
    const { rows } = await admin.query<{ role: boolean; owner: string }>(
      `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS role,
              (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = $1) AS owner`,
      [doomed.schema],
    );
    expect(rows).toEqual([{ role: false, owner: 'postgres' }]);
  });
});
