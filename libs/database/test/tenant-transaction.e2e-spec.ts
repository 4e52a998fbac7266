/**
 * The tenant transaction helper against a real PostgreSQL, on a pool of ONE connection so that
 * whatever a transaction leaves behind, the next one meets: every tenant sees only its own
 * schema, writes commit, and a statement, a read-only violation, a statement timeout or a
 * failing COMMIT each end in an error with the connection handed back clean (no tenant path, no
 * open transaction, the server's own settings).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Secret } from '@platform/config';
import { TenantContext, schemaNameForTenant, type TenantRef } from '@platform/tenancy';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import { ClusterConnections } from '../src/cluster-connections';
import { ensureTenantRole, prepareDataPlaneLogin } from '../src/database-roles';
import { TenantTransactionRunner } from '../src/tenant-transaction';

const TIMEOUT_MS = 300;
const DATA_PLANE_USER = 'platform_data_plane';

function newTenant(): TenantRef {
  const id = randomUUID();
  return { id, slug: `s${id.slice(0, 8)}`, schemaName: schemaNameForTenant(id), cluster: 'main' };
}

/** A new database, an owner's client on it, and the data plane's login prepared there. */
async function databaseWithDataPlaneLogin(
  prefix: string,
): Promise<{ database: TestDatabase; admin: Client }> {
  const database = await createTestDatabase(prefix);
  const admin = new Client({ connectionString: database.url });
  await admin.connect();
  await prepareDataPlaneLogin(
    admin,
    { user: DATA_PLANE_USER, password: null },
    { holdsRegistry: false, registrySchema: 'platform' },
  );
  return { database, admin };
}

interface Item {
  label: string;
}

/** A tenant schema owned by its role, with an `items` table holding `labels`. */
async function tenantWithItems(admin: Client, tenant: TenantRef, labels: readonly string[]) {
  await admin.query(`CREATE SCHEMA "${tenant.schemaName}"`);
  await admin.query(`CREATE TABLE "${tenant.schemaName}".items (label text PRIMARY KEY)`);
  for (const label of labels) {
    await admin.query(`INSERT INTO "${tenant.schemaName}".items VALUES ($1)`, [label]);
  }
  await ensureTenantRole(admin, tenant, DATA_PLANE_USER);
}

/**
 * A runner on a pool of ONE connection of `database` (kept in `opened`, to be closed), and a way
 * to run SQL on that same connection between its transactions.
 */
async function singleConnection(
  database: TestDatabase,
  opened: ClusterConnections[],
  preparedStatementsPerConnection: number,
) {
  const clusters = new ClusterConnections(
    [{ name: 'main', url: new Secret(database.url) }],
    { size: 1, maxUses: 10_000, maxLifetimeSeconds: 600 },
    'tenant-transaction-single-connection',
  );
  opened.push(clusters);
  await clusters.connect();
  const runner = new TenantTransactionRunner(clusters, {
    statementTimeoutMs: TIMEOUT_MS,
    preparedStatements: true,
    preparedStatementsPerConnection,
  });
  const onTheConnection = async <R extends object>(sql: string): Promise<R[]> => {
    const client = await clusters.pool('main').connect();
    try {
      return (await client.query<R>(sql)).rows;
    } finally {
      client.release();
    }
  };
  return { runner, onTheConnection };
}

interface SessionState {
  pid: number;
  searchPath: string;
  statementTimeout: string;
  transactionReadOnly: string;
  items: string | null;
  inTransaction: boolean;
}

