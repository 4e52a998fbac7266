/**
 * Isolation with the data plane behind PgBouncer in transaction mode, where server connections
 * are shared between clients transaction by transaction and session state is never reset: the
 * same mixed-tenant load as isolation.e2e-spec.ts must return zero foreign rows. A negative
 * control shows the setup would catch a leak: a session-level SET through the same PgBouncer is
 * seen by other clients, while the data plane's transaction-local path is not.
 */
import { Client } from 'pg';
import { Secret } from '@platform/config';
import {
  ClusterConnections,
  TenantTransactionRunner,
  enterTenantStatement,
} from '@platform/database';
import { TenantContext } from '@platform/tenancy';
import { startPgBouncer, type PgBouncerHandle } from '@platform/testing';
import { startPlatform, type RunningPlatform } from '../../../test/platform-harness';
import {
  HostClient,
  auditTenantSchemas,
  describeLoad,
  prepareTenants,
  runMixedLoad,
  tenantSlugs,
  type LoadTenant,
} from './isolation-load';

const TENANTS = 20;
const REQUESTS = 2_400;
const CONCURRENCY = 100;
const BOUNCER_POOL_SIZE = 2;

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

interface ServerState {
  pid: number;
  searchPath: string;
  projects: string | null;
}

const STATE_SQL = `SELECT pg_backend_pid() AS pid, current_setting('search_path') AS "searchPath",
                          to_regclass('projects')::text AS projects`;

/**
 * Pins every server connection of a PgBouncer pool of `size` at once (one open transaction per
 * client), runs `inspect` on each, then commits. PgBouncer hands out idle servers before opening
 * new ones, so a server that carries leaked session state is necessarily among them.
 */
