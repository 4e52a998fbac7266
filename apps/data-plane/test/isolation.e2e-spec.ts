/**
 * Isolation, with the data plane connected straight to PostgreSQL: under concurrent
 * mixed-tenant load no response carries another tenant's rows, no row lands in another tenant's
 * schema, and a request that fails inside its transaction leaves no tenant path behind on the
 * pooled connection the next request gets.
 */
import type { Pool, PoolClient } from 'pg';
import { Client } from 'pg';
import { ClusterConnections } from '@platform/database';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';
import {
  HostClient,
  auditTenantSchemas,
  describeLoad,
  prepareTenants,
  runMixedLoad,
  tenantSlugs,
  tokenSubject,
  type LoadTenant,
  type ProjectRow,
} from './isolation-load';

const TENANTS = 20;
const REQUESTS = 2_400;
const CONCURRENCY = 100;

/** What a brand-new session on this database reports: the server defaults. */
async function serverDefaults(
  databaseUrl: string,
): Promise<{ searchPath: string; statementTimeout: string }> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const path = await db.query<{ search_path: string }>('SHOW search_path');
    const timeout = await db.query<{ statement_timeout: string }>('SHOW statement_timeout');
    return {
      searchPath: path.rows[0].search_path,
      statementTimeout: timeout.rows[0].statement_timeout,
    };
  } finally {
    await db.end();
  }
}

/** Who every pooled connection is between transactions: the data plane's login, never a tenant. */
const DATA_PLANE_LOGIN = 'platform_data_plane';

interface SessionState {
  pid: number;
  role: string;
  searchPath: string;
  statementTimeout: string;
  projectsVisible: string | null;
  inOldTransaction: boolean;
}

/** What a pooled connection carries when it is handed out, read with plain session queries. */
async function sessionState(client: PoolClient): Promise<SessionState> {
  const { rows } = await client.query<{
    pid: number;
    role: string;
    search_path: string;
    statement_timeout: string;
    projects: string | null;
    in_old_transaction: boolean;
  }>(
    `SELECT pg_backend_pid() AS pid,
            current_user AS role,
            current_setting('search_path') AS search_path,
            current_setting('statement_timeout') AS statement_timeout,
            to_regclass('projects')::text AS projects,
            (SELECT xact_start <> query_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
              AS in_old_transaction`,
  );
  const row = rows[0];
  return {
    pid: row.pid,
    role: row.role,
    searchPath: row.search_path,
    statementTimeout: row.statement_timeout,
    projectsVisible: row.projects,
    inOldTransaction: row.in_old_transaction,
  };
}