describe.each([
  ['prepared once per connection', true],
  ['as literal SQL', false],
])(
  'TenantTransactionRunner, tenant entered %s (real PostgreSQL, one pooled connection)',
  (_mode, preparedStatements) => {
    let database: TestDatabase;
    let clusters: ClusterConnections;
    let runner: TenantTransactionRunner;
    let admin: Client;
    let defaults: SessionState;
    const a = newTenant();
    const b = newTenant();

    /** What the single pooled connection carries between transactions. */
    const pooledSession = async (): Promise<SessionState> => {
      const client = await clusters.pool('main').connect();
      try {
        const { rows } = await client.query<SessionState>(
          `SELECT pg_backend_pid() AS pid,
                current_setting('search_path') AS "searchPath",
                current_setting('statement_timeout') AS "statementTimeout",
                current_setting('transaction_read_only') AS "transactionReadOnly",
                to_regclass('items')::text AS items,
                (SELECT xact_start <> query_start FROM pg_stat_activity
                  WHERE pid = pg_backend_pid()) AS "inTransaction"`,
        );
        return rows[0];
      } finally {
        client.release();
      }
    };

    const as = <T>(tenant: TenantRef, work: () => Promise<T>): Promise<T> =>
      TenantContext.run(tenant, work);

    const failure = (promise: Promise<unknown>): Promise<{ code?: string; message: string }> =>
      promise.then(
        () => {
          throw new Error('expected the transaction to fail');
        },
        (error: { code?: string; message: string }) => error,
      );

    beforeAll(async () => {
      ({ database, admin } = await databaseWithDataPlaneLogin('tenant_tx'));
      for (const [tenant, labels] of [
        [a, ['a-1', 'a-2']],
        [b, ['b-1']],
      ] as const) {
        const schema = `"${tenant.schemaName}"`;
        await admin.query(`CREATE SCHEMA ${schema}`);
        await admin.query(
          `CREATE TABLE ${schema}.items (label text PRIMARY KEY CHECK (label <> ''))`,
        );
        await admin.query(`CREATE TABLE ${schema}.parents (id int PRIMARY KEY)`);
        await admin.query(
          `CREATE TABLE ${schema}.children (parent_id int REFERENCES ${schema}.parents
           DEFERRABLE INITIALLY DEFERRED)`,
        );
        for (const label of labels) {
          await admin.query(`INSERT INTO ${schema}.items VALUES ($1)`, [label]);
        }
        // Tenant transactions act as the tenant's role: it takes the schema over.
        await ensureTenantRole(admin, tenant, DATA_PLANE_USER);
      }
      clusters = new ClusterConnections(
        [{ name: 'main', url: new Secret(database.url) }],
        { size: 1, maxUses: 10_000, maxLifetimeSeconds: 600 },
        'tenant-transaction-test',
      );
      await clusters.connect();
      runner = new TenantTransactionRunner(clusters, {
        statementTimeoutMs: TIMEOUT_MS,
        preparedStatements,
        preparedStatementsPerConnection: preparedStatements ? 500 : 0,
      });
      defaults = await pooledSession();
    });

    afterAll(async () => {
      await admin?.end();
      await clusters?.close();
      await database?.drop();
    });

    afterEach(async () => {
      // Whatever the test did, the one connection is the same backend, back to its defaults.
      expect(await pooledSession()).toEqual(defaults);
    });

    it('starts from a connection without any tenant path', () => {
      expect(defaults.items).toBeNull();
      expect(defaults.inTransaction).toBe(false);
      expect(defaults.statementTimeout).not.toBe(`${TIMEOUT_MS}ms`);
    });

    it("reads each tenant's own schema through the unqualified table name", async () => {
      const sql = 'SELECT label FROM items ORDER BY label';
      expect(await as(a, () => runner.query<Item>(sql))).toEqual([
        { label: 'a-1' },
        { label: 'a-2' },
      ]);
      expect(await as(b, () => runner.query<Item>(sql, [], { readOnly: true }))).toEqual([
        { label: 'b-1' },
      ]);
    });

    it('runs the statement with the tenant path, the timeout and the read-only mode set locally', async () => {
      const [inside] = await as(a, () =>
        runner.query<{ path: string; timeout: string; readOnly: string; param: string }>(
          `SELECT current_setting('search_path') AS path,
                current_setting('statement_timeout') AS timeout,
                current_setting('transaction_read_only') AS "readOnly",
                $1::timestamptz::text AS param`,
          [new Date('2026-01-02T03:04:05.000Z')],
          { readOnly: true },
        ),
      );
      expect(inside).toEqual({
        path: a.schemaName,
        timeout: `${TIMEOUT_MS}ms`,
        readOnly: 'on',
        param: expect.stringMatching(/^2026-01-02 03:04:05(\+00)?/),
      });
    });

    it('commits a write and returns its rows', async () => {
      const inserted = await as(b, () =>
        runner.query<Item>('INSERT INTO items VALUES ($1) RETURNING label', ['b-2']),
      );
      expect(inserted).toEqual([{ label: 'b-2' }]);
      const stored = await admin.query<Item>(
        `SELECT label FROM "${b.schemaName}".items ORDER BY label`,
      );
      expect(stored.rows).toEqual([{ label: 'b-1' }, { label: 'b-2' }]);
      const other = await admin.query(`SELECT 1 FROM "${a.schemaName}".items WHERE label = 'b-2'`);
      expect(other.rowCount).toBe(0);
    });

    it('fails a statement error, keeps nothing of it, and serves the other tenant next', async () => {
      const error = await failure(
        as(a, () => runner.query("INSERT INTO items VALUES ('a-3'), ('') RETURNING label")),
      );
      expect(error.code).toBe('23514'); // check_violation
      const stored = await admin.query(`SELECT 1 FROM "${a.schemaName}".items WHERE label = 'a-3'`);
      expect(stored.rowCount).toBe(0);
      expect(
        await as(b, () => runner.query<Item>('SELECT label FROM items WHERE label = $1', ['b-1'])),
      ).toEqual([{ label: 'b-1' }]);
    });

    it('refuses a write in a read-only transaction', async () => {
      const error = await failure(
        as(a, () => runner.query("INSERT INTO items VALUES ('a-4')", [], { readOnly: true })),
      );
      expect(error.code).toBe('25006'); // read_only_sql_transaction
    });

    it('cancels a statement that runs past the timeout', async () => {
      const error = await failure(as(a, () => runner.query('SELECT pg_sleep(5)')));
      expect(error.code).toBe('57014'); // query_canceled by statement_timeout
    });

    it('fails when the COMMIT itself fails, and keeps nothing', async () => {
      // The foreign key is deferred: the INSERT succeeds and the COMMIT refuses it.
      const error = await failure(
        as(b, () => runner.query('INSERT INTO children VALUES (42) RETURNING parent_id')),
      );
      expect(error.code).toBe('23503'); // foreign_key_violation
      const stored = await admin.query(`SELECT 1 FROM "${b.schemaName}".children`);
      expect(stored.rowCount).toBe(0);
    });

    it('answers many queued transactions of two tenants on the one connection with their own rows', async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          const tenant = i % 2 === 0 ? a : b;
          return as(tenant, async () => ({
            tenant,
            labels: (
              await runner.query<Item>('SELECT label FROM items', [], { readOnly: i % 3 === 0 })
            ).map((row) => row.label),
          }));
        }),
      );
      for (const { tenant, labels } of results) {
        expect(labels.length).toBeGreaterThan(0);
        const prefix = tenant === a ? 'a-' : 'b-';
        expect(labels.every((label) => label.startsWith(prefix))).toBe(true);
      }
    });

    it('refuses to run without a tenant context', async () => {
      await expect(runner.query('SELECT 1')).rejects.toThrow(/No tenant context/);
    });

    it(`${preparedStatements ? 'keeps' : 'never makes'} the prepared statements on the connection`, async () => {
      const client = await clusters.pool('main').connect();
      try {
        const { rows } = await client.query<{ name: string }>(
          'SELECT name FROM pg_prepared_statements ORDER BY name',
        );
        const names = rows.map((row) => row.name);
        expect(names.filter((name) => name.startsWith('platform_'))).toEqual(
          preparedStatements ? ['platform_enter_tenant', 'platform_enter_tenant_read_only'] : [],
        );
        // The tenants' own statements: the one text read by both tenants is one statement each.
        const tenantStatements = names.filter((name) => !name.startsWith('platform_'));
        if (preparedStatements) {
          expect(tenantStatements).toEqual(
            expect.arrayContaining([
              expect.stringMatching(new RegExp(`^tq[0-9a-z]+_${a.schemaName}$`)),
              expect.stringMatching(new RegExp(`^tq[0-9a-z]+_${b.schemaName}$`)),
            ]),
          );
        } else {
          expect(tenantStatements).toEqual([]);
        }
      } finally {
        client.release();
      }
      expect(runner.usesPreparedStatements).toBe(preparedStatements);
    });
  },
);

