import type { QueryRunner } from 'typeorm';
import { quoteTenantSchema, type TenantRef } from '@platform/tenancy';
import type { ClusterConnections } from './cluster-connections';
import { dropTenantRole, ensureTenantRole, tenantRoleName } from './database-roles';
import type { TemplateMigration } from './template-migration';

export interface MigrationOutcome {
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly applied: readonly number[];
}

/** A row of the schema's history table, written once its batch is done. */
interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly durationMs: number;
}

interface MigrationStep {
  readonly version: number;
  readonly direction: 'up' | 'down';
  readonly migration: TemplateMigration;
}

export interface MigratorSettings {
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** The data plane's login, granted the right to switch into every tenant role made here. */
  readonly dataPlaneUser: string;
}

/** The table inside every tenant schema that records which template migrations it has. */
export const TEMPLATE_HISTORY_TABLE = 'template_migrations';
const UNDEFINED_TABLE = '42P01';
const LOCK_POLL_MS = 25;

/**
 * Brings one tenant schema to a template version. Each tenant records its own history inside
 * its schema (like django-tenants), so a schema moved or restored elsewhere keeps its truth.
 *
 * All transactional migrations of one call run in one transaction that holds a per-schema
 * advisory lock, so a fleet run, a provisioning job and a second replica never migrate the same
 * schema at once; whoever waits re-reads the history after getting the lock and finds nothing
 * left to do.
 */
export class TenantSchemaMigrator {
  private readonly byVersion: ReadonlyMap<number, TemplateMigration>;

  constructor(
    private readonly clusters: ClusterConnections,
    private readonly migrations: readonly TemplateMigration[],
    private readonly settings: MigratorSettings,
  ) {
    migrations.forEach((migration, index) => {
      if (migration.version !== index + 1) {
        throw new Error(
          `Template migration ${migration.name} has version ${migration.version}, expected ${index + 1}`,
        );
      }
    });
    this.byVersion = new Map(migrations.map((migration) => [migration.version, migration]));
  }

  get latestVersion(): number {
    return this.migrations.length;
  }

  /** The tenant's role and its schema, owned by that role (see ensureTenantRole). */
  async createSchema(tenant: TenantRef): Promise<void> {
    const client = await this.clusters.pool(tenant.cluster).connect();
    try {
      await ensureTenantRole(client, tenant, this.settings.dataPlaneUser);
    } finally {
      client.release();
    }
  }

  /** Takes the role away with the tenant; the schema stays, owned by the platform (see dropTenantRole). */
  async dropRole(tenant: TenantRef): Promise<void> {
    const client = await this.clusters.pool(tenant.cluster).connect();
    try {
      await dropTenantRole(client, tenant);
    } finally {
      client.release();
    }
  }

  /**
   * The schema's template version as its own history table says (0 when it has none). One
   * round trip, outside any transaction: a fleet run uses it to skip schemas with nothing to do.
   */
  async currentVersion(tenant: TenantRef): Promise<number> {
    const schema = quoteTenantSchema(tenant.schemaName);
    try {
      const [row] = await this.clusters
        .dataSource(tenant.cluster)
        .query<{ version: number }[]>(
          `SELECT coalesce(max(version), 0)::int AS version FROM ${schema}.${TEMPLATE_HISTORY_TABLE}`,
        );
      return row?.version ?? 0;
    } catch (error) {
      if ((error as { driverError?: { code?: string } }).driverError?.code === UNDEFINED_TABLE) {
        return 0;
      }
      throw error;
    }
  }

