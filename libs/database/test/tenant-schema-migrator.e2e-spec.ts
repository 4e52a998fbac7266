/**
 * The tenant-schema migrator against a real PostgreSQL: per-schema history, concurrent callers,
 * rollback, and migrations that cannot run inside a transaction.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { QueryRunner } from 'typeorm';
import { Secret } from '@platform/config';
import { schemaNameForTenant, type TenantRef } from '@platform/tenancy';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import { ClusterConnections } from '../src/cluster-connections';
import { prepareDataPlaneLogin } from '../src/database-roles';
import type { TemplateMigration } from '../src/template-migration';
import { TenantSchemaMigrator } from '../src/tenant-schema-migrator';

const DATA_PLANE_USER = 'platform_data_plane';

class CreateItems implements TemplateMigration {
  readonly version = 1;
  readonly name = 'CreateItems';
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)');
  }
  async down(runner: QueryRunner) {
    await runner.query('DROP TABLE items');
  }
}

/** PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction block. */
class IndexItemsConcurrently implements TemplateMigration {
  readonly version = 2;
  readonly name = 'IndexItemsConcurrently';
  readonly transactional = false;
  async up(runner: QueryRunner) {
    await runner.query('CREATE INDEX CONCURRENTLY IF NOT EXISTS items_label_idx ON items (label)');
  }
  async down(runner: QueryRunner) {
    await runner.query('DROP INDEX CONCURRENTLY IF EXISTS items_label_idx');
  }
}

class AddNote implements TemplateMigration {
  readonly version = 3;
  readonly name = 'AddNote';
  async up(runner: QueryRunner) {
    await runner.query('ALTER TABLE items ADD COLUMN note text');
  }
  async down(runner: QueryRunner) {
    await runner.query('ALTER TABLE items DROP COLUMN note');
  }
}