/**
 * A pooler in transaction mode hands one client connection whichever server session is free, so
 * a statement prepared in one session may be missing in the next (26000), or a Parse may meet a
 * session that already holds the name (42P05). Both are staged here on one connection, by
 * dropping or taking the name behind the runner's back: the request is still answered, and
 * every later one is sent unprepared.
 */
describe('TenantTransactionRunner with prepared statements, when a session does not hold them', () => {
  let database: TestDatabase;
  let admin: Client;
  const tenant = newTenant();
  const opened: ClusterConnections[] = [];

  /** A runner on one connection; these tests are about the statement that enters the tenant. */
  const singleConnectionRunner = async () => {
    const { runner, onTheConnection } = await singleConnection(database, opened, 0);
    const labels = async () =>
      (
        await TenantContext.run(tenant, () =>
          runner.query<Item>('SELECT label FROM items ORDER BY label', [], { readOnly: true }),
        )
      ).map((row) => row.label);
    return { runner, onTheConnection, labels };
  };

  beforeAll(async () => {
    ({ database, admin } = await databaseWithDataPlaneLogin('tenant_tx_prepared'));
    await tenantWithItems(admin, tenant, ['p-1', 'p-2']);
  });

  afterAll(async () => {
    for (const clusters of opened) await clusters.close();
    await admin?.end();
    await database?.drop();
  });

  it('answers a request whose session lost the statement (26000), and stops preparing', async () => {
    const { runner, onTheConnection, labels } = await singleConnectionRunner();
    expect(await labels()).toEqual(['p-1', 'p-2']);
    expect(await onTheConnection('SELECT name FROM pg_prepared_statements')).toEqual([
      { name: 'platform_enter_tenant_read_only' },
    ]);
    await onTheConnection('DEALLOCATE ALL');

    expect(await labels()).toEqual(['p-1', 'p-2']);
    expect(runner.usesPreparedStatements).toBe(false);
    expect(await onTheConnection('SELECT name FROM pg_prepared_statements')).toEqual([]);
  });

  it('answers a request whose session already holds the name (42P05), and stops preparing', async () => {
    const { runner, onTheConnection, labels } = await singleConnectionRunner();
    await onTheConnection('PREPARE platform_enter_tenant_read_only AS SELECT 1');

    expect(await labels()).toEqual(['p-1', 'p-2']);
    expect(runner.usesPreparedStatements).toBe(false);
  });

  it('keeps preparing after a statement error in the batch that prepared', async () => {
    const { runner, labels } = await singleConnectionRunner();
    const error = await TenantContext.run(tenant, () =>
      runner.query('SELECT label FROM no_such_table', [], { readOnly: true }),
    ).then(
      () => null,
      (failed: { code?: string }) => failed,
    );
    expect(error?.code).toBe('42P01'); // undefined_table

    expect(await labels()).toEqual(['p-1', 'p-2']);
    expect(runner.usesPreparedStatements).toBe(true);
  });
});