describe('data plane isolation under concurrent mixed-tenant load (direct PostgreSQL)', () => {
  let platform: RunningPlatform;
  let client: HostClient;
  let tenants: LoadTenant[];

  beforeAll(async () => {
    platform = await startPlatform();
    client = new HostClient(platform.dataPlaneUrl, CONCURRENCY);
    tenants = await prepareTenants(platform, client, tenantSlugs('iso', TENANTS), 3);
  });

  afterAll(async () => {
    client?.close();
    await platform?.stop();
  });

  it(`serves ${REQUESTS} interleaved requests for ${TENANTS} tenants with zero foreign rows`, async () => {
    const clusters = platform.dataPlane.get(ClusterConnections);
    // Fewer pooled connections than tenants: connections must serve several tenants each.
    const lanes = clusters.tenantPools('main');
    const connections = lanes.reduce((sum, lane) => sum + lane.options.max, 0);
    expect(connections).toBeLessThan(TENANTS);
    const tenantsPerLane = new Map<Pool, number>();
    for (const tenant of tenants) {
      const lane = clusters.tenantPool('main', tenant.id);
      tenantsPerLane.set(lane, (tenantsPerLane.get(lane) ?? 0) + 1);
    }
    expect([...tenantsPerLane].some(([lane, count]) => count > lane.options.max)).toBe(true);

    const report = await runMixedLoad(client, tenants, {
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      seed: 1,
      runTag: 'load',
    });
    const audit = await auditTenantSchemas(platform.database.url, tenants);
    console.log(describeLoad('direct PostgreSQL', report, audit));

    expect(report.requestsSent).toBe(REQUESTS);
    expect(report.maxInFlight).toBe(CONCURRENCY);
    expect(report.byKind.listProjects).toBeGreaterThan(REQUESTS * 0.3);
    expect(report.byKind.createProject).toBeGreaterThan(REQUESTS * 0.2);
    expect(report.byKind.tenantProfile).toBeGreaterThan(REQUESTS * 0.15);
    expect(report.non2xx.slice(0, 5)).toEqual([]);
    expect(report.malformed.slice(0, 5)).toEqual([]);
    // The quality bar: zero responses carrying another tenant's rows.
    expect(report.foreignRows.slice(0, 5)).toEqual([]);
    expect(report.foreignRows.length).toBe(0);
    // Lists actually returned rows: the check above was not vacuous.
    expect(report.rowsChecked).toBeGreaterThan(REQUESTS * 5);

    // Every tenant's table holds exactly the rows the API confirmed for it, and nothing else.
    expect(audit.foreignRows).toEqual([]);
    expect(audit.mismatches).toEqual([]);
    const expectedRows = tenants.reduce((sum, tenant) => sum + tenant.projectIds.size, 0);
    expect(audit.rowsAudited).toBe(expectedRows);
    expect(expectedRows).toBe(TENANTS * 3 + report.byKind.createProject);
  });

  it('hands back every pooled connection with the server-default search_path after the load', async () => {
    const defaults = await serverDefaults(platform.database.url);
    const clusters = platform.dataPlane.get(ClusterConnections);
    // Every pool of the cluster: the tenant lanes and the one registry lookups use.
    const pools = [...new Set([...clusters.tenantPools('main'), clusters.pool('main')])];
    const open = pools.reduce((sum, pool) => sum + pool.totalCount, 0);
    expect(open).toBeGreaterThan(1);
    // Check out every connection each pool holds at once, so none is skipped.
    const borrowed = await Promise.all(
      pools.flatMap((pool) => Array.from({ length: pool.totalCount }, () => pool.connect())),
    );
    try {
      const states = await Promise.all(borrowed.map(sessionState));
      expect(new Set(states.map((state) => state.pid)).size).toBe(open);
      for (const state of states) {
        expect(state).toEqual({
          pid: state.pid,
          role: DATA_PLANE_LOGIN,
          searchPath: defaults.searchPath,
          statementTimeout: defaults.statementTimeout,
          projectsVisible: null,
          inOldTransaction: false,
        });
      }
    } finally {
      for (const connection of borrowed) connection.release();
    }
  });
});