  /** Applies (or, for a lower target, reverts) migrations until the schema is at `target`. */
  async migrate(tenant: TenantRef, target = this.latestVersion): Promise<MigrationOutcome> {
    if (!Number.isInteger(target) || target < 0 || target > this.latestVersion) {
      throw new Error(
        `Template version ${target} does not exist (latest is ${this.latestVersion})`,
      );
    }
    const seen = await this.currentVersion(tenant);
    if (seen === target) return { fromVersion: seen, toVersion: target, applied: [] };
    const runner = this.clusters.dataSource(tenant.cluster).createQueryRunner();
    await runner.connect();
    // CREATE INDEX CONCURRENTLY waits for every open transaction, including a second caller's
    // that waits (inside its transaction) for our lock: a deadlock. When the plan holds such a
    // migration, callers queue for a session-level lock outside any transaction instead.
    const sessionLock = this.plan(seen, target).some((s) => s.migration.transactional === false)
      ? await this.lockSession(runner, tenant)
      : null;
    try {
      const applied: number[] = [];
      let fromVersion: number | null = null;
      // A non-transactional migration splits the work: batch, that migration alone, next batch.
      for (;;) {
        const batch = await this.runTransactionalBatch(runner, tenant, target);
        fromVersion ??= batch.fromVersion;
        applied.push(...batch.applied);
        if (!batch.blockedBy) return { fromVersion, toVersion: target, applied };
        if (await this.runOutsideTransaction(runner, tenant, batch.blockedBy)) {
          applied.push(batch.blockedBy.version);
        }
      }
    } finally {
      try {
        await sessionLock?.release();
      } finally {
        await runner.release();
      }
    }
  }