/**
 * With DATABASE_PREPARED_STATEMENTS_PER_CONNECTION above 0, each tenant's own statements are
 * prepared once per connection too, one per text and tenant schema. On one pooled connection:
 * each tenant is answered from its own schema, failures leave the connection and its records
 * right, and a schema change that alters what a prepared statement returns is survived.
 */
describe("TenantTransactionRunner, the tenants' own statements prepared per connection", () => {
  let database: TestDatabase;
  let admin: Client;
  const x = newTenant();
  const y = newTenant();
  const opened: ClusterConnections[] = [];
  const LIST = 'SELECT label FROM items ORDER BY label LIMIT $1';

  const as = <T>(tenant: TenantRef, work: () => Promise<T>) => TenantContext.run(tenant, work);

  const singleConnectionRunner = async (statementsPerConnection: number) => {
    const { runner, onTheConnection } = await singleConnection(
      database,
      opened,
      statementsPerConnection,
    );
    const tenantStatements = async () =>
      (
        await onTheConnection<{ name: string; generic: string; custom: string }>(
          `SELECT name, generic_plans AS generic, custom_plans AS custom
             FROM pg_prepared_statements WHERE name LIKE 'tq%' ORDER BY name`,
        )
      ).map((row) => ({ ...row, generic: Number(row.generic), custom: Number(row.custom) }));
    const backend = async () =>
      (await onTheConnection<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid;
    const labels = async (tenant: TenantRef, options = {}) =>
      (await as(tenant, () => runner.query<Item>(LIST, [10], { readOnly: true, ...options }))).map(
        (row) => row.label,
      );
    return { runner, tenantStatements, backend, labels };
  };

  beforeAll(async () => {
    ({ database, admin } = await databaseWithDataPlaneLogin('tenant_statements'));
    await tenantWithItems(admin, x, ['x-1', 'x-2']);
    await tenantWithItems(admin, y, ['y-1']);
  });

  afterAll(async () => {
    for (const clusters of opened) await clusters.close();
    await admin?.end();
    await database?.drop();
  });

  it('prepares a text once per tenant and connection, and answers each tenant from its own schema', async () => {
    const { tenantStatements, backend, labels } = await singleConnectionRunner(10);
    const pid = await backend();
    for (let round = 0; round < 3; round += 1) {
      expect(await labels(x)).toEqual(['x-1', 'x-2']);
      expect(await labels(y)).toEqual(['y-1']);
    }
    const names = (await tenantStatements()).map((statement) => statement.name);
    expect(names).toHaveLength(2);
    expect(names.find((name) => name.endsWith(x.schemaName))).toBeTruthy();
    expect(names.find((name) => name.endsWith(y.schemaName))).toBeTruthy();
    expect(await backend()).toBe(pid);
  });

  it('runs the generic plan only when asked, and plans each run otherwise', async () => {
    const { tenantStatements, labels } = await singleConnectionRunner(10);
    for (let run = 0; run < 6; run += 1) {
      expect(await labels(x, { genericPlan: true })).toEqual(['x-1', 'x-2']);
      expect(await labels(y)).toEqual(['y-1']);
    }
    const [ofX] = (await tenantStatements()).filter((s) => s.name.endsWith(x.schemaName));
    const [ofY] = (await tenantStatements()).filter((s) => s.name.endsWith(y.schemaName));
    expect(ofX).toMatchObject({ generic: 6, custom: 0 });
    // Left to itself, PostgreSQL plans `LIMIT $1` for every value it is given.
    expect(ofY).toMatchObject({ generic: 0, custom: 6 });
  });

  it('keeps at most the configured number per connection; past it, statements go unnamed', async () => {
    const { tenantStatements, labels } = await singleConnectionRunner(1);
    expect(await labels(x)).toEqual(['x-1', 'x-2']);
    expect(await labels(y)).toEqual(['y-1']);
    expect(await labels(y)).toEqual(['y-1']);
    expect(await labels(x)).toEqual(['x-1', 'x-2']);
    const names = (await tenantStatements()).map((statement) => statement.name);
    expect(names).toEqual([expect.stringMatching(new RegExp(`_${x.schemaName}$`))]);
  });

  it('keeps the connection when a batch fails after or at the first Parse, and prepares again', async () => {
    const { runner, tenantStatements, backend } = await singleConnectionRunner(10);
    const insert = (tenant: TenantRef, label: string) =>
      as(tenant, () =>
        runner.query<Item>('INSERT INTO items VALUES ($1) RETURNING label', [label]),
      ).then(
        (rows) => rows,
        (error: { code?: string }) => error.code,
      );
    // The connection's first batch prepares the statement that enters the tenant; one that
    // failed would take the connection with it (whether the session holds that one is unknown).
    expect(await insert(x, 'x-3')).toEqual([{ label: 'x-3' }]);
    const pid = await backend();
    // y's first insert fails at Execute: PostgreSQL holds the statement, though the batch failed.
    expect(await insert(y, 'y-1')).toBe('23505');
    expect(await insert(y, 'y-2')).toEqual([{ label: 'y-2' }]);
    // Fails at Parse: PostgreSQL holds nothing of it.
    const unknown = await as(y, () =>
      runner.query('SELECT no_such_column FROM items WHERE label = $1', ['y-1']),
    ).then(
      () => null,
      (error: { code?: string }) => error.code,
    );
    expect(unknown).toBe('42703');
    expect(await backend()).toBe(pid);
    expect(runner.usesPreparedStatements).toBe(true);
    // The insert, once for each tenant.
    const names = (await tenantStatements()).map((statement) => statement.name);
    expect(names).toHaveLength(2);
    await admin.query(`DELETE FROM "${x.schemaName}".items WHERE label = 'x-3'`);
    await admin.query(`DELETE FROM "${y.schemaName}".items WHERE label = 'y-2'`);
  });

  it('answers from a new connection when a schema change altered what a prepared statement returns', async () => {
    const { runner, backend, tenantStatements } = await singleConnectionRunner(10);
    const read = () =>
      as(y, () => runner.query<Item>('SELECT label FROM items WHERE label = $1', ['y-1']));
    expect(await read()).toEqual([{ label: 'y-1' }]);
    const pid = await backend();
    await admin.query(`ALTER TABLE "${y.schemaName}".items ALTER COLUMN label TYPE varchar(100)`);
    try {
      expect(await read()).toEqual([{ label: 'y-1' }]);
      expect(await backend()).not.toBe(pid);
      expect(runner.usesPreparedStatements).toBe(true);
      // The retry went unnamed; the next request prepares the statement on the new connection.
      expect(await tenantStatements()).toEqual([]);
      expect(await read()).toEqual([{ label: 'y-1' }]);
      expect((await tenantStatements()).map((statement) => statement.name)).toEqual([
        expect.stringMatching(new RegExp(`_${y.schemaName}$`)),
      ]);
    } finally {
      await admin.query(`ALTER TABLE "${y.schemaName}".items ALTER COLUMN label TYPE text`);
    }
  });
});