describe('a request that fails mid-transaction leaves no tenant path on its connection', () => {
  let platform: RunningPlatform;
  let client: HostClient;
  let pool: Pool;
  let victim: { slug: string; schema: string; host: string; token: string; userId: string };
  let other: { slug: string; host: string; token: string };
  let otherSchema: string;
  let defaults: { searchPath: string; statementTimeout: string };

  beforeAll(async () => {
    // One pooled connection: whatever a failed request leaves on it, the next request gets. One
    // lane, so both tenants (and the registry lookups) share it; lanes have their own suite below.
    platform = await startPlatform({
      dataPlaneEnv: { DATABASE_POOL_SIZE: '1', DATABASE_POOL_LANES: '1' },
    });
    client = new HostClient(platform.dataPlaneUrl, 10);
    const [a, b] = await Promise.all([
      platform.createTenant('fail-a'),
      platform.createTenant('fail-b'),
    ]);
    const [tokenA, tokenB] = await Promise.all([
      platform.signIn('fail-a'),
      platform.signIn('fail-b'),
    ]);
    victim = {
      slug: a.slug,
      schema: a.schema,
      host: platform.hostOf(a.slug),
      token: tokenA,
      userId: tokenSubject(tokenA),
    };
    other = { slug: b.slug, host: platform.hostOf(b.slug), token: tokenB };
    otherSchema = b.schema;
    for (const [tenant, name] of [
      [victim, 'fail-a-p1'],
      [other, 'fail-b-p1'],
      [other, 'fail-b-p2'],
    ] as const) {
      const created = await client.send('POST', '/api/projects', tenant.host, {
        token: tenant.token,
        json: { name },
      });
      if (created.status !== 201)
        throw new Error(`seed ${name}: ${created.status} ${created.text}`);
    }
    const clusters = platform.dataPlane.get(ClusterConnections);
    pool = clusters.pool('main');
    expect(clusters.tenantPools('main')).toEqual([pool]);
    defaults = await serverDefaults(platform.database.url);
  });

  afterAll(async () => {
    client?.close();
    await platform?.stop();
  });

  it('runs the data plane on exactly one pooled connection', async () => {
    expect(pool.options.max).toBe(1);
    expect(pool.totalCount).toBe(1);
  });

  it('answers an INSERT that fails in SQL with a bare 500, then reuses the connection clean', async () => {
    const before = await pool.connect();
    const pidBefore = (await sessionState(before)).pid;
    before.release();

    // The token stays valid, but its user is gone: the INSERT's created_by FK fails in SQL,
    // after BEGIN and SET LOCAL search_path have run on the pooled connection.
    const db = new Client({ connectionString: platform.database.url });
    await db.connect();
    try {
      const deleted = await db.query(`DELETE FROM "${victim.schema}".users WHERE id = $1`, [
        victim.userId,
      ]);
      expect(deleted.rowCount).toBe(1);
    } finally {
      await db.end();
    }

    const failed = await client.send('POST', '/api/projects', victim.host, {
      token: victim.token,
      json: { name: 'fail-a-doomed', description: 'violates the created_by foreign key' },
    });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({
      error: 'internal_error',
      message: expect.any(String),
      requestId: expect.any(String),
    });
    expect(failed.text).not.toMatch(
      /insert|select|projects|users|foreign key|violates|constraint|t_[0-9a-f]{32}|search_path|at .*\.ts/i,
    );

    // The same (only) connection, borrowed straight after: no tenant path, no open transaction.
    const after = await pool.connect();
    try {
      const state = await sessionState(after);
      expect(state).toEqual({
        pid: pidBefore,
        role: DATA_PLANE_LOGIN,
        searchPath: defaults.searchPath,
        statementTimeout: defaults.statementTimeout,
        projectsVisible: null,
        inOldTransaction: false,
      });
    } finally {
      after.release();
    }
    expect(pool.totalCount).toBe(1);
  });

  it('serves the next request, for another tenant, on that connection with only its own rows', async () => {
    const list = await client.send('GET', '/api/projects?limit=100', other.host, {
      token: other.token,
    });
    expect(list.status).toBe(200);
    const names = (list.body as { items: ProjectRow[] }).items.map((row) => row.name).sort();
    expect(names).toEqual(['fail-b-p1', 'fail-b-p2']);
  });

  it('keeps the failing tenant consistent: the failed INSERT left no row anywhere', async () => {
    const db = new Client({ connectionString: platform.database.url });
    await db.connect();
    try {
      const { rows } = await db.query<{ schema: string }>(
        `SELECT n.nspname AS schema
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relname = 'projects' AND c.relkind = 'r' AND n.nspname LIKE 't\\_%'`,
      );
      // One projects table per tenant schema.
      expect(rows.map((row) => row.schema).sort()).toEqual([victim.schema, otherSchema].sort());
      const all: string[] = [];
      for (const { schema } of rows) {
        const projects = await db.query<{ name: string }>(`SELECT name FROM "${schema}".projects`);
        all.push(...projects.rows.map((row) => row.name));
      }
      expect(all.sort()).toEqual(['fail-a-p1', 'fail-b-p1', 'fail-b-p2']);
    } finally {
      await db.end();
    }
  });

  it('survives failures interleaved with other tenants’ requests on the single connection', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 15; i++) {
      const failed = await client.send('POST', '/api/projects', victim.host, {
        token: victim.token,
        json: { name: `fail-a-doomed-${i}` },
      });
      outcomes.push(`fail:${failed.status}`);
      const list = await client.send('GET', '/api/projects?limit=100', other.host, {
        token: other.token,
      });
      const names = (list.body as { items?: ProjectRow[] }).items?.map((row) => row.name) ?? [];
      outcomes.push(
        `list:${list.status}:${names.every((name) => name.startsWith('fail-b-')) && names.length === 2}`,
      );
      const profile = await client.send('GET', '/api/tenant', other.host);
      outcomes.push(`tenant:${(profile.body as { slug?: string }).slug}`);
    }
    expect(new Set(outcomes)).toEqual(new Set(['fail:500', 'list:200:true', 'tenant:fail-b']));

    const connection = await pool.connect();
    try {
      const state = await sessionState(connection);
      expect(state.role).toBe(DATA_PLANE_LOGIN);
      expect(state.searchPath).toBe(defaults.searchPath);
      expect(state.projectsVisible).toBeNull();
    } finally {
      connection.release();
    }
  });

  it('negative control: the same probe does see a session-level SET left on the connection', async () => {
    const leaky = await pool.connect();
    const pid = (await sessionState(leaky)).pid;
    // Session-level, as a careless SET ROLE / SET search_path would leave them.
    await leaky.query(`SET search_path TO "${victim.schema}"`);
    await leaky.query(`SET ROLE "${victim.schema}"`);
    leaky.release();
    const next = await pool.connect();
    try {
      const state = await sessionState(next);
      expect(state.pid).toBe(pid);
      expect(state.role).toBe(victim.schema);
      expect(state.searchPath).toBe(victim.schema);
      expect(state.projectsVisible).toBe('projects');
      // The path alone shows nothing: the login has no privilege on any tenant's schema.
      await next.query('RESET ROLE');
      expect((await sessionState(next)).projectsVisible).toBeNull();
    } finally {
      await next.query('RESET ROLE');
      await next.query('RESET search_path');
      next.release();
    }
    const clean = await pool.connect();
    try {
      expect((await sessionState(clean)).searchPath).toBe(defaults.searchPath);
    } finally {
      clean.release();
    }
  });
});