  /**
   * A session advisory lock on the schema, undone by release(). Waited for by polling with
   * pg_try_advisory_lock, never inside a statement: a waiting statement holds a snapshot, and
   * CREATE INDEX CONCURRENTLY in the lock holder would wait for it (a deadlock).
   */
  private async lockSession(
    runner: QueryRunner,
    tenant: TenantRef,
  ): Promise<{ release(): Promise<void> }> {
    const lockKey = `tenant-migrate:${tenant.schemaName}`;
    const deadline = Date.now() + this.settings.lockTimeoutMs;
    for (;;) {
      const [row] = (await runner.query(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [lockKey],
      )) as { locked: boolean }[];
      if (row?.locked) break;
      if (Date.now() > deadline) {
        throw new Error(
          `Schema ${tenant.schemaName} is being migrated by someone else (waited ${this.settings.lockTimeoutMs} ms)`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    return {
      release: async () => {
        await runner.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey]);
      },
    };
  }

  private async runTransactionalBatch(
    runner: QueryRunner,
    tenant: TenantRef,
    target: number,
  ): Promise<{ fromVersion: number; applied: number[]; blockedBy: MigrationStep | null }> {
    await runner.startTransaction();
    try {
      await this.enterSchema(runner, tenant);
      const fromVersion = await this.readVersion(runner);
      const applied: number[] = [];
      const history: AppliedMigration[] = [];
      let blockedBy: MigrationStep | null = null;
      for (const step of this.plan(fromVersion, target)) {
        if (step.migration.transactional === false) {
          blockedBy = step;
          break;
        }
        const record = await this.applyStep(runner, step);
        if (record) history.push(record);
        applied.push(step.version);
      }
      await this.recordApplied(runner, history);
      await runner.commitTransaction();
      return { fromVersion, applied, blockedBy };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    }
  }

  /**
   * Migrations PostgreSQL refuses inside a transaction run under the session lock (taken in
   * migrate()) with a session search_path, undone before the connection goes back to the pool.
   * This needs a direct connection to PostgreSQL, not PgBouncer in transaction mode.
   */
  private async runOutsideTransaction(
    runner: QueryRunner,
    tenant: TenantRef,
    step: MigrationStep,
  ): Promise<boolean> {
    await runner.query(`SELECT set_config('search_path', $1, false)`, [
      quoteTenantSchema(tenant.schemaName),
    ]);
    // As the tenant, so that what the migration creates belongs to the tenant's role.
    await runner.query(`SET ROLE ${quoteTenantSchema(tenantRoleName(tenant))}`);
    try {
      const current = await this.readVersion(runner);
      const stillNeeded =
        step.direction === 'up' ? current === step.version - 1 : current === step.version;
      if (stillNeeded) {
        const record = await this.applyStep(runner, step);
        if (record) await this.recordApplied(runner, [record]);
      }
      return stillNeeded;
    } finally {
      await runner.query('RESET ROLE');
      await runner.query('RESET search_path');
    }
  }

  /** The migrations that would take a schema from one version to another, in order. */
  stepsBetween(
    from: number,
    to: number,
  ): { version: number; name: string; direction: 'up' | 'down' }[] {
    return this.plan(from, to).map(({ version, direction, migration }) => ({
      version,
      direction,
      name: migration.name,
    }));
  }

  private plan(current: number, target: number): MigrationStep[] {
    const steps: MigrationStep[] = [];
    for (let version = current + 1; version <= target; version++) {
      steps.push({ version, direction: 'up', migration: this.migrationAt(version) });
    }
    for (let version = current; version > target; version--) {
      steps.push({ version, direction: 'down', migration: this.migrationAt(version) });
    }
    return steps;
  }

  private migrationAt(version: number): TemplateMigration {
    const migration = this.byVersion.get(version);
    if (!migration) {
      throw new Error(`Schema is at template version ${version}, which this build does not know`);
    }
    return migration;
  }

  private async enterSchema(runner: QueryRunner, tenant: TenantRef): Promise<void> {
    const schema = quoteTenantSchema(tenant.schemaName);
    // One round trip. PostgreSQL evaluates a select list left to right: the timeouts are set
    // before the lock is waited for, so that wait is bounded by lock_timeout too. The role:
    // from here on the transaction acts as the tenant, so everything the migrations create (and
    // the history table) is owned by the tenant's role.
    await runner.query(
      `SELECT set_config('search_path', $1, true),
              set_config('lock_timeout', $2, true),
              set_config('statement_timeout', $3, true),
              set_config('role', $4, true),
              pg_advisory_xact_lock(hashtextextended($5, 0))`,
      [
        schema,
        `${this.settings.lockTimeoutMs}`,
        `${this.settings.statementTimeoutMs}`,
        tenantRoleName(tenant),
        `tenant-migrate:${tenant.schemaName}`,
      ],
    );
    // `name` is bounded so that the table needs no TOAST table: per tenant one relation and one
    // index build (with its file sync) fewer. Schemas made before keep their `text` column.
    await runner.query(
      `CREATE TABLE IF NOT EXISTS ${TEMPLATE_HISTORY_TABLE} (
         version integer PRIMARY KEY,
         name varchar(200) NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now(),
         duration_ms integer NOT NULL
       )`,
    );
  }

  private async readVersion(runner: QueryRunner): Promise<number> {
    // QueryRunner.query is untyped (any); the SQL guarantees one row with an int.
    const rows = (await runner.query(
      `SELECT coalesce(max(version), 0)::int AS version FROM ${TEMPLATE_HISTORY_TABLE}`,
    )) as { version: number }[];
    return rows[0]?.version ?? 0;
  }

  /** Runs one migration; for an `up`, returns the history row it is owed (see recordApplied). */
  private async applyStep(
    runner: QueryRunner,
    step: MigrationStep,
  ): Promise<AppliedMigration | null> {
    const { migration } = step;
    const started = Date.now();
    if (step.direction === 'down') {
      await migration.down(runner);
      await runner.query(`DELETE FROM ${TEMPLATE_HISTORY_TABLE} WHERE version = $1`, [
        migration.version,
      ]);
      return null;
    }
    await migration.up(runner);
    return { version: migration.version, name: migration.name, durationMs: Date.now() - started };
  }

  /**
   * The history rows of the migrations applied in this transaction, in one statement before
   * its commit (a new schema gets all its rows in one round trip instead of one per migration).
   */
  private async recordApplied(
    runner: QueryRunner,
    rows: readonly AppliedMigration[],
  ): Promise<void> {
    if (rows.length === 0) return;
    await runner.query(
      `INSERT INTO ${TEMPLATE_HISTORY_TABLE} (version, name, duration_ms)
       SELECT * FROM unnest($1::int[], $2::text[], $3::int[])`,
      [
        rows.map((row) => row.version),
        rows.map((row) => row.name),
        rows.map((row) => row.durationMs),
      ],
    );
  }
}