describe('TenantSchemaMigrator (real PostgreSQL)', () => {
  let database: TestDatabase;
  let clusters: ClusterConnections;
  let migrator: TenantSchemaMigrator;
  let admin: Client;

  const tenant = (): TenantRef => {
    const id = randomUUID();
    return { id, slug: `s${id.slice(0, 8)}`, schemaName: schemaNameForTenant(id), cluster: 'main' };
  };

  const history = async (schema: string) =>
    (
      await admin.query<{ version: number }>(
        `SELECT version FROM "${schema}".template_migrations ORDER BY version`,
      )
    ).rows.map((row) => row.version);

  beforeAll(async () => {
    database = await createTestDatabase('migrator');
    clusters = new ClusterConnections(
      [{ name: 'main', url: new Secret(database.url) }],
      { size: 6, maxUses: 1000, maxLifetimeSeconds: 60 },
      'migrator-test',
    );
    await clusters.connect();
    migrator = new TenantSchemaMigrator(
      clusters,
      [new CreateItems(), new IndexItemsConcurrently(), new AddNote()],
      { lockTimeoutMs: 5_000, statementTimeoutMs: 30_000, dataPlaneUser: DATA_PLANE_USER },
    );
    admin = new Client({ connectionString: database.url });
    await admin.connect();
    await prepareDataPlaneLogin(
      admin,
      { user: DATA_PLANE_USER, password: null },
      { holdsRegistry: false, registrySchema: 'platform' },
    );
  });

  afterAll(async () => {
    await admin?.end();
    await clusters?.close();
    await database?.drop();
  });

  it('refuses a migration list with gaps', () => {
    expect(
      () =>
        new TenantSchemaMigrator(clusters, [new CreateItems(), new AddNote()], {
          lockTimeoutMs: 1,
          statementTimeoutMs: 1,
          dataPlaneUser: DATA_PLANE_USER,
        }),
    ).toThrow(/expected 2/);
  });

  it('applies transactional and non-transactional migrations and records each in the schema', async () => {
    const ref = tenant();
    await migrator.createSchema(ref);
    const outcome = await migrator.migrate(ref);
    expect(outcome).toEqual({ fromVersion: 0, toVersion: 3, applied: [1, 2, 3] });
    expect(await history(ref.schemaName)).toEqual([1, 2, 3]);
    const index = await admin.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = 'items_label_idx'`,
      [ref.schemaName],
    );
    expect(index.rows).toEqual([{ valid: true }]);
    // The session settings used for the non-transactional step did not stay on the pool.
    const pooled = await clusters.pool('main').connect();
    try {
      const path = await pooled.query<{ search_path: string }>('SHOW search_path');
      expect(path.rows[0].search_path).not.toContain(ref.schemaName);
    } finally {
      pooled.release();
    }
  });

  it('writes one history row per migration with its name and time, in a table without TOAST', async () => {
    const ref = tenant();
    await migrator.createSchema(ref);
    await migrator.migrate(ref, 1);
    await migrator.migrate(ref);
    const { rows } = await admin.query<{ version: number; name: string; ms: number }>(
      `SELECT version, name, duration_ms AS ms FROM "${ref.schemaName}".template_migrations
        ORDER BY version`,
    );
    expect(rows.map(({ version, name }) => [version, name])).toEqual([
      [1, 'CreateItems'],
      [2, 'IndexItemsConcurrently'],
      [3, 'AddNote'],
    ]);
    for (const row of rows) expect(row.ms).toBeGreaterThanOrEqual(0);
    // A bounded name column: no TOAST table (and its index) per tenant.
    const toast = await admin.query<{ toast: string }>(
      `SELECT reltoastrelid::int AS toast FROM pg_class
        WHERE oid = to_regclass($1)`,
      [`"${ref.schemaName}".template_migrations`],
    );
    expect(toast.rows).toEqual([{ toast: 0 }]);
  });

  it("bounds the wait for another caller's schema lock by lock_timeout", async () => {
    const ref = tenant();
    await migrator.createSchema(ref);
    const impatient = new TenantSchemaMigrator(clusters, [new CreateItems()], {
      lockTimeoutMs: 200,
      statementTimeoutMs: 30_000,
      dataPlaneUser: DATA_PLANE_USER,
    });
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `tenant-migrate:${ref.schemaName}`,
      ]);
      await expect(impatient.migrate(ref)).rejects.toThrow(/lock timeout/);
      await holder.query('ROLLBACK');
      // Nothing was applied while waiting; once the lock is free the same call goes through.
      expect(await impatient.currentVersion(ref)).toBe(0);
      expect(await impatient.migrate(ref)).toMatchObject({ fromVersion: 0, applied: [1] });
    } finally {
      await holder.end();
    }
  });

  it('lets concurrent callers apply each migration once', async () => {
    const ref = tenant();
    await migrator.createSchema(ref);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => migrator.migrate(ref)));
    const applied = outcomes.flatMap((outcome) => outcome.applied).sort();
    expect(applied).toEqual([1, 2, 3]);
    expect(await history(ref.schemaName)).toEqual([1, 2, 3]);
  });

  it('rolls back to an older version and forward again', async () => {
    const ref = tenant();
    await migrator.createSchema(ref);
    await migrator.migrate(ref);
    expect(await migrator.migrate(ref, 1)).toMatchObject({ toVersion: 1, applied: [3, 2] });
    expect(await history(ref.schemaName)).toEqual([1]);
    expect(await migrator.currentVersion(ref)).toBe(1);
    expect(await migrator.migrate(ref)).toMatchObject({ fromVersion: 1, applied: [2, 3] });
    expect(await history(ref.schemaName)).toEqual([1, 2, 3]);
  });

  it('leaves the schema untouched when a migration fails', async () => {
    const ref = tenant();
    await migrator.createSchema(ref);
    await migrator.migrate(ref, 2);
    await admin.query(`ALTER TABLE "${ref.schemaName}".items ADD COLUMN note int`);
    await expect(migrator.migrate(ref)).rejects.toThrow(/note/);
    expect(await history(ref.schemaName)).toEqual([1, 2]);
  });

  const owners = async (schema: string) =>
    (
      await admin.query<{ object: string; owner: string }>(
        `SELECT 'schema' AS object, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1
         UNION ALL
         SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind IN ('r', 'S')
         ORDER BY 1`,
        [schema],
      )
    ).rows;

  it('creates a new schema owned by the tenant role, and hands over one that was already there', async () => {
    const fresh = tenant();
    await migrator.createSchema(fresh);
    expect(await owners(fresh.schemaName)).toEqual([{ object: 'schema', owner: fresh.schemaName }]);

    // Made before tenant roles existed (or by hand): the platform's login owns schema and table.
    const older = tenant();
    await admin.query(`CREATE SCHEMA "${older.schemaName}"`);
    await admin.query(`CREATE TABLE "${older.schemaName}".legacy (id serial PRIMARY KEY)`);
    const { rows } = await admin.query<{ login: string }>('SELECT current_user AS login');
    expect(await owners(older.schemaName)).toContainEqual({
      object: 'legacy',
      owner: rows[0].login,
    });

    await migrator.createSchema(older);
    expect(await owners(older.schemaName)).toEqual([
      { object: 'legacy', owner: older.schemaName },
      { object: 'legacy_id_seq', owner: older.schemaName },
      { object: 'schema', owner: older.schemaName },
    ]);
    // Idempotent: a second call leaves everything as it is.
    await migrator.createSchema(older);
    expect(await owners(older.schemaName)).toHaveLength(3);
  });

  it('refuses a target version that does not exist', async () => {
    await expect(migrator.migrate(tenant(), 9)).rejects.toThrow(/does not exist/);
  });
});