async function onEveryServer<T>(
  url: string,
  size: number,
  inspect: (client: Client) => Promise<T>,
): Promise<T[]> {
  const clients = await Promise.all(Array.from({ length: size }, () => connect(url)));
  try {
    await Promise.all(clients.map((client) => client.query('BEGIN')));
    const results = await Promise.all(clients.map(inspect));
    await Promise.all(clients.map((client) => client.query('COMMIT')));
    return results;
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

async function serverState(client: Client): Promise<ServerState> {
  return (await client.query<ServerState>(STATE_SQL)).rows[0];
}

describe('data plane isolation behind PgBouncer (transaction mode)', () => {
  let bouncer: PgBouncerHandle | undefined;
  let platform: RunningPlatform;
  let client: HostClient;
  let tenants: LoadTenant[];
  let defaultPath: string;

  beforeAll(async () => {
    platform = await startPlatform({
      dataPlaneDatabaseUrl: async (database) => {
        bouncer = await startPgBouncer({
          databaseUrl: database.url,
          poolSize: BOUNCER_POOL_SIZE,
          poolMode: 'transaction',
        });
        return bouncer.url;
      },
      dataPlaneEnv: { DATABASE_POOL_SIZE: '20' },
    });
    client = new HostClient(platform.dataPlaneUrl, CONCURRENCY);
    tenants = await prepareTenants(platform, client, tenantSlugs('pgb', TENANTS), 3);
    const direct = await connect(platform.database.url);
    try {
      defaultPath = (await direct.query<{ search_path: string }>('SHOW search_path')).rows[0]
        .search_path;
    } finally {
      await direct.end();
    }
  });

  afterAll(async () => {
    client?.close();
    try {
      await platform?.stop();
    } finally {
      await bouncer?.stop();
    }
  });

  it('really sends the data plane through PgBouncer, with more client connections than servers', async () => {
    const clusters = platform.dataPlane.get(ClusterConnections);
    const pools = [...new Set([...clusters.tenantPools('main'), clusters.pool('main')])];
    for (const pool of pools) {
      const options = pool.options as { port?: number; connectionString?: string };
      const port = options.port ?? Number(new URL(options.connectionString ?? 'postgres://x').port);
      expect(port).toBe(bouncer!.port);
    }
    const tenantConnections = clusters
      .tenantPools('main')
      .reduce((sum, pool) => sum + pool.options.max, 0);
    expect(tenantConnections).toBeGreaterThanOrEqual(20);
  });

  it(`serves ${REQUESTS} interleaved requests for ${TENANTS} tenants over ${BOUNCER_POOL_SIZE} server connections with zero foreign rows`, async () => {
    const report = await runMixedLoad(client, tenants, {
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      seed: 2,
      runTag: 'load',
    });
    const audit = await auditTenantSchemas(platform.database.url, tenants);
    console.log(
      describeLoad(`PgBouncer transaction mode, pool ${BOUNCER_POOL_SIZE}`, report, audit),
    );

    expect(report.requestsSent).toBe(REQUESTS);
    expect(report.maxInFlight).toBe(CONCURRENCY);
    expect(report.non2xx.slice(0, 5)).toEqual([]);
    expect(report.malformed.slice(0, 5)).toEqual([]);
    expect(report.foreignRows.slice(0, 5)).toEqual([]);
    expect(report.foreignRows.length).toBe(0);
    expect(report.rowsChecked).toBeGreaterThan(REQUESTS * 5);
    // The data plane had many connections open to PgBouncer, all multiplexed onto 2 servers.
    const open = platform.dataPlane
      .get(ClusterConnections)
      .tenantPools('main')
      .reduce((sum, pool) => sum + pool.totalCount, 0);
    expect(open).toBeGreaterThan(BOUNCER_POOL_SIZE);
    // PgBouncer 1.18 in transaction mode keeps no prepared statement per client: the data plane
    // (DATABASE_PREPARED_STATEMENTS left at its default) met a session without its statement, or
    // one that had it already, answered that request unprepared and stopped preparing.
    expect(platform.dataPlane.get(TenantTransactionRunner).usesPreparedStatements).toBe(false);

    expect(audit.foreignRows).toEqual([]);
    expect(audit.mismatches).toEqual([]);
    expect(audit.rowsAudited).toBe(TENANTS * 3 + report.byKind.createProject);
  });

  it('leaves every PgBouncer server connection on the default search_path after the load', async () => {
    // A fresh client's plain SHOW, as the SPEC recipe puts it...
    const fresh = await connect(bouncer!.url);
    try {
      expect(
        (await fresh.query<{ search_path: string }>('SHOW search_path')).rows[0].search_path,
      ).toBe(defaultPath);
    } finally {
      await fresh.end();
    }
    // ...and every server connection in the pool, pinned at once so none is missed.
    const states = await onEveryServer(bouncer!.url, BOUNCER_POOL_SIZE, serverState);
    expect(new Set(states.map((state) => state.pid)).size).toBe(BOUNCER_POOL_SIZE);
    for (const state of states) {
      expect(state).toEqual({ pid: state.pid, searchPath: defaultPath, projects: null });
    }
  });

  it('negative control: a session-level SET through the same PgBouncer leaks to another client', async () => {
    const victim = tenants[0];
    const setter = await connect(bouncer!.url);
    try {
      await setter.query(`SET search_path TO "${victim.schema}"`);
    } finally {
      await setter.end();
    }
    const seen = await onEveryServer(bouncer!.url, BOUNCER_POOL_SIZE, async (other) => {
      const state = await serverState(other);
      if (state.searchPath !== victim.schema) return { state, rows: [] as string[] };
      // Unqualified, as a tenant-unaware query would be: it reads the victim's table.
      const rows = (await other.query<{ name: string }>('SELECT name FROM projects')).rows.map(
        (r) => r.name,
      );
      // Undo the leak for the tests that follow (a non-LOCAL SET outlives this transaction).
      await other.query('SET search_path TO DEFAULT');
      return { state, rows };
    });
    const leaked = seen.filter(({ state }) => state.searchPath === victim.schema);
    expect(leaked).toHaveLength(1);
    expect(leaked[0].state.projects).toBe('projects');
    expect(leaked[0].rows.length).toBe(victim.projectIds.size);
    expect(leaked[0].rows.every((name) => name.startsWith(`${victim.slug}-`))).toBe(true);

    const after = await onEveryServer(bouncer!.url, BOUNCER_POOL_SIZE, serverState);
    expect(after.map((state) => state.searchPath)).toEqual([defaultPath, defaultPath]);
  });

  it('stays isolated even when every PgBouncer server connection carries a foreign session path', async () => {
    // Poison both servers with tenant 0's path; the data plane must not depend on the default.
    const poison = tenants[0];
    await onEveryServer(bouncer!.url, BOUNCER_POOL_SIZE, (server) =>
      server.query(`SET search_path TO "${poison.schema}"`),
    );
    try {
      const poisoned = await onEveryServer(bouncer!.url, BOUNCER_POOL_SIZE, serverState);
      expect(poisoned.map((state) => state.searchPath)).toEqual([poison.schema, poison.schema]);

      const others = tenants.slice(1);
      const report = await runMixedLoad(client, others, {
        requests: 400,
        concurrency: 50,
        seed: 3,
        runTag: 'poisoned',
      });
      expect(report.non2xx.slice(0, 5)).toEqual([]);
      expect(report.foreignRows.slice(0, 5)).toEqual([]);
      expect(report.rowsChecked).toBeGreaterThan(400);
      const audit = await auditTenantSchemas(platform.database.url, tenants);
      expect(audit.foreignRows).toEqual([]);
      expect(audit.mismatches).toEqual([]);
    } finally {
      await onEveryServer(bouncer!.url, BOUNCER_POOL_SIZE, (server) =>
        server.query('SET search_path TO DEFAULT'),
      );
    }
  });
});

describe('PgBouncer with one server connection: SET leaks, transaction-local settings do not', () => {
  let platform: RunningPlatform;
  let single: PgBouncerHandle | undefined;
  let first: Client;
  let second: Client;
  let schemaA: string;
  let slugA: string;
  let defaultPath: string;

  beforeAll(async () => {
    platform = await startPlatform();
    const a = await platform.createTenant('single-a');
    schemaA = a.schema;
    slugA = a.slug;
    const token = await platform.signIn(slugA);
    const client = new HostClient(platform.dataPlaneUrl, 2);
    try {
      const response = await client.send('POST', '/api/projects', platform.hostOf(slugA), {
        token,
        json: { name: 'single-a-p1' },
      });
      if (response.status !== 201) throw new Error(`seed: ${response.status} ${response.text}`);
    } finally {
      client.close();
    }
    // A separate PgBouncer whose only server connection every client shares.
    single = await startPgBouncer({
      databaseUrl: platform.database.url,
      poolSize: 1,
      poolMode: 'transaction',
    });
    first = await connect(single.url);
    second = await connect(single.url);
    defaultPath = (await second.query<{ search_path: string }>('SHOW search_path')).rows[0]
      .search_path;
  });

  afterAll(async () => {
    await first?.end().catch(() => undefined);
    await second?.end().catch(() => undefined);
    try {
      await platform?.stop();
    } finally {
      await single?.stop();
    }
  });

  const showPath = async (client: Client): Promise<string> =>
    (await client.query<{ search_path: string }>('SHOW search_path')).rows[0].search_path;

  it('shows a session-level SET search_path from one client to the next (the leak it would catch)', async () => {
    await first.query(`SET search_path TO "${schemaA}"`);
    try {
      expect(await showPath(second)).toBe(schemaA);
      const rows = await second.query<{ name: string }>('SELECT name FROM projects');
      expect(rows.rows.map((row) => row.name)).toEqual(['single-a-p1']);
    } finally {
      await first.query('RESET search_path');
    }
    expect(await showPath(second)).toBe(defaultPath);
  });

  it('does not show the settings made the way the tenant transaction helper makes them', async () => {
    const whoAndWhere = async (client: Client) =>
      (
        await client.query<{ role: string; path: string }>(
          "SELECT current_user AS role, current_setting('search_path') AS path",
        )
      ).rows[0];
    const login = await whoAndWhere(second);
    await first.query(`BEGIN; ${enterTenantStatement({ schemaName: schemaA }, 15_000)}`);
    expect(await whoAndWhere(first)).toEqual({ role: schemaA, path: schemaA });
    await first.query('COMMIT');
    expect(await whoAndWhere(second)).toEqual(login);
    expect(login.path).toBe(defaultPath);
  });

  it('does not show the path of the application’s own tenant transactions, committed or failed', async () => {
    // The real TenantTransactionRunner, on a pool that reaches PostgreSQL through this PgBouncer.
    const clusters = new ClusterConnections(
      [{ name: 'main', url: new Secret(single!.url) }],
      { size: 2, maxUses: 5000, maxLifetimeSeconds: 900 },
      'isolation-test',
    );
    await clusters.connect();
    try {
      const runner = new TenantTransactionRunner(clusters, {
        statementTimeoutMs: 15_000,
        preparedStatements: false,
        preparedStatementsPerConnection: 0,
      });
      const tenantA = {
        id: '00000000-0000-4000-8000-000000000000',
        slug: slugA,
        schemaName: schemaA,
        cluster: 'main',
      };
      const inside = await TenantContext.run(tenantA, () =>
        runner.run(async (tx) => {
          const [row] = await tx.query<{ search_path: string; count: string }>(
            `SELECT current_setting('search_path') AS search_path, (SELECT count(*) FROM projects)::text AS count`,
          );
          return row;
        }),
      );
      expect(inside).toEqual({ search_path: schemaA, count: '1' });
      expect(await showPath(second)).toBe(defaultPath);

      const failure = await TenantContext.run(tenantA, () =>
        runner
          .run((tx) => tx.query(`INSERT INTO projects (name) VALUES ('')`))
          .then(
            () => null,
            (error: Error) => error,
          ),
      );
      expect(failure).toBeInstanceOf(Error);
      expect(String((failure as { code?: string }).code)).toBe('23514'); // check_violation
      expect(await showPath(second)).toBe(defaultPath);
      const noTable = await second.query<{ projects: string | null }>(
        `SELECT to_regclass('projects')::text AS projects`,
      );
      expect(noTable.rows[0].projects).toBeNull();
    } finally {
      await clusters.close();
    }
  });
});