describe('data plane isolation with tenant traffic split over pool lanes', () => {
  const LANES = 4;
  let platform: RunningPlatform;
  let client: HostClient;
  let tenants: LoadTenant[];

  beforeAll(async () => {
    platform = await startPlatform({
      dataPlaneEnv: { DATABASE_POOL_LANES: String(LANES), DATABASE_POOL_SIZE: '8' },
    });
    client = new HostClient(platform.dataPlaneUrl, CONCURRENCY);
    tenants = await prepareTenants(platform, client, tenantSlugs('lane', TENANTS), 3);
  });

  afterAll(async () => {
    client?.close();
    await platform?.stop();
  });

  it('keeps every tenant on its own lane and serves the load with zero foreign rows', async () => {
    const clusters = platform.dataPlane.get(ClusterConnections);
    const lanes = clusters.tenantPools('main');
    expect(lanes).toHaveLength(LANES);
    expect(new Set(lanes).size).toBe(LANES);
    // A tenant always maps to the same lane.
    for (const tenant of tenants) {
      expect(clusters.tenantPool('main', tenant.id)).toBe(clusters.tenantPool('main', tenant.id));
    }

    const report = await runMixedLoad(client, tenants, {
      requests: 1_200,
      concurrency: CONCURRENCY,
      seed: 3,
      runTag: 'lanes',
    });
    const audit = await auditTenantSchemas(platform.database.url, tenants);
    expect(report.non2xx.slice(0, 5)).toEqual([]);
    expect(report.foreignRows).toEqual([]);
    expect(report.rowsChecked).toBeGreaterThan(1_200 * 3);
    expect(audit.foreignRows).toEqual([]);
    expect(audit.mismatches).toEqual([]);

    // Traffic really was spread: more than one lane opened connections.
    expect(lanes.filter((lane) => lane.totalCount > 0).length).toBeGreaterThan(1);
    // And every connection of every lane goes back without a tenant path.
    const defaults = await serverDefaults(platform.database.url);
    for (const lane of lanes) {
      const borrowed = await Promise.all(
        Array.from({ length: lane.totalCount }, () => lane.connect()),
      );
      try {
        for (const state of await Promise.all(borrowed.map(sessionState))) {
          expect(state.role).toBe(DATA_PLANE_LOGIN);
          expect(state.searchPath).toBe(defaults.searchPath);
          expect(state.projectsVisible).toBeNull();
          expect(state.inOldTransaction).toBe(false);
        }
      } finally {
        borrowed.forEach((connection) => connection.release());
      }
    }
  });
});
